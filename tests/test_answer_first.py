"""The answer first: one plain sentence per index on the report and the dashboard."""

from __future__ import annotations

import re

from surveyapp.models import Initiative, Role

from .conftest import Factory, sign_in

ENGLISH = re.compile(
    r"(rose by [\d.]+ points more in the treated areas|did [\d.]+ points worse in the treated"
    r"|no clear difference between the treated and the comparison areas"
    # The published sample (whole tens per wave and area) can tip an index's comparability.
    r"|no change is shown, because the questions did not measure the same thing)"
)


def _answer(html: str) -> list[str]:
    section = re.search(r'<section id="answer".*?</section>', html, re.S)
    assert section, "no answer section"
    return re.findall(r"<li>(.*?)</li>", section.group(0), re.S)


def test_report_and_dashboard_open_with_the_answer(demo: Initiative, client) -> None:
    from surveyapp.demo import DEMO_EMAIL, DEMO_PASSWORD

    sign_in(client, DEMO_EMAIL, DEMO_PASSWORD)
    report = f"/staff/initiatives/{demo.id}/report"
    html = client.get(report).get_data(as_text=True)
    sentences = _answer(html)
    assert len(sentences) == 4  # one per index
    assert all(ENGLISH.search(s) for s in sentences), sentences
    assert any(s.startswith("Trust") for s in sentences)
    # The answer comes first; the checks follow, folded.
    assert html.index('id="answer"') < html.index("<details") < html.index("1. Data and cleaning")
    french = client.get(report, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    # Indices not comparable on the published sample say so instead.
    assert any("quartiers de comparaison" in s for s in _answer(french))
    arabic = client.get(report + "?lang=ar").get_data(as_text=True)
    assert any("مناطق المقارنة" in s for s in _answer(arabic))

    board = f"/staff/initiatives/{demo.id}/dashboard"
    html = client.get(board, headers={"Accept-Language": "en"}).get_data(as_text=True)
    first = re.search(r'<h2 id="answer">.*?</ul>', html, re.S).group(0)
    assert len(re.findall(r"<li>", first)) == 4 and ENGLISH.search(first)
    assert html.index('id="answer"') < html.index('id="checks"')
    french = client.get(board + "?lang=fr").get_data(as_text=True)
    assert "quartiers de comparaison" in re.search(r'<h2 id="answer">.*?</ul>', french, re.S).group(
        0
    )
    arabic = client.get(board + "?lang=ar").get_data(as_text=True)
    assert "مناطق المقارنة" in re.search(r'<h2 id="answer">.*?</ul>', arabic, re.S).group(0)


def test_an_initiative_without_data_says_what_is_missing(client, make: Factory) -> None:
    bare = make.initiative(make.city())
    sign_in(client, make.user(bare.city, role=Role.ANALYST))
    report = client.get(f"/staff/initiatives/{bare.id}/report")
    assert report.status_code == 200
    assert "No complete responses yet" in report.get_data(as_text=True)
    board = client.get(f"/staff/initiatives/{bare.id}/dashboard")
    assert board.status_code == 200
    assert "no complete responses yet" in board.get_data(as_text=True)
    assert client.get(f"/staff/initiatives/{bare.id}/report.json").status_code == 200
