"""TRAPD review: sheets out and back, per-string status in the catalogs, the language's status."""

from __future__ import annotations

import difflib
import shutil
import subprocess
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask.testing import FlaskCliRunner
from openpyxl import load_workbook

from surveyapp.cli import main
from surveyapp.i18n import catalogs
from surveyapp.i18n.review import StringReview, record_review, string_review
from surveyapp.i18n.review_sheet import COLUMNS, ReviewSheetError, export_sheet, import_sheet
from surveyapp.instruments import Instrument
from surveyapp.instruments.messages import item_context

from ..conftest import PROJECT_ROOT, TRANSLATIONS


@pytest.fixture
def translations(tmp_path: Path) -> Path:
    """A copy of the committed catalogs that a test may change."""
    copy = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS, copy, ignore=shutil.ignore_patterns("*.mo"))
    return copy


def _column(title: str) -> int:
    return COLUMNS.index(title) + 1


def _edit(sheet_path: Path, out: Path, edits: dict[str, dict[str, str]]) -> None:
    """Set cells of the rows whose context is a key of ``edits`` ({context: {column: value}})."""
    workbook = load_workbook(sheet_path)
    sheet = workbook["Review"]
    found = set()
    for number in range(2, sheet.max_row + 1):
        context = sheet.cell(row=number, column=_column("Context")).value
        if context in edits:
            found.add(context)
            for title, value in edits[context].items():
                sheet.cell(row=number, column=_column(title), value=value)
    assert found == set(edits)
    workbook.save(out)


def _entry(translations: Path, domain: str, context: str) -> object:
    with catalogs.po_path(translations, "fr", domain).open("rb") as handle:
        return next(m for m in read_po(handle) if m.context == context)


def _changed_lines(before: Path, after: Path) -> list[str]:
    diff = difflib.unified_diff(
        before.read_text(encoding="utf-8").splitlines(),
        after.read_text(encoding="utf-8").splitlines(),
        n=0,
    )
    return [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]


def test_french_sheet_round_trip_changes_exactly_the_edited_strings(
    translations: Path, tmp_path: Path
) -> None:
    """Export French, adjudicate one item and review another: only those two entries change."""
    sheet = tmp_path / "fr.xlsx"
    rows = export_sheet(translations, "fr", sheet)
    assert rows > 1000
    edited = tmp_path / "fr-reviewed.xlsx"
    new_text = (
        "Diriez-vous que la plupart des gens cherchent à tirer profit de vous s'ils en ont "
        "l'occasion, ou qu'ils cherchent à se conduire correctement ?"
    )
    _edit(
        sheet,
        edited,
        {
            "item.pplfair": {
                "Adjudicated text": new_text,
                "Back-translation": "Would most people try to take advantage\nof you?",
                "Reviewer comment": "Use the ESS France wording.",
                "Status": "adjudicated",
            },
            "item.pplhlp": {"Status": "reviewed"},
        },
    )
    before = {d: catalogs.po_path(TRANSLATIONS, "fr", d) for d in catalogs.DOMAINS}

    changes = import_sheet(translations, "fr", edited)

    assert sorted((c.context, c.text_changed, c.review.state) for c in changes) == [
        ("item.pplfair", True, "adjudicated"),
        ("item.pplhlp", False, "reviewed"),
    ]
    assert (
        _changed_lines(before["messages"], catalogs.po_path(translations, "fr", "messages")) == []
    )
    changed = _changed_lines(
        before["instruments"], catalogs.po_path(translations, "fr", "instruments")
    )
    assert sum(line.startswith("+# review:") for line in changed) == 2
    assert len([line for line in changed if line.startswith("-")]) == 2  # pplfair's msgstr
    pplfair = _entry(translations, "instruments", "item.pplfair")
    assert pplfair.string == new_text  # type: ignore[attr-defined]
    assert string_review(pplfair) == StringReview(
        "adjudicated",
        "Would most people try to take advantage of you?",
        "Use the ESS France wording.",
    )
    counts = catalogs.review_counts(translations, "fr")
    assert (counts["adjudicated"], counts["reviewed"]) == (1, 1)
    # The sheet now disagrees with the catalog: importing it again is refused.
    with pytest.raises(ReviewSheetError, match="the catalog changed since the export"):
        import_sheet(translations, "fr", edited)
    # A fresh export, imported unedited, changes nothing.
    export_sheet(translations, "fr", sheet)
    assert import_sheet(translations, "fr", sheet) == []


