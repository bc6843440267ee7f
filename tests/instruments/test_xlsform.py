"""XLSForm export: sheets, columns and rows, translations, and conversion by pyxform."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from openpyxl import load_workbook
from pyxform.xls2xform import convert

from surveyapp.i18n.instrument import clear_cache
from surveyapp.instruments import Instrument, load_instrument
from surveyapp.instruments.messages import missing_context, option_context
from surveyapp.instruments.xlsform import MAX_TEXT_LENGTH, export_xlsform

from ..extra_instrument import EXTRA_DEFINITION

ROOT = Path(__file__).parents[2]
CORE = ROOT / "instruments" / "social-cohesion-safety" / "1.0.0.yaml"
TRANSLATIONS = ROOT / "translations"
LANGUAGE_COLUMNS = {"en": "English (en)", "fr": "French (fr)", "ar": "Arabic (ar)"}


@pytest.fixture(scope="module")
def core() -> Instrument:
    """The shipped core instrument."""
    return load_instrument(CORE)


@pytest.fixture(autouse=True)
def _fresh_catalogs() -> Iterator[None]:
    """Catalogs are cached per directory; start and end every test without them."""
    clear_cache()
    yield
    clear_cache()


def _rows(path: Path, name: str) -> list[tuple[Any, ...]]:
    workbook = load_workbook(path)  # not read_only: that mode keeps the file open
    return list(workbook[name].iter_rows(values_only=True))


def _sheet(path: Path, name: str) -> list[dict[str, Any]]:
    header, *rows = _rows(path, name)
    return [dict(zip(header, row, strict=True)) for row in rows]


def _header(path: Path, name: str) -> list[str]:
    return [cell for cell in _rows(path, name)[0] if cell is not None]


def _convert(path: Path) -> str:
    """Convert with pyxform; its warnings come back as a list and must be empty."""
    warnings: list[str] = []
    result = convert(xlsform=str(path), warnings=warnings)
    assert warnings == []
    return result.xform


@pytest.fixture(scope="module")
def core_form(core: Instrument, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The core instrument with every module, in English, French and Arabic."""
    clear_cache()
    out = tmp_path_factory.mktemp("xlsform") / "core.xlsx"
    assert export_xlsform(core, ["en", "fr", "ar"], TRANSLATIONS, out) == out
    clear_cache()
    return out


def test_sheets_and_settings(core: Instrument, core_form: Path) -> None:
    """The standard sheets, and settings naming the form, its version and language."""
    assert load_workbook(core_form).sheetnames == ["survey", "choices", "settings"]
    assert _sheet(core_form, "settings") == [
        {
            "form_title": core.title,
            "form_id": "social-cohesion-safety_1.0.0",
            "version": "1.0.0",
            "default_language": "English (en)",
        }
    ]


def test_language_columns(core_form: Path) -> None:
    """One label column per language on both sheets; hints only for number items."""
    labels = [f"label::{name}" for name in LANGUAGE_COLUMNS.values()]
    hints = [f"hint::{name}" for name in LANGUAGE_COLUMNS.values()]
    assert _header(core_form, "survey") == [
        "type",
        "name",
        *labels,
        *hints,
        "required",
        "relevance",
        "constraint",
        "appearance",
    ]
    assert _header(core_form, "choices") == ["list_name", "name", *labels]


def test_every_item_and_section(core: Instrument, core_form: Path) -> None:
    """Each section is a group (with its intro as a note), each item a typed row."""
    rows = _sheet(core_form, "survey")
    by_name = {r["name"]: r for r in rows if r["type"] != "end group"}
    expected_types = {
        "scale": "select_one",
        "single_choice": "select_one",
        "yes_no": "select_one",
        "multiple_choice": "select_multiple",
        "number": "integer",
        "short_text": "text",
    }
    for section in core.sections:
        group = by_name[section.id]
        assert (group["type"], group["label::English (en)"]) == ("begin group", section.title)
        assert group["appearance"] == "field-list"
        if section.intro:
            assert by_name[f"{section.id}_intro"]["type"] == "note"
        for item in section.items:
            row = by_name[item.id]
            assert row["type"].split()[0] == expected_types[item.type]
            assert row["label::English (en)"] == item.text.strip()
            assert row["label::French (fr)"] and row["label::Arabic (ar)"]
            assert row["required"] == ("yes" if item.required else None)
    item_rows = [r["name"] for r in rows if r["name"] in {i.id for i in core.items}]
    assert item_rows == [i.id for i in core.items]
    assert [r["type"] for r in rows].count("end group") == len(core.sections)


