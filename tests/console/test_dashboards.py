"""Staff dashboards: an initiative's indices, a city's pyramid, shared measurement."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from surveyapp.db import utcnow
from surveyapp.demo import INEFFECTIVE
from surveyapp.models import (
    Answer,
    Area,
    Channel,
    City,
    Initiative,
    PyramidLevel,
    Response,
    ResponseStatus,
    Role,
    User,
    Wave,
    WaveStatus,
)
from surveyapp.reports import cached_initiative_report

from ..conftest import Factory, sign_in

# --- Helpers --------------------------------------------------------------------------------


class Page(HTMLParser):
    """What a reader of a dashboard sees: headings, tables, badge links, element ids."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.headings: list[tuple[str, str]] = []  # (tag, text)
        self.tables: dict[str, list[list[str]]] = {}  # caption -> rows of cell texts
        self.badges: list[tuple[str, str]] = []  # (href, text)
        self.ids: set[str] = set()
        self._text: list[str] | None = None
        self._tag = ""
        self._caption = ""
        self._row: list[str] | None = None
        self._badge: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"])
        if tag in ("h1", "h2", "h3", "caption", "th", "td"):
            self._text, self._tag = [], tag
        if tag == "tr":
            self._row = []
        if tag == "a" and "badge" in (values.get("class") or "").split():
            self._badge, self._text, self._tag = values.get("href"), [], "a"

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._text is None or tag != self._tag:
            if tag == "tr" and self._row is not None:
                self.tables.setdefault(self._caption, []).append(self._row)
                self._row = None
            return
        text = " ".join("".join(self._text).split())
        self._text = None
        if tag == "caption":
            self._caption = text
            self.tables[text] = []
        elif tag in ("th", "td") and self._row is not None:
            self._row.append(text)
        elif tag == "a":
            self.badges.append((self._badge or "", text))
        else:
            self.headings.append((tag, text))


def _respond(
    make: Factory,
    wave: Wave,
    areas: list[Area],
    count: int,
    *,
    level: float = 0.0,
    seed: int = 1,
) -> None:
    """``count`` complete responses to the core index items, spread over ``areas``.

    ``level`` shifts every resident's answers up (in SD units of the latent trait).
    """
    rng = np.random.default_rng(seed)
    items = [
        item
        for section in make.core.sections_for([])
        for item in section.items
        if item.construct is not None
    ]
    start = utcnow() - timedelta(days=5)
    for n in range(count):
        answers = []
        trait = level + rng.normal()
        for item in items:
            z = 0.7 * trait + 0.7 * rng.normal()
            codes = sorted(option.code for option in item.options)
            cdf = 0.5 * (1 + math.erf((-z if item.reverse else z) / math.sqrt(2)))
            answers.append(
                Answer(
                    item_id=item.id, value_code=codes[min(int(cdf * len(codes)), len(codes) - 1)]
                )
            )
        make.session.add(
            Response(
                wave_id=wave.id,
                area_id=areas[n % len(areas)].id,
                language="en",
                channel=Channel.OPEN_LINK,
                status=ResponseStatus.COMPLETE,
                started_at=None,
                started_on=(start + timedelta(minutes=n)).date(),
                submitted_on=(start + timedelta(minutes=n, seconds=400)).date(),
                duration_seconds=400,
                idempotency_key=f"test-{wave.id}-{n}",
                quality_flags=[],
                answers=answers,
            )
        )
    make.session.commit()


def _initiative_with_waves(
    make: Factory, city: City, name: str, counts: list[int], **fields: Any
) -> Initiative:
    """An initiative with one treated and one comparison area and one wave per count."""
    initiative = make.initiative(city, name=name, **fields)
    areas = initiative.areas_with_role("treated") + initiative.areas_with_role("comparison")
    for number, count in enumerate(counts):
        wave = make.wave(
            initiative, name=f"Wave {number + 1}", status=WaveStatus.CLOSED, open_token=None
        )
        _respond(make, wave, areas, count, level=0.8 * number, seed=wave.id)
    return initiative


def _cells(page: Page, caption: str) -> list[list[str]]:
    rows = page.tables[caption]
    return [row for row in rows if row and row[0] not in ("Areas", "Index")]


def _f(value: float, signed: bool = False) -> str:
    return f"{value:+.1f}" if signed else f"{value:.1f}"


# --- Initiative dashboard -------------------------------------------------------------------