def test_bad_rows_are_named_and_nothing_is_saved(translations: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "fr.xlsx"
    export_sheet(translations, "fr", sheet)
    bad = tmp_path / "bad.xlsx"
    _edit(
        sheet,
        bad,
        {
            "item.pplfair": {"Adjudicated text": "Texte correct", "Status": "adjudicated"},
            "item.pplhlp": {"Status": "approved"},
            "item.ppltrst": {"English": "Something else"},
        },
    )
    before = {d: catalogs.po_path(translations, "fr", d).read_bytes() for d in catalogs.DOMAINS}
    with pytest.raises(ReviewSheetError) as caught:
        import_sheet(translations, "fr", bad)
    problems = "\n".join(caught.value.problems)
    assert "column J (Status): 'approved' is not one of draft, reviewed, adjudicated" in problems
    assert "column D (English): no such text" in problems
    assert "row " in problems
    after = {d: catalogs.po_path(translations, "fr", d).read_bytes() for d in catalogs.DOMAINS}
    assert after == before


def test_placeholders_and_columns_are_checked(translations: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "fr.xlsx"
    export_sheet(translations, "fr", sheet)
    workbook = load_workbook(sheet)
    rows = workbook["Review"]
    number = next(
        n
        for n in range(2, rows.max_row + 1)
        if "%(" in str(rows.cell(row=n, column=_column("English")).value)
    )
    rows.cell(row=number, column=_column("Adjudicated text"), value="Sans paramètre")
    workbook.save(tmp_path / "placeholders.xlsx")
    with pytest.raises(ReviewSheetError, match=rf"row {number}, column I .*placeholders"):
        import_sheet(translations, "fr", tmp_path / "placeholders.xlsx")
    rows.cell(row=1, column=_column("Status"), value="State")
    workbook.save(tmp_path / "header.xlsx")
    with pytest.raises(ReviewSheetError, match="row 1, column J: expected 'Status'"):
        import_sheet(translations, "fr", tmp_path / "header.xlsx")


def test_language_status_derives_from_its_strings(translations: Path) -> None:
    """All strings adjudicated but one reviewed: the language is reviewed."""
    for domain in catalogs.DOMAINS:
        path = catalogs.po_path(translations, "de", domain)
        catalog = catalogs.read_catalog(path, "de")
        for message in catalog:
            if message.id:
                record_review(message, StringReview("adjudicated"))
        if domain == "instruments":
            record_review(
                catalog.get("This is a close-knit neighbourhood.", "item.nbh_close_knit"),
                StringReview("reviewed"),
            )
        catalogs.write_catalog(path, catalog)
    languages = catalogs.languages(translations)
    assert languages["de"].review == "reviewed"
    assert languages["fr"].review == "draft"
    assert languages["en"].review == "source"


def test_review_comments_survive_an_update(translations: Path) -> None:
    """`surveyapp i18n update` (Babel's merge) keeps each string's review and own notes."""
    path = catalogs.po_path(translations, "fr", "instruments")
    catalog = catalogs.read_catalog(path, "fr")
    message = catalog.get("People in this neighbourhood can be trusted.", "item.nbh_trusted")
    message.user_comments = ["Checked against ESS France."]
    record_review(message, StringReview("reviewed", "People here can be trusted."))
    catalogs.write_catalog(path, catalog)
    catalogs.update(translations)
    kept = _entry(translations, "instruments", "item.nbh_trusted")
    assert kept.user_comments[0] == "Checked against ESS France."  # type: ignore[attr-defined]
    assert string_review(kept).state == "reviewed"


def test_status_command_counts_strings_per_review_state(
    runner: FlaskCliRunner, translations: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(runner.app.config, "BABEL_TRANSLATION_DIRECTORIES", str(translations))
    sheet = tmp_path / "fr.xlsx"
    assert runner.invoke(main, ["i18n", "review-export", "fr", str(sheet)]).exit_code == 0
    _edit(sheet, sheet, {"item.pplhlp": {"Status": "reviewed"}})
    result = runner.invoke(main, ["i18n", "review-import", "fr", str(sheet)])
    assert result.exit_code == 0, result.output
    assert "1 text(s) changed" in result.output
    result = runner.invoke(main, ["i18n", "status"])
    french = next(line for line in result.output.splitlines() if line.startswith("fr "))
    assert french.split()[3:] == [
        str(catalogs.review_counts(translations, "fr")["draft"]),
        "1",
        "0",
        "draft",
    ]
    result = runner.invoke(main, ["i18n", "review-export", "en", str(sheet)])
    assert result.exit_code != 0 and "not a translated language" in result.output


def test_every_item_text_names_its_source_for_translators() -> None:
    with (TRANSLATIONS / "instruments.pot").open("rb") as handle:
        items = [m for m in read_po(handle) if m.context and m.context.startswith("item.")]
    assert items
    for message in items:
        assert any(c.startswith("source: ") for c in message.auto_comments), message.context
    burglary = next(m for m in items if m.context == "item.worry_burglary")
    assert "source item: ESS C7 (rounds 3-5)" in burglary.auto_comments


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext's msgfmt is not installed")
def test_every_catalog_passes_msgfmt_check() -> None:
    for path in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/*.po")):
        result = subprocess.run(
            ["msgfmt", "--check", "--output-file=/dev/null", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr


def test_plural_forms_have_one_row_each(translations: Path, tmp_path: Path) -> None:
    """Polish has three forms of "N days": a reviewer can adjudicate the third alone."""
    sheet = tmp_path / "pl.xlsx"
    export_sheet(translations, "pl", sheet)
    workbook = load_workbook(sheet)
    rows = workbook["Review"]
    forms = [
        n
        for n in range(2, rows.max_row + 1)
        if rows.cell(row=n, column=_column("Context")).value is None
        and rows.cell(row=n, column=_column("English")).value in ("%(num)s day", "%(num)s days")
    ]
    assert [rows.cell(row=n, column=_column("Form")).value for n in forms] == [0, 1, 2]
    for n in forms:
        rows.cell(row=n, column=_column("Status"), value="adjudicated")
    rows.cell(row=forms[2], column=_column("Adjudicated text"), value="%(num)s dni (d.)")
    workbook.save(sheet)
    changes = import_sheet(translations, "pl", sheet)
    assert [(c.msgid, c.text_changed, c.review.state) for c in changes] == [
        ("%(num)s day", True, "adjudicated")
    ]
    path = catalogs.po_path(translations, "pl", "messages")
    entry = next(
        m for m in catalogs.read_catalog(path, "pl") if m.id == ("%(num)s day", "%(num)s days")
    )
    assert entry.string == ("%(num)s dzień", "%(num)s dni", "%(num)s dni (d.)")


def test_sheet_shows_sources_and_reasons_for_changes(translations: Path, tmp_path: Path) -> None:
    """Reviewers see the item's source and why a translation was changed, beside the text."""
    sheet = tmp_path / "fr.xlsx"
    export_sheet(translations, "fr", sheet)
    rows = load_workbook(sheet)["Review"]
    notes = next(
        rows.cell(row=n, column=_column("Notes for translators")).value
        for n in range(2, rows.max_row + 1)
        if rows.cell(row=n, column=_column("Context")).value == "item.pplfair"
    )
    assert "source item: ESS pplfair" in notes
    assert "se conduire correctement" in notes


def test_context_file_names_only_items_of_its_instrument(core_instrument: Instrument) -> None:
    """A typo in the translator-context file would silently drop a source code: refuse it."""
    definition = PROJECT_ROOT / "instruments" / "social-cohesion-safety" / "1.0.0.yaml"
    extra = item_context(definition)
    assert extra["worry_burglary"]["source_item"] == "ESS C7 (rounds 3-5)"
    known = {item.id for item in core_instrument.items}
    assert set(extra) <= known


def test_import_command_names_the_bad_cell_and_changes_nothing(
    runner: FlaskCliRunner, translations: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(runner.app.config, "BABEL_TRANSLATION_DIRECTORIES", str(translations))
    sheet = tmp_path / "fr.xlsx"
    assert runner.invoke(main, ["i18n", "review-export", "fr", str(sheet)]).exit_code == 0
    _edit(sheet, sheet, {"item.pplhlp": {"Status": "done"}})
    before = catalogs.po_path(translations, "fr", "instruments").read_bytes()
    result = runner.invoke(main, ["i18n", "review-import", "fr", str(sheet)])
    assert result.exit_code != 0
    assert "column J (Status): 'done' is not one of" in result.output
    assert "no catalog was changed" in result.output
    assert catalogs.po_path(translations, "fr", "instruments").read_bytes() == before