def test_select_lists_are_complete(core: Instrument, core_form: Path) -> None:
    """Each choice item has its own list: its codes, then its missing codes, as names."""
    lists: dict[str, list[dict[str, Any]]] = {}
    for row in _sheet(core_form, "choices"):
        lists.setdefault(row["list_name"], []).append(row)
    choice_items = [i for i in core.items if i.options]
    assert set(lists) == {i.id for i in choice_items}
    for item in choice_items:
        options = (*item.options, *item.missing_options)
        rows = lists[item.id]
        assert [int(r["name"]) for r in rows] == [o.code for o in options]
        assert [r["label::English (en)"] for r in rows] == [o.label for o in options]
        assert all(r["label::French (fr)"] and r["label::Arabic (ar)"] for r in rows)
    ppltrst = [r["name"] for r in lists["ppltrst"]]
    assert ppltrst == [str(c) for c in range(11)] + ["-1", "-2"]


def test_conditions_and_constraints(core_form: Path) -> None:
    """show_if becomes relevance; numbers get range (plus missing codes), text a length."""
    by_name = {r["name"]: r for r in _sheet(core_form, "survey")}
    assert by_name["crmvct_12m"]["relevance"] == "${crmvct} = '1'"
    assert by_name["crmvct"]["relevance"] is None
    household = by_name["household_size"]
    assert household["constraint"] == "(. >= 1 and . <= 20) or . = -2"
    assert household["hint::English (en)"] == "-2 = Prefer not to say"
    assert household["hint::Arabic (ar)"]
    home = by_name["home_language"]
    assert (home["type"], home["required"]) == ("text", None)
    assert home["constraint"] == f"string-length(.) <= {MAX_TEXT_LENGTH}"


def test_pyxform_converts_the_core_form(core: Instrument, core_form: Path) -> None:
    """pyxform accepts the form; the XForm has every item and a translation per language."""
    head = _xml(_convert(core_form)).find(f"{H}head")
    assert head is not None
    model = head.find(f"{XF}model")
    assert model is not None
    main, *lists = model.findall(f"{XF}instance")
    form = main[0]
    assert form.get("id") == "social-cohesion-safety_1.0.0"
    assert form.get("version") == "1.0.0"
    paths = {
        item.id: f"/{form.tag.removeprefix(XF)}/{s.id}/{item.id}"
        for s in core.sections
        for item in s.items
    }
    assert {e.tag.removeprefix(XF) for e in form.iter()} >= set(paths)

    translations = model.findall(f"{XF}itext/{XF}translation")
    assert [t.get("lang") for t in translations] == list(LANGUAGE_COLUMNS.values())
    assert translations[0].get("default") == "true()"
    for translation in translations:
        text_ids = {t.get("id") for t in translation.findall(f"{XF}text")}
        assert {f"{path}:label" for path in paths.values()} <= text_ids, translation.get("lang")

    binds = {b.get("nodeset"): b for b in model.findall(f"{XF}bind")}
    relevant = binds[paths["crmvct_12m"]].get("relevant") or ""
    assert relevant.split() == [paths["crmvct"], "=", "'1'"]
    names = {instance.get("id"): [n.text for n in instance.iter(f"{XF}name")] for instance in lists}
    assert names["crmvct"] == ["1", "0", "-1", "-2"]
    assert set(names) == {i.id for i in core.items if i.options}


XF = "{http://www.w3.org/2002/xforms}"
H = "{http://www.w3.org/1999/xhtml}"


def _xml(xform: str) -> ElementTree.Element:
    return ElementTree.fromstring(xform)


