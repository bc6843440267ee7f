"""Fingerprinted static files: the stylesheet and the resident script, cached for a year.

Pages refer to ``/assets/style.<hash>.css`` (the first 12 hex digits of the file's SHA-256),
so a browser keeps the file for a year without asking again (``immutable``), and a new
version of the file has a new address. Pages themselves are never cached (``no-store``), so
they always name the current version. The files are read once, when the app starts.
``/static/<name>`` still serves the same files, revalidated on every use.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Flask, Response, abort, url_for

STATIC = Path(__file__).resolve().parent / "static"
#: The files served with a fingerprint.
FINGERPRINTED = ("style.css", "respond.js")
#: A year, as long as browsers keep anything.
IMMUTABLE = "public, max-age=31536000, immutable"

bp = Blueprint("assets", __name__)


@dataclass(frozen=True)
class Asset:
    url_name: str  # style.0123456789ab.css
    data: bytes
    mimetype: str


def fingerprinted_name(name: str, data: bytes) -> str:
    """``style.css`` -> ``style.<first 12 hex digits of its SHA-256>.css``."""
    stem, dot, extension = name.rpartition(".")
    digest = hashlib.sha256(data).hexdigest()[:12]
    return f"{stem}.{digest}{dot}{extension}"


def load(directory: Path = STATIC) -> dict[str, Asset]:
    """Every fingerprinted file of ``directory``, by its plain name."""
    assets = {}
    for name in FINGERPRINTED:
        data = (directory / name).read_bytes()
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if mimetype.startswith("text/"):
            mimetype += "; charset=utf-8"
        assets[name] = Asset(fingerprinted_name(name, data), data, mimetype)
    return assets


_ASSETS: dict[str, Asset] = {}
_BY_URL: dict[str, Asset] = {}


@bp.get("/assets/<name>")
def asset(name: str) -> Response:
    """A fingerprinted file; an old or unknown fingerprint is not found."""
    found = _BY_URL.get(name)
    if found is None:
        abort(404)
    response = Response(found.data, content_type=found.mimetype)
    response.headers["Cache-Control"] = IMMUTABLE
    return response


def asset_url(name: str) -> str:
    """The fingerprinted address of ``name`` (one of :data:`FINGERPRINTED`)."""
    return url_for("assets.asset", name=_ASSETS[name].url_name)


def init_app(app: Flask) -> None:
    """Read the files, serve them and offer ``asset_url()`` to templates."""
    loaded = load()
    _ASSETS.update(loaded)
    _BY_URL.update({found.url_name: found for found in loaded.values()})
    app.register_blueprint(bp)
    app.add_template_global(asset_url)
