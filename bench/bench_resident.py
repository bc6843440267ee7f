"""Resident pages: bytes transferred per page type in headless Chromium, and page-save time.

1. Page weight. The app is served over HTTP on 127.0.0.1; Debian's Chromium (headless,
   phone viewport, empty cache for every page type) loads each resident page type and the
   script adds up what went over the wire for every request the page made: response
   headers plus the (compressed) body, as Chromium reports them. The stylesheet and the
   script are fingerprinted and cached for a year: after the first page they cost nothing.
   Requests to any other host are counted separately (there must be none). Budget: 30 KB
   per page.
2. Save time. On a file SQLite database (WAL, as the app runs by default), simulated
   residents answer the core questionnaire page by page through the app's WSGI interface
   with CSRF on; the time of each page-save POST (parse, validate, write, commit, redirect)
   is measured in-process, without network. Budget: median 20 ms.

Usage::

    .venv/bin/python bench/bench_resident.py [--residents 60]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from surveyapp import create_app, migrate  # noqa: E402
from surveyapp.extensions import db  # noqa: E402
from surveyapp.instruments import load_instrument  # noqa: E402
from surveyapp.instruments.registry import wave_sections  # noqa: E402
from tests.conftest import CORE_INSTRUMENT, Factory, complete_answers  # noqa: E402

CHROMIUM = os.environ.get("SURVEYAPP_CHROMIUM", "/usr/bin/chromium")
BUDGET_BYTES = 30 * 1024
BUDGET_SAVE_MS = 20.0


def _setup(url: str):
    # Rate limits off: every simulated resident comes from 127.0.0.1 (as in bench_load.py).
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": url, "RATELIMIT_ENABLED": False})
    with app.app_context():
        make = Factory(db.session, load_instrument(CORE_INSTRUMENT))
        wave = make.wave(
            languages=["en", "fr", "nl", "ar"],
            modules=["demographics", "victimisation", "attention_check"],
        )
        core = make.wave(make.initiative(), languages=["en", "fr", "nl", "ar"])
        closed = make.wave(status="closed", languages=["en", "ar"])
        codes = [make.invitation(wave)[0] for _ in range(4)]
        used, invitation = make.invitation(wave)
        make.use(invitation)
        demographics = 1 + [s.id for s in wave_sections(wave)].index("demographics")
        review = len(wave_sections(wave)) + 1
        site = {
            "token": wave.open_token,
            "core": core.open_token,
            "closed": closed.open_token,
            "codes": codes,
            "used": used,
            "demographics": demographics,
            "review": review,
            "core_sections": wave_sections(core),
        }
    return app, site


def _page_types(site):
    def start(page, base, code):
        page.goto(f"{base}/i/{code}")
        if page.url.endswith(f"/i/{code}"):
            with page.expect_navigation():
                page.locator("button[type=submit]").click()

    def errors(page, base, code):
        start(page, base, code)
        with page.expect_navigation():
            page.locator("button[value=next]").click()

    def unknown_code(page, base, code):
        page.goto(base + "/")
        page.fill("#code", "ZZZZ-ZZZZ")
        with page.expect_navigation():
            page.locator("button[type=submit]").click()

    return {
        "code entry": lambda p, b, c: p.goto(b + "/"),
        "code entry, unknown code": unknown_code,
        "consent and privacy notice": lambda p, b, c: p.goto(f"{b}/w/{site['token']}"),
        "question page (page 1)": start,
        "question page with errors": errors,
        "number and text questions": lambda p, b, c: (
            start(p, b, c),
            p.goto(f"{b}/i/{c}/{site['demographics']}"),
        ),
        "open link question page (resume link)": lambda p, b, c: (
            p.goto(f"{b}/w/{site['token']}"),
            p.locator("button[type=submit]").click(),
            p.wait_for_url("**/r/*/1"),
        ),
        "review before sending": lambda p, b, c: (
            start(p, b, c),
            p.goto(f"{b}/i/{c}/{site['review']}"),
        ),
        "thank you": lambda p, b, c: p.goto(b + "/thanks"),
        "survey closed": lambda p, b, c: p.goto(f"{b}/w/{site['closed']}"),
        "code already used": lambda p, b, c: p.goto(f"{b}/i/{site['used']}"),
        "page not found": lambda p, b, c: p.goto(b + "/no/such/page"),
    }


_COLD: dict[str, int] = {}


def _cold_size(browser, url: str) -> int:
    """Bytes over the wire (headers + compressed body) for ``url`` in an empty profile."""
    if url not in _COLD:
        context = browser.new_context()
        page = context.new_page()
        response = page.goto(url)
        sizes = response.request.sizes()
        _COLD[url] = sizes["responseBodySize"] + sizes["responseHeadersSize"]
        context.close()
    return _COLD[url]


def page_weights(app, site) -> list[dict]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = base
    threading.Thread(target=server.serve_forever, daemon=True).start()
    rows = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            for language in ("en", "ar"):
                code = site["codes"][0 if language == "en" else 1]
                for name, visit in _page_types(site).items():
                    context = browser.new_context(
                        viewport={"width": 360, "height": 740}, is_mobile=True, locale=language
                    )
                    page = context.new_page()
                    finished = []
                    # No cache: every page is measured as a first visit.
                    context.new_cdp_session(page).send(
                        "Network.setCacheDisabled", {"cacheDisabled": True}
                    )
                    page.on(
                        "requestfinished", lambda request, bucket=finished: bucket.append(request)
                    )
                    visit(page, base, code)
                    page.wait_for_load_state("networkidle")
                    # The final page's own document, as transferred (headers + body).
                    last = max(i for i, r in enumerate(finished) if r.resource_type == "document")
                    document = finished[last]
                    sizes = document.sizes()
                    html = sizes["responseBodySize"] + sizes["responseHeadersSize"]
                    # Everything the page refers to, each counted as a first download.
                    linked = page.evaluate(
                        """() => [...document.querySelectorAll(
                            'link[href]:not([href^="data:"]), script[src], img[src], '
                            + 'iframe[src], source[src], video[src], audio[src]')]
                            .map(e => e.href || e.src)"""
                    )
                    third = [r.url for r in finished if not r.url.startswith(base)]
                    third += [u for u in linked if not u.startswith(base)]
                    sub = sum(_cold_size(browser, u) for u in linked if u.startswith(base))
                    rows.append(
                        {
                            "page": name,
                            "language": language,
                            "status": document.response().status,
                            "resources": 1 + len(linked),
                            "html": html,
                            "total": html + sub,
                            "third_party": len(third),
                            "encoding": document.response().headers.get("content-encoding"),
                        }
                    )
                    context.close()
            browser.close()
    finally:
        server.shutdown()
    return rows


def save_times(app, site, residents: int) -> list[float]:
    """Milliseconds per page-save POST, over ``residents`` complete questionnaires."""
    sections = site["core_sections"]
    timings: list[float] = []
    token_re = re.compile(rb'name="csrf_token" value="([^"]+)"')
    key_re = re.compile(rb'name="idempotency_key" value="([^"]+)"')
    for _ in range(residents):
        client = app.test_client()
        welcome = client.get(f"/w/{site['core']}", headers={"Accept-Language": "en"})
        csrf = token_re.search(welcome.data).group(1).decode()
        started = client.post(
            f"/w/{site['core']}",
            data={
                "csrf_token": csrf,
                "idempotency_key": key_re.search(welcome.data).group(1).decode(),
            },
        )
        assert started.status_code == 303, (started.status_code, started.data[:300])
        url = started.location
        if url.endswith("/area"):  # the wave-wide link asks the neighbourhood first
            url = client.post(url, data={"csrf_token": csrf, "area": "dont_know"}).location
        for section in sections:
            page = client.get(url)
            form = complete_answers([section]) | {
                "csrf_token": csrf,
                "idempotency_key": key_re.search(page.data).group(1).decode(),
                "nav": "next",
            }
            begin = time.perf_counter()
            saved = client.post(url, data=form)
            timings.append((time.perf_counter() - begin) * 1000)
            assert saved.status_code == 303, saved.status_code
            url = saved.location
        assert url.endswith("/thanks")
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'bench.sqlite'}"
        migrate.upgrade(url)
        app, site = _setup(url)
        rows = page_weights(app, site)
        timings = save_times(app, site, args.residents)

    print(f"# Resident pages ({time.strftime('%Y-%m-%d')}, Python {platform.python_version()})")
    print()
    print(
        "| page | language | status | files | HTML (bytes) | compressed | "
        "total, first visit (bytes) | third-party |"
    )
    print("| --- | --- | ---: | ---: | ---: | --- | ---: | ---: |")
    for row in rows:
        print(
            f"| {row['page']} | {row['language']} | {row['status']} | {row['resources']} "
            f"| {row['html']:,} | {row['encoding'] or 'no'} | {row['total']:,} "
            f"| {row['third_party']} |"
        )
    print()
    files = ", ".join(f"{url.rsplit('/', 1)[1]} {size:,} bytes" for url, size in _COLD.items())
    print(f"Files, first download (headers + compressed body): {files}.")
    worst = max(rows, key=lambda r: r["total"])
    print()
    print(
        f"Heaviest page: {worst['page']} ({worst['language']}), {worst['total']:,} bytes "
        f"= {worst['total'] / BUDGET_BYTES:.0%} of the 30 KB budget; "
        f"third-party requests in all: "
        f"{sum(r['third_party'] for r in rows)}."
    )
    timings.sort()
    q = statistics.quantiles(timings, n=100)
    print()
    print(
        f"Page save on SQLite, {len(timings)} saves by {args.residents} residents: "
        f"median {statistics.median(timings):.1f} ms, p90 {q[89]:.1f} ms, p99 {q[98]:.1f} ms, "
        f"max {timings[-1]:.1f} ms (budget: median {BUDGET_SAVE_MS:.0f} ms)."
    )


if __name__ == "__main__":
    main()
