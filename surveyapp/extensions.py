"""Extension objects, created once and bound to the app in ``create_app``."""

from flask_babel import Babel
from flask_compress import Compress
from flask_wtf import CSRFProtect

from surveyapp.db import Database

db = Database()
babel = Babel()
csrf = CSRFProtect()
compress = Compress()
