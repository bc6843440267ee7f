# gunicorn settings for surveyapp (docs/operations.md): `gunicorn -c deploy/gunicorn.conf.py`.
# Every value can be overridden on the command line; the log settings are the point here.
import multiprocessing
import os

wsgi_app = "surveyapp:create_app()"
bind = os.environ.get("SURVEYAPP_BIND", "127.0.0.1:8000")
# Sync workers behind a buffering proxy (nginx): cores + 1 when PostgreSQL shares the
# machine (BENCHMARKS.md), 2 x cores + 1 when it has its own server.
workers = int(os.environ.get("SURVEYAPP_WORKERS", multiprocessing.cpu_count() + 1))
# The proxy's address: X-Forwarded-* are read by the app itself (SURVEYAPP_PROXY_HOPS).
forwarded_allow_ips = "127.0.0.1"

# Logs with no resident in them: no address, user agent, referrer, header or query string,
# and invitation codes and tokens masked in paths (surveyapp/gunicorn_log.py).
logger_class = "surveyapp.gunicorn_log.PrivateGunicornLogger"
accesslog = os.environ.get("SURVEYAPP_ACCESS_LOG", "-")
errorlog = os.environ.get("SURVEYAPP_ERROR_LOG", "-")
access_log_format = '%(t)s "%(r)s" %(s)s %(b)s %(M)sms'
