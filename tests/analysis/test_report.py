"""The validation report on synthetic data from a known factor model of the core instrument.

The data follow a four-factor model for the real core questionnaire
(``instruments/social-cohesion-safety/1.0.0.yaml``: trust, participation, belonging,
perceived safety; participation has yes/no items): continuous responses
``0.75 * factor + noise`` cut into equally likely answer codes, reverse-keyed items
flipped. Two waves of 300 responses in each of four areas (two treated, two
comparison), and a treated effect of +0.6 SD on the trust factor in the second wave
only. A tiny third wave (4 responses per area) exercises disclosure control.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import analysis as an
from analysis.reliability import omega_total, omega_total_em
from analysis.report import verdict

from ..snapshot import assert_matches_snapshot

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = Path(__file__).parent / "data"
INSTRUMENTS = ROOT / "instruments"
AREAS = {"north": "treated", "east": "treated", "south": "comparison", "west": "comparison"}


@pytest.fixture(scope="module")
def model() -> an.InstrumentModel:
    from surveyapp.instruments import load_instrument

    instrument = load_instrument(INSTRUMENTS / "social-cohesion-safety" / "1.0.0.yaml")
    return an.from_instrument(instrument, modules=["core"])


def simulate(
    model: an.InstrumentModel,
    waves: dict[str, int],
    effect: float = 0.6,
    seed: int = 1,
) -> pd.DataFrame:
    """Responses from the factor model; ``waves`` maps wave -> responses per area."""
    rng = np.random.default_rng(seed)
    constructs = [c.id for c in model.constructs]
    k = len(constructs)
    phi = np.full((k, k), 0.3)
    np.fill_diagonal(phi, 1.0)
    chol = np.linalg.cholesky(phi)
    frames = []
    for w, (wave, n) in enumerate(waves.items()):
        for area, arm in AREAS.items():
            factors = rng.standard_normal((n, k)) @ chol.T + rng.normal(0, 0.1)
            if w > 0 and arm == "treated":
                factors[:, constructs.index("trust")] += effect
            columns = {}
            for j, construct in enumerate(model.constructs):
                for item in construct.items:
                    y = 0.75 * factors[:, j] + np.sqrt(1 - 0.75**2) * rng.standard_normal(n)
                    low, high = model.scale[item]
                    # Equally likely answer codes (thresholds at normal quantiles).
                    cuts = stats.norm.ppf(np.linspace(0, 1, int(high - low) + 2)[1:-1])
                    x = low + np.searchsorted(cuts, y).astype(float)
                    columns[item] = low + high - x if item in model.reverse else x
            frame = pd.DataFrame(columns)
            frame["wave"], frame["area"], frame["group"] = wave, area, arm
            frame["language"] = rng.choice(["en", "nl"], n)
            frame["duration_seconds"] = rng.normal(400, 60, n).round()
            frames.append(frame)
    data = pd.concat(frames, ignore_index=True)
    # Some "don't know" answers.
    mask = rng.random(data.shape) < 0.01
    for j, column in enumerate(data.columns):
        if column in model.scale and model.scale[column] != (0.0, 1.0):
            data.loc[mask[:, j], column] = -1
    return data


@pytest.fixture(scope="module")
def data(model: an.InstrumentModel) -> pd.DataFrame:
    return simulate(model, {"2025": 300, "2026": 300, "2027": 4})


@pytest.fixture(scope="module")
def report(data: pd.DataFrame, model: an.InstrumentModel) -> an.Report:
    return an.build_report(data, model, n_boot=50, title="Initiative <Test> & Co")


@pytest.fixture(scope="module")
def content(report: an.Report) -> dict:
    return report.to_json()


@pytest.fixture(scope="module")
def html(report: an.Report) -> str:
    return report.to_html()


def test_json_is_strict_json(content: dict) -> None:
    text = json.dumps(content, allow_nan=False)
    assert json.loads(text) == content
    assert content["format"] == "surveyapp.validation-report/1"
    assert content["waves"] == ["2025", "2026", "2027"]
    assert content["parameters"]["reference_wave"] == "2025"


def test_report_matches_the_stored_snapshot(content: dict) -> None:
    """Seeded data and bootstrap: every figure, verdict and reason as stored."""
    assert_matches_snapshot(content, SNAPSHOTS / "report_snapshot.json")


def test_model_from_instrument(model: an.InstrumentModel) -> None:
    assert [c.id for c in model.constructs] == [
        "trust",
        "participation",
        "belonging",
        "perceived_safety",
    ]
    assert model.scale["volunteered_local"] == (0.0, 1.0)
    assert model.scale["ppltrst"] == (0.0, 10.0)
    assert {"nbh_not_get_along", "like_move_out", "felt_unsafe"} <= model.reverse
    assert model.name == "social-cohesion-safety@1.0.0"
    again = an.InstrumentModel.from_dict(model.to_dict())
    assert again.model == model.model and again.reverse == model.reverse
    assert again.scale == model.scale


def test_model_from_plain_dict() -> None:
    spec = an.InstrumentModel.from_dict(
        {
            "constructs": {
                "a": {"items": ["x1", "x2", "x3"], "scale": [1, 5], "reverse": ["x3"]},
                "b": {"items": {"y1": {"scale": [0, 1]}, "y2": {"scale": [0, 10]}}},
            }
        }
    )
    assert spec.model == {"a": ["x1", "x2", "x3"], "b": ["y1", "y2"]}
    assert spec.reverse == {"x3"} and spec.scale["y2"] == (0.0, 10.0)
    with pytest.raises(ValueError, match="no scale"):
        an.InstrumentModel.from_dict({"constructs": {"a": {"items": ["x1", "x2"]}}})


def test_fit_structure_and_reliability_are_good(content: dict) -> None:
    cfa = content["cfa"]
    assert cfa["cfi"] >= 0.95 and cfa["rmsea"] <= 0.06
    assert {v["metric"]: v["verdict"] for v in cfa["verdicts"]} == dict.fromkeys(
        ["cfi", "tli", "rmsea", "srmr"], "good"
    )
    assert len(cfa["loadings"]) == 22
    assert all(0.3 < x["loading"] < 0.95 for x in cfa["loadings"])  # yes/no items ~.4
    assert content["structure"]["parallel_analysis"]["n_factors"] == 4
    assert content["structure"]["factors_match"]
    for entry in content["constructs"].values():
        rel = entry["reliability"]
        low, high = rel["omega_ci"]
        assert low < rel["omega"] < high
        assert rel["verdicts"][0]["verdict"] in {"good", "acceptable"}


def test_invariance_holds_and_small_wave_is_left_out(content: dict) -> None:
    waves = content["invariance"]["wave"]
    assert waves["verdict"]["verdict"] == "good"
    assert any("2027" in text for text in waves["left_out"])
    assert [row["level"] for row in waves["levels"]] == ["configural", "metric", "scalar"]
    assert content["invariance"]["language"]["verdict"]["verdict"] == "good"


def test_small_designs_are_flagged_in_the_html(html: str) -> None:
    assert "can only show large changes" in html


def test_did_finds_the_treated_effect(content: dict) -> None:
    trust = content["indices"]["trust"]["did"][0]
    assert (trust["before"], trust["after"]) == ("2025", "2026")
    assert trust["did"] > 0 and trust["ci_lower"] > 0
    assert trust["n_areas_treated"] == 2 and trust["n_areas_comparison"] == 2
    # 2 + 2 areas: 2 degrees of freedom, and the report says the design is small.
    assert trust["df"] == 2 and "can only show large changes" in trust["caution"]
    # An index without an effect, published (comparable across waves, arms, languages).
    belonging = content["indices"]["belonging"]["did"][0]
    assert belonging["comparable"] and belonging["ci_lower"] < 0 < belonging["ci_upper"]
    change = next(
        c
        for c in content["indices"]["trust"]["changes"]
        if c["arm"] == "treated" and c["after"] == "2026"
    )
    assert change["ci_lower"] > 0 and change["effect_size"] > 0.2


def test_small_n_is_withheld_and_small_counts_hidden(content: dict, html: str) -> None:
    means = content["indices"]["trust"]["means"]
    small = [m for m in means if m["wave"] == "2027"]
    assert all(m["mean"] is None and "withheld" in m["withheld"] for m in small)
    assert {m["n"] for m in small if m["arm"] != "all"} == {"<10"}
    late = content["indices"]["trust"]["did"][1]
    assert late["did"] is None and "withheld" in late["withheld"]
    assert all(cell["n"] == "<10" for k, cell in late["cells"].items() if k.endswith("after"))
    assert "withheld (disclosure control)" in html and "&lt;10" in html
    # No count below 10 anywhere in the JSON.
    text = json.dumps(content)
    assert not re.search(r'"n(_before|_after|_kept)?": [0-9],', text)


class _Outline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.headings: list[int] = []
        self.th_without_scope = 0
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.add(tag)
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "th" and "scope" not in dict(attrs):
            self.th_without_scope += 1


def test_html_is_self_contained_and_accessible(html: str) -> None:
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html.lower() and "http" not in html
    assert "<link" not in html and "<img" not in html
    assert "Initiative &lt;Test&gt; &amp; Co" in html and "<Test>" not in html
    outline = _Outline()
    outline.feed(html)
    assert outline.headings[0] == 1 and outline.headings.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(outline.headings, outline.headings[1:], strict=False))
    assert outline.th_without_scope == 0
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(svgs) == 6  # scree, loadings, one trend per construct
    for chart in svgs:
        root = ET.fromstring(chart)
        assert root.find("title") is not None and root.find("title").text
    assert "Scree plot" in html and "Standardized CFA loadings" in html
    assert html.count("index by wave (95% CI)") >= 4
    for word in ("Good", "What it means", "difference-in-differences"):
        assert word in html


def test_a_report_without_responses_says_so() -> None:
    html = an.Report({"title": "Empty <one>", "withheld": "No complete responses yet."}).to_html()
    assert "<h1>Empty &lt;one&gt;</h1>" in html
    assert "Not shown: No complete responses yet." in html


def test_verdict_thresholds() -> None:
    assert verdict("cfi", 0.96)["verdict"] == "good"
    assert verdict("cfi", 0.92)["verdict"] == "acceptable"
    assert verdict("rmsea", 0.07)["verdict"] == "acceptable"
    assert verdict("rmsea", 0.09)["verdict"] == "poor"
    assert verdict("omega", 0.72)["verdict"] == "acceptable"
    assert verdict("omega", float("nan")) == {**verdict("omega", None), "value": None}


def test_omega_em_matches_omega_total(data: pd.DataFrame, model: an.InstrumentModel) -> None:
    items = model.model["trust"]
    values = data.loc[data["wave"] == "2025", items].to_numpy(dtype=float)
    values = values[(values >= 0).all(axis=1)]
    cov = np.cov(values, rowvar=False, bias=True)[None]
    assert omega_total_em(cov)[0] == pytest.approx(omega_total(values), abs=1e-5)


def test_svg_escapes_text() -> None:
    chart = an.svg.trend_chart(["w<1>", "w2"], {"a&b": [(50, 45, 55), None]}, title="T <x>")
    root = ET.fromstring(chart)
    assert root.find("title").text == "T <x>"
    assert "w&lt;1&gt;" in chart


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analysis", "report", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_cli_writes_html_and_json(tmp_path: Path, data: pd.DataFrame) -> None:
    csv = tmp_path / "responses.csv"
    # No language column; invariance (the slow part) is tested on the fixture above.
    data[data["wave"] != "2027"].drop(columns=["language"]).to_csv(csv, index=False)
    out = tmp_path / "out"
    result = _cli(
        str(csv),
        "--instrument",
        "social-cohesion-safety@1.0.0",
        "--out",
        str(out),
        "--instruments-dir",
        str(INSTRUMENTS),
        "--n-boot",
        "20",
        "--invariance",
        "none",
    )
    assert result.returncode == 0, result.stderr
    content = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert content["instrument"] == "social-cohesion-safety@1.0.0"
    assert content["waves"] == ["2025", "2026"]
    assert content["indices"]["trust"]["did"][0]["ci_lower"] > 0
    assert "not requested" in content["invariance"]["wave"]["skipped"]
    assert content["cfa"]["verdicts"][0]["verdict"] == "good"
    assert "<svg" in (out / "report.html").read_text(encoding="utf-8")


def test_cli_fails_clearly_on_a_missing_column(tmp_path: Path, data: pd.DataFrame) -> None:
    csv = tmp_path / "responses.csv"
    data.head(50).drop(columns=["pplfair"]).to_csv(csv, index=False)
    result = _cli(
        str(csv),
        "--instrument",
        "social-cohesion-safety@1.0.0",
        "--out",
        str(tmp_path / "out"),
        "--instruments-dir",
        str(INSTRUMENTS),
    )
    assert result.returncode == 2 and "pplfair" in result.stderr
    assert not (tmp_path / "out").exists()


def test_cli_fails_clearly_on_bad_input(
    tmp_path: Path, data: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    from analysis.__main__ import main

    csv = tmp_path / "responses.csv"
    data.head(50).to_csv(csv, index=False)
    common = ["--out", str(tmp_path / "out"), "--instruments-dir", str(INSTRUMENTS)]
    assert main(["report", str(csv), "--instrument", "no-such@9.9.9", *common]) == 2
    assert "Unknown instrument 'no-such@9.9.9'" in capsys.readouterr().err
    assert main(["report", str(csv), "--instrument", "no-version", *common]) == 2
    assert "ID@VERSION" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "absent.csv"), "--instrument", "x@1", *common]) == 2
    assert "Data file not found" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_minimal_data_plain_spec_and_weights() -> None:
    """No wave, area, group or language column: those parts are skipped with reasons."""
    rng = np.random.default_rng(5)
    n = 240
    factors = rng.standard_normal((n, 2))
    columns = {}
    for j, prefix in enumerate(("a", "b")):
        for k in range(3):
            y = 0.8 * factors[:, j] + 0.6 * rng.standard_normal(n)
            columns[f"{prefix}{k}"] = 1 + np.searchsorted(stats.norm.ppf([0.2, 0.4, 0.6, 0.8]), y)
    data = pd.DataFrame(columns)
    data["a2"] = 6 - data["a2"]  # reverse-keyed
    data.loc[:4, "b1"] = -2  # prefer not to say
    data["w"] = rng.uniform(0.5, 2.0, n)
    spec = {
        "name": "mini@1",
        "constructs": {
            "alpha": {"items": ["a0", "a1", "a2"], "scale": [1, 5], "reverse": ["a2"]},
            "beta": {"label": "Beta <b>", "items": ["b0", "b1", "b2"], "scale": [1, 5]},
        },
    }
    report = an.build_report(data, spec, weight="w", n_boot=20)
    content = report.to_json()
    assert_matches_snapshot(content, SNAPSHOTS / "report_minimal_snapshot.json")
    json.dumps(content, allow_nan=False)
    assert content["waves"] == ["all"]
    assert content["weights"][0]["design_effect"] > 1
    assert "No 'wave' column" in content["notes"][0]
    assert "No wave column" in content["invariance"]["wave"]["skipped"]
    assert "No language column" in content["invariance"]["language"]["skipped"]
    alpha = content["indices"]["alpha"]
    assert [m["arm"] for m in alpha["means"]] == ["all"] and alpha["changes"] == []
    assert "No 'group' column" in alpha["did"][0]["skipped"]
    assert content["constructs"]["alpha"]["item_analysis"][2]["item_rest_r"] > 0.3
    html = report.to_html()
    assert "Beta &lt;b&gt;" in html and "<b>" not in html
    with pytest.raises(ValueError, match="b2"):
        an.build_report(data.drop(columns=["b2"]), spec)


def test_a_frozen_model_given_scores_unchanged_and_is_checked(
    data: pd.DataFrame, model: an.InstrumentModel, content: dict
) -> None:
    """Indices scored with a model frozen earlier, on other data, not with one refitted now."""
    early = simulate(model, {"2025": 40}, seed=7)
    frozen = an.build_report(early, model, n_boot=0, invariance=()).content["scoring_model"]
    assert frozen["hash"] != content["scoring_model"]["hash"]
    later = an.build_report(data, model, n_boot=0, invariance=(), scoring_model=frozen).content
    assert later["scoring_model"] == frozen
    assert later["indices"] == content["indices"]  # POMP with unit weights: same values
    tampered = {**frozen, "reference": {**frozen["reference"], "n": 4000}}
    with pytest.raises(ValueError, match="hash does not match"):
        an.build_report(data, model, n_boot=0, invariance=(), scoring_model=tampered)
