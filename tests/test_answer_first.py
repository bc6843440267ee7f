"""The answer first: one plain sentence per index on the report and the dashboard."""

from __future__ import annotations

import re

from surveyapp.models import Initiative, Role

from .conftest import Factory, sign_in

ENGLISH = re.compile(
    r"(rose by [\d.]+ points more in the treated areas|did [\d.]+ points worse in the treated"
    r"|no clear difference between the treated and the comparison areas"
    # The published sample (whole tens per wave and area) can tip an index's comparability.
    r"|no difference is shown, because the questions did not measure the same thing in the "
    r"treated and the comparison areas)"
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
    assert len(sentences) == 5  # one per index, then how many intervals are shown
    assert all(ENGLISH.search(s) for s in sentences[:4]), sentences
    assert re.match(r"This report shows \d+ intervals: by chance alone about \d+", sentences[4])
    assert any(s.startswith("Trust") for s in sentences)
    # The answer comes first; the checks follow, folded.
    assert html.index('id="answer"') < html.index("<details") < html.index("1. Data and cleaning")
    french = client.get(report, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    # Indices not comparable across the arms on the published sample say so instead.
    assert all("quartiers de comparaison" in s for s in _answer(french)[:4])
    arabic = client.get(report + "?lang=ar").get_data(as_text=True)
    assert all("مناطق المقارنة" in s for s in _answer(arabic)[:4])

    board = f"/staff/initiatives/{demo.id}/dashboard"
    html = client.get(board, headers={"Accept-Language": "en"}).get_data(as_text=True)
    first = re.search(r'<h2 id="answer">.*?</ul>', html, re.S).group(0)
    assert len(re.findall(r"<li>", first)) == 5 and ENGLISH.search(first)
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


def test_holm_keeps_only_what_survives_the_number_of_indices() -> None:
    from analysis.report.answer import answer_sentences, multiplicity

    answer = [
        {"index": i, "kind": "did", "direction": d, "pvalue": p}
        for i, d, p in [("a", "up", 0.004), ("b", "down", 0.03), ("c", "unclear", 0.4)]
    ]
    indices = {"a": {"did": [{"ci_lower": 1.0}] * 3}, "b": {"means": [{"ci_lower": 2.0}]}}
    result = multiplicity(indices, answer)
    # Holm: .004 <= .05/3 is kept; .03 > .05/2 stops there.
    assert result == {
        "intervals": 4,
        "headline": 3,
        "clear": ["a", "b"],
        "clear_after_holm": ["a"],
    }
    text = answer_sentences([], lambda s, **kw: s % kw, adjusted=result)[-1]
    assert "shows 4 intervals" in text and "(Holm's method): 1 of 2." in text