def test_every_role_of_the_city_sees_the_initiative_dashboard(
    demo: Initiative, client: FlaskClient, make: Factory
) -> None:
    initiative = demo
    for role in (Role.ADMIN, Role.COORDINATOR, Role.ANALYST):
        sign_in(client, make.user(initiative.city, role=role))
        response = client.get(f"/staff/initiatives/{initiative.id}/dashboard")
        assert response.status_code == 200, role
        html = response.get_data(as_text=True)
        assert "<script" not in html
        charts = re.findall(r"<svg[^>]*>.*?</svg>", html, re.S)
        assert len(charts) == 4  # one per core index
        for chart in charts:
            assert 'role="img"' in chart and "<title" in chart and "<desc" in chart
            # Both series, each named in the legend and drawn as its own line.
            assert "Treated areas" in chart and "Comparison areas" in chart
            assert chart.count("<polyline") == 2
    # The initiative's aims (trust, belonging) come first.
    page = Page(html)
    headings = [text for tag, text in page.headings if tag == "h2"]
    assert headings[:2] == ["The answer", "Can the measurement be trusted?"]
    indices = headings[2:]
    assert indices[:2] == ["Trust aim of this initiative", "Belonging aim of this initiative"]
    assert set(indices[2:]) == {"Participation", "Perceived safety"}


def test_dashboard_numbers_and_badges_are_the_reports(
    demo: Initiative, client: FlaskClient, make: Factory
) -> None:
    initiative = demo
    user = make.user(initiative.city, role=Role.ANALYST)
    sign_in(client, user)
    page = Page(client.get(f"/staff/initiatives/{initiative.id}/dashboard").get_data(as_text=True))
    content = cached_initiative_report(make.session, initiative, actor=user).content
    names = {"treated": "Treated areas", "comparison": "Comparison areas"}
    for cid, entry in content["indices"].items():
        label = entry["label"]
        means = _cells(page, f"{label}: index by wave")
        expected = [
            [names[m["arm"]], m["wave"], str(m["n"]), _f(m["mean"]),
             f"{_f(m['ci_lower'])} to {_f(m['ci_upper'])}"]
            for m in entry["means"]
            if m["arm"] in names
        ]  # fmt: skip
        assert means == expected, cid
        changes = _cells(page, f"{label}: change between waves")
        did = entry["did"][0]
        if did["withheld"]:  # e.g. not comparable on the published sample: said, not shown
            assert changes[-1][:3] == [
                "Treated minus comparison",
                f"{did['before']} → {did['after']}",
                "withheld",
            ]
        else:
            assert changes[-1][:4] == [
                "Treated minus comparison",
                f"{did['before']} → {did['after']}",
                _f(did["did"], signed=True),
                f"{_f(did['ci_lower'], True)} to {_f(did['ci_upper'], True)}",
            ]
            includes_zero = did["ci_lower"] <= 0 <= did["ci_upper"]
            assert ("no clear difference" in changes[-1][4]) == includes_zero
        treated = next(c for c in entry["changes"] if c["arm"] == "treated")
        assert changes[0][2:4] == [
            _f(treated["change"], signed=True),
            f"{_f(treated['ci_lower'], True)} to {_f(treated['ci_upper'], True)}",
        ]

    # Badges: one per index (reliability) plus model fit and invariance across waves, each
    # with the report's verdict word and a link to a section that exists in the report.
    report = Page(client.get(f"/staff/initiatives/{initiative.id}/report").get_data(as_text=True))
    assert len(page.badges) == 2 + len(content["indices"])
    for href, _text in page.badges:
        path, anchor = href.split("#")
        assert path == f"/staff/initiatives/{initiative.id}/report"
        assert anchor in report.ids, anchor
    badges = dict((href.split("#")[1], text) for href, text in page.badges)
    omega = content["constructs"]["trust"]["reliability"]["verdicts"][0]
    words = {"n/a": "not available"}
    # Fewer than MIN_RELIABILITY_N (200) complete answers: no reliability badge, said so.
    assert badges["construct-trust"].startswith(
        f"Reliability: {words.get(omega['verdict'], omega['verdict'])}"
    )
    # The worst of the report's fit verdicts, in one word.
    fit = {v["verdict"] for v in content["cfa"]["verdicts"]}
    worst = next((word for word in ("poor", "acceptable", "good") if word in fit), "n/a")
    assert badges["fit"] == f"Model fit: {words.get(worst, worst)}"
    invariance = content["invariance"]["wave"]
    expected = invariance["verdict"]["verdict"] if "verdict" in invariance else "n/a"
    assert (
        badges["invariance-wave"] == f"Same meaning across waves: {words.get(expected, expected)}"
    )


