"""Export one instrument version as an XLSForm for offline fieldwork (ODK Collect, KoboToolbox).

:func:`export_xlsform` writes a workbook with the standard sheets ``survey``, ``choices`` and
``settings``. Every language gets its own ``label::<Name> (<code>)`` column (and ``hint::``
column when a hint is needed), e.g. ``label::English (en)``; the source language is always
included and is the form's ``default_language``. Texts not yet translated fall back to the
source text, exactly as in the web questionnaire.

Mapping from the instrument to XLSForm:

* section -> ``begin group`` / ``end group`` named after the section id, labelled with its
  title, with ``appearance field-list`` (one screen per section, like a page of the web
  form); a section intro becomes a ``note`` named ``<section id>_intro`` at the top.
* scale, single_choice, yes_no -> ``select_one <item id>``; multiple_choice ->
  ``select_multiple <item id>``. Each choice item has its own choice list named after the
  item id: the substantive options followed by the item's missing options.
* **Choice names are the instrument's numeric codes as text**, including the negative
  missing-value codes (``-1`` Don't know, ``-2`` Prefer not to say). pyxform and the
  XLSForm spec only forbid spaces in choice names (for ``select_multiple``), so ``-1`` is
  valid and collected data maps back to codes with ``int(value)``, no lookup table needed.
  A ``select_multiple`` with missing options gets a constraint so a missing code cannot be
  combined with an answer (the web form rejects that too).
* number -> ``integer`` with a ``constraint`` for min/max. Missing options of a number item
  are accepted as their negative code (``. = -2``) and listed in the ``hint``
  (``-2 = Prefer not to say``); the schema guarantees a missing code is never inside the
  item's min/max range, so the value stays unambiguous.
* short_text -> ``text`` with ``string-length(.) <= 1000`` (the web form's limit).
* ``required: true`` -> ``required yes``.
* ``show_if`` -> ``relevance``: ``${item} = '1'`` for single-choice targets,
  ``selected(${item}, '1')`` for multiple-choice targets, ``${item} = 1`` for numbers; several
  codes are joined with ``or``.
* settings: ``form_title`` (source-language title), ``form_id`` ``<instrument id>_<version>``
  (each instrument version is a separate form on the server), ``version`` (the instrument
  version) and ``default_language``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from surveyapp.i18n.catalogs import languages as platform_languages
from surveyapp.i18n.instrument import translated_sections
from surveyapp.instruments.loader import Instrument
from surveyapp.instruments.schema import Item, Option, Section

# Same limit as surveyapp.respond.fields.MAX_TEXT_LENGTH (not imported: that module pulls
# in the database layer); tests check that the two agree.
MAX_TEXT_LENGTH = 1000

_SELECT_ONE_TYPES = frozenset({"scale", "single_choice", "yes_no"})


def export_xlsform(
    instrument: Instrument,
    languages: Sequence[str],
    translations_dir: Path,
    out_path: Path,
    modules: Iterable[str] | None = None,
) -> Path:
    """Write ``instrument`` as an XLSForm (.xlsx) to ``out_path`` and return the path.

    ``languages`` are platform language codes (``translations/languages.yaml``); the
    instrument's source language is added first if missing. ``modules`` are the optional
    modules to include besides core; None includes every module. Raises ValueError for an
    unknown language or module.
    """
    known = platform_languages(Path(translations_dir))
    codes = list(dict.fromkeys([instrument.source_language, *languages]))
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise ValueError(f"unknown language(s): {unknown}; see translations/languages.yaml")
    columns = {code: f"{known[code].name} ({code})" for code in codes}

    chosen = [m.id for m in instrument.modules] if modules is None else list(modules)
    sections = instrument.sections_for(chosen)
    localised = {
        code: translated_sections(instrument, sections, code, Path(translations_dir))
        for code in codes
    }

    survey, choices = _survey_and_choices(instrument, sections, localised, columns)
    settings = {
        "form_title": instrument.title,
        "form_id": f"{instrument.id}_{instrument.version}",
        "version": instrument.version,
        "default_language": columns[instrument.source_language],
    }

    labels = [f"label::{name}" for name in columns.values()]
    hints = [f"hint::{name}" for name in columns.values()]
    has_hints = any(key in row for row in survey for key in hints)
    survey_header = [
        "type",
        "name",
        *labels,
        *(hints if has_hints else []),
        "required",
        "relevance",
        "constraint",
        "appearance",
    ]
    workbook = Workbook()
    default_sheet = workbook.active
    if default_sheet is not None:
        workbook.remove(default_sheet)
    _write_sheet(workbook, "survey", survey_header, survey)
    _write_sheet(workbook, "choices", ["list_name", "name", *labels], choices)
    _write_sheet(workbook, "settings", list(settings), [settings])
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(out_path)
    return out_path


def _survey_and_choices(
    instrument: Instrument,
    sections: tuple[Section, ...],
    localised: dict[str, tuple[Section, ...]],
    columns: dict[str, str],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    items = {item.id: item for section in sections for item in section.items}
    survey: list[dict[str, Any]] = []
    choices: list[dict[str, Any]] = []
    names: set[str] = set()

    def claim(name: str) -> str:
        if name in names:
            raise ValueError(
                f"{instrument.id} {instrument.version}: XLSForm name {name!r} is used twice"
            )
        names.add(name)
        return name

    for index, section in enumerate(sections):
        versions = {code: localised[code][index] for code in columns}
        survey.append(
            {
                "type": "begin group",
                "name": claim(section.id),
                **_labels(columns, {c: s.title for c, s in versions.items()}),
                "appearance": "field-list",
            }
        )
        if section.intro:
            survey.append(
                {
                    "type": "note",
                    "name": claim(f"{section.id}_intro"),
                    **_labels(columns, {c: s.intro or "" for c, s in versions.items()}),
                }
            )
        for position, item in enumerate(section.items):
            texts = {code: s.items[position] for code, s in versions.items()}
            row = _item_row(item, texts, columns, items)
            row["name"] = claim(item.id)
            survey.append(row)
            if item.options:
                choices += _choice_rows(item, texts, columns)
        survey.append({"type": "end group", "name": section.id})
    return survey, choices


def _item_row(
    item: Item, texts: dict[str, Item], columns: dict[str, str], items: dict[str, Item]
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "type": _xlsform_type(item),
        **_labels(columns, {code: t.text.strip() for code, t in texts.items()}),
    }
    constraint = _constraint(item)
    if constraint:
        row["constraint"] = constraint
    if item.type == "number" and item.missing_options:
        for code, text in texts.items():
            row[f"hint::{columns[code]}"] = "; ".join(
                f"{o.code} = {o.label}" for o in text.missing_options
            )
    if item.required:
        row["required"] = "yes"
    if item.show_if is not None:
        row["relevance"] = _relevance(item, items)
    return row


def _xlsform_type(item: Item) -> str:
    if item.type in _SELECT_ONE_TYPES:
        return f"select_one {item.id}"
    if item.type == "multiple_choice":
        return f"select_multiple {item.id}"
    if item.type == "number":
        return "integer"
    return "text"


def _constraint(item: Item) -> str | None:
    if item.type == "number":
        bounds = []
        if item.min is not None:
            bounds.append(f". >= {item.min}")
        if item.max is not None:
            bounds.append(f". <= {item.max}")
        accepted = [" and ".join(bounds)] if bounds else []
        accepted += [f". = {o.code}" for o in item.missing_options]
        if not bounds or not item.missing_options:
            return " or ".join(accepted) or None
        return " or ".join([f"({accepted[0]})", *accepted[1:]])
    if item.type == "multiple_choice" and item.missing_options:
        missing = " or ".join(f"selected(., '{o.code}')" for o in item.missing_options)
        return f"not(({missing}) and count-selected(.) > 1)"
    if item.type == "short_text":
        return f"string-length(.) <= {MAX_TEXT_LENGTH}"
    return None


def _relevance(item: Item, items: dict[str, Item]) -> str:
    assert item.show_if is not None
    target = items.get(item.show_if.item)
    if target is None:
        raise ValueError(
            f"item {item.id!r} is shown depending on {item.show_if.item!r}, "
            "which is not in the exported sections"
        )
    ref = f"${{{target.id}}}"
    if target.type == "multiple_choice":
        tests = [f"selected({ref}, '{code}')" for code in item.show_if.codes]
    elif target.type == "number":
        tests = [f"{ref} = {code}" for code in item.show_if.codes]
    else:
        tests = [f"{ref} = '{code}'" for code in item.show_if.codes]
    return " or ".join(tests)


def _choice_rows(
    item: Item, texts: dict[str, Item], columns: dict[str, str]
) -> list[dict[str, Any]]:
    rows = []
    for position, option in enumerate((*item.options, *item.missing_options)):
        labels = {code: _all_options(t)[position].label for code, t in texts.items()}
        rows.append({"list_name": item.id, "name": str(option.code), **_labels(columns, labels)})
    return rows


def _all_options(item: Item) -> tuple[Option, ...]:
    return (*item.options, *item.missing_options)


def _labels(columns: dict[str, str], texts: dict[str, str]) -> dict[str, str]:
    return {f"label::{columns[code]}": text for code, text in texts.items()}


def _write_sheet(
    workbook: Workbook, title: str, header: list[str], rows: list[dict[str, Any]]
) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for row in rows:
        unknown = set(row) - set(header)
        if unknown:  # a bug here, not in the instrument
            raise AssertionError(f"{title}: columns {sorted(unknown)} missing from the header")
        sheet.append([row.get(column) for column in header])