def test_translations_from_catalogs(core: Instrument, tmp_path: Path) -> None:
    """Translated texts fill their language's column; untranslated ones fall back to English."""
    translations = tmp_path / "translations"
    translations.mkdir()
    shutil.copy(TRANSLATIONS / "languages.yaml", translations)
    crmvct = core.item("crmvct")
    yes = crmvct.options[0]
    catalog = Catalog(locale="fr", domain="instruments")
    catalog.add(crmvct.text.strip(), "Victime d'un cambriolage ?", context="item.crmvct")
    catalog.add("Experiences of crime", "Expériences de la criminalité", context=_title(core))
    catalog.add(yes.label, "Oui", context=option_context(core, crmvct, yes))
    dont_know = crmvct.missing_options[0]
    catalog.add(dont_know.label, "Ne sait pas", context=missing_context(core, dont_know))
    mo = translations / "fr" / "LC_MESSAGES" / "instruments.mo"
    mo.parent.mkdir(parents=True)
    with mo.open("wb") as handle:
        write_mo(handle, catalog)

    out = export_xlsform(core, ["fr"], translations, tmp_path / "fr.xlsx", modules=[])
    assert _header(out, "choices") == [
        "list_name",
        "name",
        "label::English (en)",
        "label::French (fr)",
    ]
    # modules=[]: core only, so no victimisation section.
    assert "crmvct" not in {r["name"] for r in _sheet(out, "survey")}

    out = export_xlsform(core, ["fr"], translations, tmp_path / "fr.xlsx", ["victimisation"])
    survey = {r["name"]: r for r in _sheet(out, "survey") if r["type"] != "end group"}
    assert survey["crmvct"]["label::French (fr)"] == "Victime d'un cambriolage ?"
    assert survey["victimisation"]["label::French (fr)"] == "Expériences de la criminalité"
    assert survey["crmvct_12m"]["label::French (fr)"] == core.item("crmvct_12m").text.strip()
    assert "trstplc" not in survey  # institutional_trust was not chosen
    choices = {(r["list_name"], r["name"]): r["label::French (fr)"] for r in _sheet(out, "choices")}
    assert choices["crmvct", "1"] == "Oui"
    assert choices["crmvct", "0"] == "No"
    assert choices["crmvct", "-1"] == "Ne sait pas"
    french = _xml(_convert(out)).find(f".//{XF}translation[@lang='French (fr)']")
    assert french is not None
    values = [v.text for v in french.iter(f"{XF}value")]
    assert "Victime d'un cambriolage ?" in values
    assert "Oui" in values


def _title(core: Instrument) -> str:
    return f"section.{next(s.id for s in core.sections if s.module == 'victimisation')}.title"


def test_types_the_core_form_does_not_use(tmp_path: Path) -> None:
    """select_multiple with a missing code, show_if on multiple choice and on a number."""
    demo = Instrument.from_definition(EXTRA_DEFINITION)
    out = export_xlsform(demo, ["en"], TRANSLATIONS, tmp_path / "demo.xlsx", modules=[])
    survey = {r["name"]: r for r in _sheet(out, "survey") if r["type"] != "end group"}
    assert "other" not in survey
    assert _header(out, "survey")[2:4] == ["label::English (en)", "required"]
    places = survey["places"]
    assert places["type"] == "select_multiple places"
    assert places["constraint"] == "not((selected(., '-1')) and count-selected(.) > 1)"
    assert survey["park_visits"]["relevance"] == "selected(${places}, '1')"
    assert survey["park_visits"]["constraint"] == ". >= 0"
    assert survey["many"]["relevance"] == "${park_visits} = 20 or ${park_visits} = 30"
    tags = {e.tag.removeprefix(XF) for e in _xml(_convert(out)).iter()}
    assert {"places", "park_visits", "many"} <= tags


def test_unknown_language_or_module(core: Instrument, tmp_path: Path) -> None:
    """Codes not in languages.yaml and unknown modules are refused before writing."""
    out = tmp_path / "x.xlsx"
    with pytest.raises(ValueError, match="unknown language"):
        export_xlsform(core, ["xx"], TRANSLATIONS, out)
    with pytest.raises(ValueError, match="unknown module"):
        export_xlsform(core, ["fr"], TRANSLATIONS, out, modules=["nope"])
    assert not out.exists()


def test_text_limit_matches_the_web_form() -> None:
    """Offline answers obey the same length limit as the web questionnaire."""
    from surveyapp.respond.fields import MAX_TEXT_LENGTH as WEB_LIMIT

    assert MAX_TEXT_LENGTH == WEB_LIMIT