def test_withheld_estimates_show_the_reason_and_no_numbers(
    client: FlaskClient, make: Factory
) -> None:
    city = make.city(name="Smallville")
    initiative = _initiative_with_waves(make, city, "Pocket park", [20, 20])
    sign_in(client, make.user(city, role=Role.COORDINATOR))
    html = client.get(f"/staff/initiatives/{initiative.id}/dashboard").get_data(as_text=True)
    page = Page(html)
    means = _cells(page, "Trust: index by wave")
    assert len(means) == 4
    for row in means:
        assert row[3] == "Withheld: fewer than 30 answers, too few to publish."
        assert len(row) == 4  # no number, no interval: one cell says why
    for row in _cells(page, "Trust: change between waves"):
        assert row[2] == "withheld"
        assert not re.search(r"\d\.\d", " ".join(row))
    chart = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert "0 estimates shown, 4 withheld" in chart
    # Nothing drawn in the plot: no lines, and the only circle is the legend's marker.
    assert "<polyline" not in chart and chart.count("<circle") == 1


def test_an_initiative_without_responses_says_so(client: FlaskClient, make: Factory) -> None:
    initiative = make.initiative(name="Just started")
    sign_in(client, make.user(initiative.city, role=Role.ANALYST))
    html = client.get(f"/staff/initiatives/{initiative.id}/dashboard").get_data(as_text=True)
    assert "There are no complete responses yet." in html
    assert "<svg" not in html


# --- City dashboard -------------------------------------------------------------------------


def test_city_dashboard_follows_the_pyramid_and_the_alphabet(
    client: FlaskClient, make: Factory
) -> None:
    city = make.city(name="Pyramid Town")
    for name, level in (
        ("Zebra crossings", PyramidLevel.GENERAL_PREVENTION),
        ("street lighting", PyramidLevel.GENERAL_PREVENTION),
        ("Youth club", PyramidLevel.QUALITY_OF_LIFE),
        ("Mediation", PyramidLevel.REACTION),
        ("Block party", PyramidLevel.GENERAL_PREVENTION),
    ):
        make.initiative(city, name=name, pyramid_level=level)
    _initiative_with_waves(
        make, city, "Apple orchard", [6], pyramid_level=PyramidLevel.SPECIFIC_PREVENTION
    )

    analyst = make.user(city, role=Role.ANALYST)
    sign_in(client, analyst)
    html = client.get(f"/staff/cities/{city.id}/dashboard").get_data(as_text=True)
    page = Page(html)
    levels = [text for tag, text in page.headings if tag == "h2"]
    assert [text.split(":")[0] for text in levels] == [
        f"Pyramid level {level.value}" for level in PyramidLevel
    ]
    names = [text for tag, text in page.headings if tag == "h3"]
    assert names == [
        "Youth club",
        "Block party",
        "street lighting",
        "Zebra crossings",
        "Apple orchard",
        "Mediation",
    ]
    assert "never ranked" in html
    # Six completed questionnaires: a small count, masked for everyone but admins.
    assert re.search(r'class="responses">&lt;10<', html)
    assert 'class="responses">6<' not in html
    sign_in(client, make.user(city, role=Role.ADMIN))
    html = client.get(f"/staff/cities/{city.id}/dashboard").get_data(as_text=True)
    assert 'class="responses">6<' in html


def test_city_dashboard_shows_each_initiatives_latest_change(
    demo: Initiative, client: FlaskClient, make: Factory
) -> None:
    initiative = demo
    user = make.user(initiative.city, role=Role.ANALYST)
    sign_in(client, user)
    html = client.get(f"/staff/cities/{initiative.city_id}/dashboard").get_data(as_text=True)
    link = f'href="/staff/initiatives/{initiative.id}/dashboard"'
    assert link in html
    # Each initiative has its card (both are evaluated by the same two rounds): this one's.
    card = html.split(link, 1)[1].split('<div class="card', 1)[0]
    page = Page(card)
    content = cached_initiative_report(make.session, initiative, actor=user).content
    rows = page.tables["Latest change: 1. Baseline round → 2. Follow-up round"]
    trust = next(row for row in rows if row[0].startswith("Trust"))
    change = next(c for c in content["indices"]["trust"]["changes"] if c["arm"] == "treated")
    assert trust[1] == (
        f"{_f(change['change'], True)} "
        f"({_f(change['ci_lower'], True)} to {_f(change['ci_upper'], True)})"
    )
    assert f'href="/staff/initiatives/{initiative.id}/dashboard"' in html


