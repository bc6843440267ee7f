"""The rules of an instrument file that need the whole document.

Pydantic checks each part on its own (:mod:`surveyapp.instruments.elements`); these rules
check what the parts say about each other: unique ids, known modules, constructs, sources,
option sets and missing options, ``show_if`` conditions on earlier items, attention checks,
the size of each construct and what a version carries over from an earlier one.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from surveyapp.instruments.elements import (
    CHOICE_TYPES,
    MIN_CONSTRUCT_ITEMS,
    SCORED_TYPES,
    ItemSpec,
    is_semver,
)

if TYPE_CHECKING:
    from surveyapp.instruments.schema import InstrumentSpec


def document_problems(spec: InstrumentSpec) -> list[tuple[str | None, str]]:
    """Return (item id or None, message) for every rule that needs the whole document."""
    problems: list[tuple[str | None, str]] = []
    problems += [(None, m) for m in _table_problems(spec)]
    module_ids = {m.id for m in spec.modules}
    optional_modules = {m.id for m in spec.modules if m.optional}
    construct_ids = {c.id for c in spec.constructs}
    all_ids = {i.id for _, i in spec.all_items()}
    earlier: dict[str, tuple[str, ItemSpec]] = {}
    for section in spec.sections:
        if not section.items:
            problems.append((None, f"section {section.id!r} has no items"))
        if section.module not in module_ids:
            problems.append((None, f"section {section.id!r}: unknown module {section.module!r}"))
        for item in section.items:
            if item.id in earlier:
                problems.append((item.id, f"duplicate item id {item.id!r}"))
            messages = _item_problems(spec, item, construct_ids)
            messages += _show_if_problems(item, section.module, earlier, all_ids, spec)
            if item.attention_check is not None and section.module not in optional_modules:
                messages.append("an attention check must be in an optional module")
            problems += [(item.id, m) for m in messages]
            earlier.setdefault(item.id, (section.module, item))
    problems += [(None, m) for m in _construct_problems(spec)]
    problems += _carry_over_problems(spec, all_ids)
    return problems


def _carry_over_problems(spec: InstrumentSpec, all_ids: set[str]) -> list[tuple[str | None, str]]:
    carry = spec.carries_over
    if carry is None:
        return []
    problems: list[tuple[str | None, str]] = []
    if not is_semver(carry.from_version):
        problems.append((None, f"carries_over.from {carry.from_version!r} is not a version"))
    elif _version_key(carry.from_version) >= _version_key(spec.version):
        problems.append(
            (None, f"carries_over.from {carry.from_version} is not older than {spec.version}")
        )
    for item_id in carry.unchanged_items:
        if item_id not in all_ids:
            problems.append((item_id, f"carried-over item {item_id!r} is not in this version"))
    return problems


def _table_problems(spec: InstrumentSpec) -> list[str]:
    problems = []
    for kind, ids in (
        ("module", [m.id for m in spec.modules]),
        ("construct", [c.id for c in spec.constructs]),
        ("section", [s.id for s in spec.sections]),
    ):
        problems += [f"duplicate {kind} id {d!r}" for d in _duplicates(ids)]
    if not spec.sections:
        problems.append("the instrument has no sections")
    if "core" not in {m.id for m in spec.modules}:
        problems.append("the modules must include 'core'")
    for key, options in spec.option_sets.items():
        codes = [o.code for o in options]
        problems += [f"option set {key!r}: code {c} is used twice" for c in _duplicates(codes)]
    codes = [o.code for o in spec.missing_options.values()]
    problems += [f"missing options: code {c} is used twice" for c in _duplicates(codes)]
    return problems


def _item_problems(spec: InstrumentSpec, item: ItemSpec, construct_ids: set[str]) -> list[str]:
    problems = []
    if item.construct is not None:
        if item.construct not in construct_ids:
            problems.append(f"unknown construct {item.construct!r}")
        if item.type not in SCORED_TYPES:
            problems.append(f"a {item.type} item cannot belong to a construct")
    if item.source not in spec.sources:
        problems.append(f"unknown source {item.source!r}")
    if isinstance(item.options, str) and item.options not in spec.option_sets:
        problems.append(f"unknown option set {item.options!r}")
    options = spec.resolve_options(item)
    codes = [o.code for o in options]
    problems += [f"option code {c} is used twice" for c in _duplicates(codes)]
    problems += [
        f"unknown missing option {k!r}" for k in item.missing if k not in spec.missing_options
    ]
    problems += [f"missing option {k!r} is listed twice" for k in _duplicates(item.missing)]
    for key in item.missing:
        missing = spec.missing_options.get(key)
        if missing is not None and _is_substantive(item, missing.code, codes):
            problems.append(
                f"missing option {key!r} (code {missing.code}) collides with a substantive answer"
            )
    if item.attention_check is not None:
        if item.attention_check.expected not in codes:
            problems.append(
                f"attention check expects code {item.attention_check.expected}, "
                "which is not one of its options"
            )
        if item.construct is not None:
            problems.append("an attention check cannot belong to a construct")
    return problems


def _construct_problems(spec: InstrumentSpec) -> list[str]:
    problems = []
    for construct in spec.build_constructs():
        if len(construct.items) < MIN_CONSTRUCT_ITEMS:
            problems.append(
                f"construct {construct.id!r} has {len(construct.items)} item(s); "
                f"a construct needs at least {MIN_CONSTRUCT_ITEMS}"
            )
        modules = {s.module for s, i in spec.all_items() if i.construct == construct.id}
        if len(modules) > 1:
            problems.append(
                f"construct {construct.id!r} has items in several modules: "
                + ", ".join(sorted(modules))
            )
    return problems


def _show_if_problems(
    item: ItemSpec,
    module: str,
    earlier: dict[str, tuple[str, ItemSpec]],
    all_ids: set[str],
    spec: InstrumentSpec,
) -> list[str]:
    if item.show_if is None:
        return []
    target = item.show_if.item
    if target == item.id:
        return ["show_if refers to the item itself"]
    if target not in earlier:
        if target in all_ids:
            return [f"show_if refers to item {target!r}, which comes later; it must be earlier"]
        return [f"show_if refers to unknown item {target!r}"]
    target_module, target_item = earlier[target]
    problems = []
    if target_module not in ("core", module):
        problems.append(
            f"show_if refers to item {target!r} in module {target_module!r}, "
            "which may not be asked; use an item from core or the same module"
        )
    options = spec.resolve_options(target_item)
    known = {o.code for o in options + spec.resolve_missing(target_item)}
    if target_item.type in CHOICE_TYPES and options:  # no options: reported on the target
        unknown = [c for c in item.show_if.codes if c not in known]
        problems += [f"show_if code {c} is not an option of item {target!r}" for c in unknown]
    return problems


def _is_substantive(item: ItemSpec, code: int, option_codes: list[int]) -> bool:
    if item.type == "number":
        low = item.min if item.min is not None else float("-inf")
        high = item.max if item.max is not None else float("inf")
        return low <= code <= high
    return code in option_codes


def _duplicates(values: list[Any] | tuple[Any, ...]) -> list[Any]:
    return [value for value, count in Counter(values).items() if count > 1]


def _version_key(value: str) -> tuple[int, int, int]:
    major, minor, patch = (int(part) for part in value.split("-")[0].split("."))
    return major, minor, patch
