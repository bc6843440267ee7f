"""Settings from ``SURVEYAPP_*`` environment variables, gathered into one mapping."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent

ENVIRONMENTS = ("development", "testing", "production")

# Secrets that ship in this repository or in examples; refused outside development.
KNOWN_DEFAULT_SECRETS = frozenset(
    {"", "dev", "secret", "change-me", "changeme", "development-only-secret-key"}
)
DEVELOPMENT_SECRET = "development-only-secret-key"


class ConfigurationError(RuntimeError):
    """The app cannot start with these settings."""


def derived_code_key(secret_key: str) -> str:
    """The code-hash key that follows from the secret key when none is set of its own."""
    return hmac.new(secret_key.encode(), b"surveyapp invitation codes", hashlib.sha256).hexdigest()


def _check_production_secrets(config: Mapping[str, Any]) -> None:
    """Refuse a missing, default or short secret key (and a weak code key, if one is set)."""
    secret = config["SECRET_KEY"] or ""
    if secret in KNOWN_DEFAULT_SECRETS or len(secret) < 32:
        raise ConfigurationError(
            "SURVEYAPP_SECRET_KEY is missing, a known default, or shorter than 32 "
            "characters. Generate one with: "
            'python -c "import secrets; print(secrets.token_urlsafe(48))"'
        )
    code_key = config["CODE_KEY"]
    if code_key and (code_key in KNOWN_DEFAULT_SECRETS or len(code_key) < 32):
        raise ConfigurationError(
            "SURVEYAPP_CODE_KEY is a known default or shorter than 32 characters."
        )


def read_environment(
    environ: Mapping[str, str] | None = None, instance_path: Path | None = None
) -> dict[str, Any]:
    """The settings named by ``SURVEYAPP_*`` variables, with their defaults, not yet checked.

    Commands that only read files (instrument checks and exports, translation catalogs)
    fall back to these when the app refuses to start (no secret), as they need none;
    :func:`load_config` is what the app starts from.
    """
    env = os.environ if environ is None else environ
    instance = instance_path or PROJECT_ROOT / "instance"
    config: dict[str, Any] = {
        "ENV_NAME": env.get("SURVEYAPP_ENV", "production"),
        "SECRET_KEY": env.get("SURVEYAPP_SECRET_KEY"),
        # Key of the invitation-code and resume hashes (surveyapp/respond/codes.py). Derived
        # from the secret key unless set: set it before ever rotating the secret key, or
        # the letters already sent stop working.
        "CODE_KEY": env.get("SURVEYAPP_CODE_KEY"),
        "DATABASE_URL": env.get(
            "SURVEYAPP_DATABASE_URL", f"sqlite:///{instance / 'surveyapp.sqlite'}"
        ),
        "INSTRUMENTS_DIR": Path(env.get("SURVEYAPP_INSTRUMENTS_DIR", PROJECT_ROOT / "instruments")),
        "BASE_URL": env.get("SURVEYAPP_BASE_URL", "http://127.0.0.1:5000"),
        "BABEL_DEFAULT_LOCALE": env.get("SURVEYAPP_DEFAULT_LANGUAGE", "en"),
        "BABEL_TRANSLATION_DIRECTORIES": env.get(
            "SURVEYAPP_TRANSLATIONS_DIR", str(PROJECT_ROOT / "translations")
        ),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # The cookie is sent again only when the session changes, not re-signed on every
        # page save; a staff sign-in then lasts 31 days from signing in, not from last use.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "WTF_CSRF_TIME_LIMIT": None,
        # A questionnaire page is a few kilobytes; anything much larger is refused with 413.
        "MAX_CONTENT_LENGTH": 64 * 1024,
        # Resident pages are compressed by the app (Flask-Compress), staying under 30 KB.
        "COMPRESS_MIMETYPES": ["text/html", "text/css", "text/javascript", "application/json"],
        "COMPRESS_MIN_SIZE": 256,
        # Flask-Compress's stream compression never closes the wrapped response (an open file
        # for static files); static files are buffered instead (see create_app).
        "COMPRESS_STREAMS": False,
        "RATELIMIT_STORAGE_URI": env.get("SURVEYAPP_RATELIMIT_STORAGE_URI"),
        "RATELIMIT_HEADERS_ENABLED": False,
        # The background jobs' queue (surveyapp/jobs): set by load_config unless given.
        "JOBS_URL": env.get("SURVEYAPP_JOBS_URL"),
        "INSTANCE_PATH": instance,
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted.
        "PROXY_HOPS": int(env.get("SURVEYAPP_PROXY_HOPS", "0") or 0),
        # A staff session ends after this long without a request (and at sign-out).
        "STAFF_IDLE_MINUTES": int(env.get("SURVEYAPP_STAFF_IDLE_MINUTES", "60") or 60),
        # City admins must set up and pass a second factor (TOTP) to sign in. "0" only in
        # development and testing: production refuses to start without it.
        "ADMIN_SECOND_FACTOR": env.get("SURVEYAPP_ADMIN_SECOND_FACTOR", "1") not in ("0", "false"),
        # Off only for load tests that play many residents from one address.
        "RATELIMIT_ENABLED": env.get("SURVEYAPP_RATELIMIT_ENABLED", "1") not in ("0", "false"),
    }
    return config


def load_config(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    instance_path: Path | None = None,
) -> dict[str, Any]:
    """Build the Flask config from the environment, then ``overrides`` (used by tests).

    Raises ``ConfigurationError`` when a production app would start without a real secret.
    """
    config = read_environment(environ, instance_path)
    config.update(overrides or {})

    env_name = config["ENV_NAME"]
    if env_name not in ENVIRONMENTS:
        raise ConfigurationError(
            f"SURVEYAPP_ENV={env_name!r} is not one of {', '.join(ENVIRONMENTS)}."
        )
    if env_name in ("development", "testing") and not config["SECRET_KEY"]:
        config["SECRET_KEY"] = DEVELOPMENT_SECRET
    if env_name == "production":
        _check_production_secrets(config)
        if not config["ADMIN_SECOND_FACTOR"]:
            raise ConfigurationError(
                "SURVEYAPP_ADMIN_SECOND_FACTOR=0 is for development and tests only: city "
                "admins need a second factor in production."
            )
        config["SESSION_COOKIE_SECURE"] = True
    if not config["CODE_KEY"] and config["SECRET_KEY"]:
        config["CODE_KEY"] = derived_code_key(config["SECRET_KEY"])
    # Rate-limit counters: in memory by default (one process); production shares them
    # between gunicorn workers in Redis unless told otherwise.
    if not config.get("RATELIMIT_STORAGE_URI"):
        config["RATELIMIT_STORAGE_URI"] = (
            "redis://127.0.0.1:6379/0" if env_name == "production" else "memory://"
        )
    # Background jobs: SQLite beside the app's database by default, Redis in production
    # (several app servers and workers share it), run at once in the request in tests.
    if not config.get("JOBS_URL"):
        config["JOBS_URL"] = {
            "production": "redis://127.0.0.1:6379/1",
            "testing": "memory://",
        }.get(env_name, f"sqlite:///{Path(config['INSTANCE_PATH']) / 'jobs.sqlite'}")
    if str(config["RATELIMIT_STORAGE_URI"]).startswith(("redis://", "rediss://")):
        # A Redis that does not answer must not hold a resident's page for long: after
        # half a second the limiter counts in memory instead (extensions.py).
        config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
        )
    return config
