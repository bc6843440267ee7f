"""The practical limit for a page save: a bare Flask + SQLAlchemy endpoint, one INSERT.

Served by the same gunicorn settings against the same PostgreSQL server as the app in
`bench_load.py`: whatever the app does beyond a single INSERT is what the ratio measures.
"""

from __future__ import annotations

import os

from flask import Flask, redirect, request
from sqlalchemy import Column, Integer, MetaData, Table, Text, insert

from surveyapp.db import build_engine

metadata = MetaData()
saves = Table(
    "bench_saves",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("body", Text, nullable=False),
)


def create_app() -> Flask:
    # The table is created by bench_load.py before the workers start.
    # The app's own engine settings (pool, no pre-ping): only the work per request differs.
    engine = build_engine(os.environ["BARE_DATABASE_URL"])
    app = Flask(__name__)

    @app.post("/save")
    def save():
        with engine.begin() as connection:
            connection.execute(insert(saves).values(body=request.get_data(as_text=True)))
        return redirect("/save", code=303)

    return app
