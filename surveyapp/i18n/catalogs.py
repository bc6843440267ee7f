"""gettext catalogs: extraction, updating, compiling, completeness and safety checks.

Two domains live in ``translations/<locale>/LC_MESSAGES/``: ``messages`` (the interface,
extracted with ``babel.cfg``) and ``instruments`` (questionnaire texts, extracted from the
YAML files with :func:`surveyapp.instruments.messages.babel_extract`). The languages and
their review status are listed in ``translations/languages.yaml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from surveyapp.i18n.review import STRING_STATES, string_review
from surveyapp.i18n.review import language_state as review_language_state

DOMAINS = ("messages", "instruments")
REVIEW_STATES = ("source", "draft", "reviewed", "adjudicated")
INSTRUMENT_METHOD = "surveyapp.instruments.messages:babel_extract"
#: Babel's gettext names plus the lazy ones forms use at class level (``_l``).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}


class CatalogError(ValueError):
    """The language list or a catalog is not usable; the message says where."""


@dataclass(frozen=True)
class Language:
    """A language from ``translations/languages.yaml``."""

    code: str
    name: str
    native: str
    direction: str
    review: str


def languages(translations_dir: Path) -> dict[str, Language]:
    """The languages of the platform, source language first.

    The source language says ``review: source`` in ``languages.yaml``; every other
    language's review status derives from its strings (:mod:`surveyapp.i18n.review`).
    """
    path = translations_dir / "languages.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    result = {}
    for code, info in data.items():
        review = info.get("review")
        if review not in (None, "source"):
            raise CatalogError(
                f"{path}: {code}: only the source language says review (source); the others'"
                " status comes from their catalogs"
            )
        if info.get("dir") not in ("ltr", "rtl"):
            raise CatalogError(f"{path}: {code}: dir must be ltr or rtl")
        if review is None:
            review = language_state(review_counts(translations_dir, code))
        result[code] = Language(code, info["name"], info["native"], info["dir"], review)
    return result


def _stamp(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return (0, 0)
    return (stat.st_mtime_ns, stat.st_size)


def review_counts(translations_dir: Path, locale: str) -> dict[str, int]:
    """How many strings of a language (both domains) are in each review state."""
    paths = tuple(po_path(translations_dir, locale, domain) for domain in DOMAINS)
    return dict(_review_counts(paths, tuple(_stamp(p) for p in paths)))


@lru_cache(maxsize=64)
def _review_counts(
    paths: tuple[Path, ...], stamps: tuple[tuple[int, int], ...]
) -> tuple[tuple[str, int], ...]:
    # Pages ask for the languages on every request: read the catalogs again only when
    # one of them changed (``stamps``).
    counts = dict.fromkeys(STRING_STATES, 0)
    for path in paths:
        if path.exists():
            for message in read_catalog(path, path.parts[-3]):
                if message.id:
                    counts[string_review(message).state] += 1
    return tuple(counts.items())


def language_state(counts: dict[str, int]) -> str:
    """A language's review status from its strings' counts (the least advanced state)."""
    return review_language_state(state for state, n in counts.items() if n)


def template_path(translations_dir: Path, domain: str) -> Path:
    """Where the extracted template (``.pot``) of a domain is kept."""
    return translations_dir / f"{domain}.pot"


def po_path(translations_dir: Path, locale: str, domain: str) -> Path:
    """The catalog of one language and domain."""
    return translations_dir / locale / "LC_MESSAGES" / f"{domain}.po"


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    """Read a ``.po`` or ``.pot`` file."""
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def write_catalog(path: Path, catalog: Catalog) -> None:
    """Write a catalog the way every command writes it (lines up to 100 characters, in order)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Babel flags them again on every read: drop the false flags on every write.
    _drop_false_python_format(catalog)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, sort_output=False, omit_header=False)


