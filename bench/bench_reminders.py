"""Reminder letters at scale: reading, matching and laying out, in process, on SQLite.

Makes a wave with N invitations (a share of them used), writes the mail-merge CSV a city
would keep (N rows with address columns, semicolons, BOM, plus 5% codes of no wave), then
times the three steps of ``surveyapp.console.reminders``: reading the file, sorting its
rows (hashing every code, looking them up 500 at a time), and laying out the letters.

Usage::

    .venv/bin/python bench/bench_reminders.py [--rows 3000] [--unused 0.3]
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from surveyapp import create_app, migrate  # noqa: E402
from surveyapp.console import reminders  # noqa: E402
from surveyapp.extensions import db  # noqa: E402
from surveyapp.instruments import load_instrument  # noqa: E402
from surveyapp.models import Invitation, UsedInvitations  # noqa: E402
from surveyapp.respond.codes import generate_code, hash_code  # noqa: E402
from tests.conftest import CORE_INSTRUMENT, TEST_CODE_KEY, TRANSLATIONS, Factory  # noqa: E402


def kept_csv(codes: list[str], strangers: int) -> bytes:
    """The city's mail-merge file: addresses, then the platform's code column."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["name", "street", "postcode", "town", "code"])
    for n, code in enumerate(codes + [generate_code() for _ in range(strangers)]):
        writer.writerow([f"Résident {n}", f"Rue de l'Église {n}", "06000", "Nice", code])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def main() -> None:
    """Build the wave and the file, then print the time of each step."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--unused", type=float, default=0.3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/bench.sqlite"
        migrate.upgrade(url)
        app = create_app({"ENV_NAME": "testing", "DATABASE_URL": url})
        with app.test_request_context():
            make = Factory(db.session, load_instrument(CORE_INSTRUMENT))
            wave = make.wave(mode="invitation")
            area = wave.initiative.areas_with_role("treated")[0]
            codes = [generate_code() for _ in range(args.rows)]
            db.session.add_all(
                Invitation(wave_id=wave.id, area_id=area.id, code_hash=hash_code(c, TEST_CODE_KEY))
                for c in codes
            )
            db.session.flush()
            ids = list(
                db.session.scalars(select(Invitation.id).where(Invitation.wave_id == wave.id))
            )
            used = ids[int(len(ids) * args.unused) :]
            db.session.add(UsedInvitations(wave_id=wave.id, area_id=area.id, invitation_ids=used))
            db.session.commit()
            data = kept_csv(codes, args.rows // 20)
            started = time.perf_counter()
            upload = reminders.read_upload(data)
            read = time.perf_counter()
            plan = reminders.plan_reminders(db.session, wave, upload)
            matched = time.perf_counter()
            summary = reminders.summary_lines(plan)
            archive = reminders.reminders_zip(
                wave, upload, plan, "en", "https://survey.example", TRANSLATIONS, summary
            )
            done = time.perf_counter()
    print(summary[0])
    print(f"file {len(data) / 1e6:.2f} MB, ZIP {len(archive) / 1e6:.2f} MB")
    print(
        f"read {read - started:.3f} s, match {matched - read:.3f} s, letters {done - matched:.1f} s"
    )
    print(f"letters per second {len(plan.unused) / (done - matched):.0f}")


if __name__ == "__main__":
    main()