# --- Shared measurement ---------------------------------------------------------------------


def test_shared_measurement_shows_each_city_against_itself(
    demo: Initiative, client: FlaskClient, make: Factory
) -> None:
    # With one initiative left, the demo city's own change equals that initiative's report's
    # change over all its areas (city-wide rounds included, each response counted once).
    make.session.delete(
        make.session.scalar(select(Initiative).where(Initiative.name == INEFFECTIVE))
    )
    make.session.flush()
    # Zutphen improves most, but cities stay in alphabetical order: no league table.
    _initiative_with_waves(make, make.city(name="Zutphen"), "Town square", [60, 60])
    _initiative_with_waves(make, make.city(name="Aachen"), "Play streets", [40])
    _initiative_with_waves(make, make.city(name="Bree"), "Footpaths", [20, 20])
    staff = make.user(make.city(name="Elsewhere"), role=Role.ANALYST)

    assert client.get("/staff/shared").status_code == 302
    sign_in(client, staff)
    html = client.get("/staff/shared").get_data(as_text=True)
    page = Page(html)
    cities = [text for tag, text in page.headings if tag == "h2"]
    assert cities == ["Aachen", "Bree", "Demo City", "Zutphen"]  # "Elsewhere" has no data

    def row(city: str, label: str) -> list[str]:
        rows = page.tables[f"{city}: each index at its baseline and latest waves"]
        return next(r for r in rows if r[0] == label)

    user = make.session.scalar(select(User).where(User.email == staff.email))
    content = cached_initiative_report(make.session, demo, actor=user).content
    change = next(c for c in content["indices"]["trust"]["changes"] if c["arm"] == "all")
    # The demo city's own change equals its report's change.
    assert row("Demo City", "Trust")[3] == (
        f"{_f(change['change'], True)} "
        f"({_f(change['ci_lower'], True)} to {_f(change['ci_upper'], True)})"
    )
    zutphen = row("Zutphen", "Trust")
    assert zutphen[3].startswith("+") and zutphen[4] == "Rose: the whole interval is above 0."
    assert row("Aachen", "Trust")[2:4] == ["–", "–"]  # a baseline only
    assert "Only a baseline so far" in html
    assert row("Bree", "Trust")[1:4] == ["withheld", "withheld", "withheld"]
    # Only aggregates: no areas, no small counts, no ranks.
    for detail in ("Riverside", "&lt;10", "<ol", "rank 1", "#1"):
        assert detail not in html
    assert "never ranked" in html


def test_shared_measurement_needs_a_signed_in_staff_member(client: FlaskClient) -> None:
    response = client.get("/staff/shared")
    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]


# --- Tenant isolation -----------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ADMIN, Role.ANALYST])
def test_staff_of_another_city_get_404(client: FlaskClient, make: Factory, role: Role) -> None:
    theirs = make.city(name="Victimville")
    initiative = _initiative_with_waves(make, theirs, "Secret initiative", [6])
    sign_in(client, make.user(make.city(name="Elsewhere"), role=role))
    for url in (
        f"/staff/initiatives/{initiative.id}/dashboard",
        f"/staff/cities/{theirs.id}/dashboard",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Secret initiative" not in response.get_data(as_text=True)


def test_wave_arrows_point_the_reading_direction(
    demo: Initiative, client: FlaskClient, make: Factory
) -> None:
    initiative = demo
    sign_in(client, make.user(initiative.city, role=Role.ANALYST))
    url = f"/staff/initiatives/{initiative.id}/dashboard"
    english = client.get(url).get_data(as_text=True)
    arabic = client.get(url + "?lang=ar").get_data(as_text=True)
    assert 'dir="rtl"' in arabic
    assert "Baseline round → 2. Follow-up round" in english and "round ← 2. Follow" not in english
    assert "Baseline round ← 2. Follow-up round" in arabic and "round → 2. Follow" not in arabic