def extract(project_root: Path, translations_dir: Path) -> dict[str, int]:
    """Write ``messages.pot`` and ``instruments.pot``; return the number of texts in each."""
    counts = {}
    with (project_root / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    sources: dict[str, tuple[Path, list[tuple[str, str]], dict[str, Any]]] = {
        "messages": (project_root, method_map, options_map),
        "instruments": (
            project_root,
            [("instruments/**.yaml", INSTRUMENT_METHOD)],
            {"instruments/**.yaml": {}},
        ),
    }
    for domain, (root, mapping, options) in sources.items():
        catalog = Catalog(project="surveyapp", charset="utf-8", fuzzy=False)
        for filename, lineno, message, comments, context in extract_from_dir(
            root, mapping, options, keywords=KEYWORDS, comment_tags=("I18N:", "TRANSLATORS:")
        ):
            catalog.add(
                message, None, [(filename, lineno)], auto_comments=comments, context=context
            )
        write_catalog(template_path(translations_dir, domain), catalog)
        counts[domain] = len(catalog)
    return counts


_NAMED_PLACEHOLDER = re.compile(r"%\(\w+\)")


def _drop_false_python_format(catalog: Catalog) -> None:
    """Unflag texts Babel took for format strings because of a literal ``%`` ("95% intervals").

    The code passes only named placeholders (``%(days)s``) and never %-formats a text without
    any, so "95% i" is not a directive; the flag would make ``msgfmt -c`` reject every
    translation that writes "95 %" the way its language does.
    """
    for message in catalog:
        ids = message.id if isinstance(message.id, (list, tuple)) else [message.id]
        if "python-format" in message.flags and not any(_NAMED_PLACEHOLDER.search(i) for i in ids):
            message.flags.discard("python-format")


def update(translations_dir: Path) -> dict[str, dict[str, int]]:
    """Create or update every language's catalogs from the templates (no fuzzy guesses).

    Returns, per language and domain, how many texts still need a translation.
    """
    untranslated: dict[str, dict[str, int]] = {}
    for code, language in languages(translations_dir).items():
        if language.review == "source":
            continue
        for domain in DOMAINS:
            template = read_catalog(template_path(translations_dir, domain))
            path = po_path(translations_dir, code, domain)
            if path.exists():
                catalog = read_catalog(path, code)
                catalog.update(template, no_fuzzy_matching=True)
            else:
                catalog = Catalog(locale=code, domain=domain, project="surveyapp", fuzzy=False)
                catalog.update(template, no_fuzzy_matching=True)
            catalog.obsolete.clear()
            write_catalog(path, catalog)
            untranslated.setdefault(code, {})[domain] = sum(
                1 for m in catalog if m.id and not _translated(m)
            )
    return untranslated


def compile_catalogs(translations_dir: Path) -> list[Path]:
    """Compile every ``.po`` into the ``.mo`` gettext reads at run time."""
    written = []
    for path in sorted(translations_dir.glob("*/LC_MESSAGES/*.po")):
        catalog = read_catalog(path, path.parts[-3])
        target = path.with_suffix(".mo")
        with target.open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
        written.append(target)
    return written


def _translated(message: Any) -> bool:
    strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
    return bool(message.id) and not message.fuzzy and all(s and s.strip() for s in strings)


def _key(message: Any) -> tuple[str | None, str]:
    msgid = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
    return (message.context, msgid)


def translated_keys(
    translations_dir: Path, locale: str, domain: str
) -> set[tuple[str | None, str]]:
    """(context, msgid) pairs that have a real translation in a language's catalog."""
    path = po_path(translations_dir, locale, domain)
    if not path.exists():
        return set()
    return {_key(m) for m in read_catalog(path, locale) if _translated(m)}


def status(translations_dir: Path) -> list[dict[str, Any]]:
    """Per language: share of interface and instrument texts translated, review status."""
    templates = {
        domain: {_key(m) for m in read_catalog(template_path(translations_dir, domain)) if m.id}
        for domain in DOMAINS
    }
    rows = []
    for code, language in languages(translations_dir).items():
        row: dict[str, Any] = {
            "language": code,
            "name": language.name,
            "native_name": language.native,
            "direction": language.direction,
            "review_status": language.review,
            "strings_by_review": {}
            if language.review == "source"
            else review_counts(translations_dir, code),
        }
        for domain, label in (("messages", "ui"), ("instruments", "instrument")):
            total = len(templates[domain])
            if language.review == "source":
                done = total
            else:
                done = len(templates[domain] & translated_keys(translations_dir, code, domain))
            row[f"{label}_translated"] = done
            row[f"{label}_total"] = total
            row[f"{label}_percent"] = round(100 * done / total, 1) if total else 100.0
        rows.append(row)
    return rows


_PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}")
_TAG = re.compile(r"</?[A-Za-z][^>]*>")


@dataclass(frozen=True)
class TranslationProblem:
    """A translation that would break a page: names the file, the text and the problem."""

    path: str
    context: str | None
    msgid: str
    problem: str

    def __str__(self) -> str:
        where = f"{self.context} " if self.context else ""
        return f"{self.path}: {where}{self.msgid[:60]!r}: {self.problem}"


def string_problems(msgid: str, string: str) -> list[str]:
    """What would break a page if ``string`` replaced ``msgid``: placeholders, markup."""
    problems: list[str] = []
    expected = sorted(_PLACEHOLDER.findall(msgid))
    found = sorted(_PLACEHOLDER.findall(string))
    if found != expected:
        problems.append(f"placeholders {found} differ from the source's {expected}")
    if _TAG.search(string) and not _TAG.search(msgid):
        problems.append("HTML markup in the translation")
    return problems


def check(translations_dir: Path) -> list[TranslationProblem]:
    """Placeholders that differ from the source text, and HTML markup, in any translation."""
    problems: list[TranslationProblem] = []
    for path in sorted(translations_dir.glob("*/LC_MESSAGES/*.po")):
        for message in read_catalog(path, path.parts[-3]):
            if not message.id or not _translated(message):
                continue
            msgid = _key(message)[1]
            strings = (
                message.string if isinstance(message.string, (list, tuple)) else [message.string]
            )
            for string in strings:
                problems.extend(
                    TranslationProblem(str(path), message.context, msgid, problem)
                    for problem in string_problems(msgid, string or "")
                )
    return problems
