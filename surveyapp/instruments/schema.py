"""The instrument file format: frozen pydantic models for one questionnaire version.

An instrument file (``instruments/<id>/<version>.yaml``) validates into an
:class:`InstrumentSpec`, which keeps option sets, missing options and sources as references.
:meth:`InstrumentSpec.reference_problems` checks the rules that need the whole document, and
:meth:`InstrumentSpec.build_sections` resolves the references into the :class:`Section` and
:class:`Item` objects the app renders.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    Tag,
    field_validator,
    model_validator,
)

ItemType = Literal["scale", "single_choice", "multiple_choice", "yes_no", "number", "short_text"]
CHOICE_TYPES = frozenset({"scale", "single_choice", "multiple_choice", "yes_no"})
# Only these can be averaged into an index, so only these may belong to a construct.
SCORED_TYPES = frozenset({"scale", "yes_no"})
MIN_CONSTRUCT_ITEMS = 3

_KEY = re.compile(r"[a-z][a-z0-9_]*")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# semver.org 2.0.0, without build metadata (a build of a questionnaire is meaningless).
_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
)


def is_semver(value: str) -> bool:
    """Return whether ``value`` is a semantic version such as ``1.0.0`` or ``1.1.0-rc.1``."""
    return _SEMVER.fullmatch(value) is not None


def _version_key(value: str) -> tuple[int, int, int]:
    major, minor, patch = (int(part) for part in value.split("-")[0].split("."))
    return major, minor, patch


def _snake_case(value: str) -> str:
    if not _KEY.fullmatch(value):
        raise ValueError(f"{value!r} is not snake_case (a-z, 0-9 and _, starting with a letter)")
    return value


Key = Annotated[str, AfterValidator(_snake_case)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Option(_Frozen):
    """One answer option: the stored ``code`` and the label shown to the respondent."""

    code: StrictInt
    label: str = Field(min_length=1)


class Source(_Frozen):
    """Where item wording comes from, and under which licence."""

    citation: str = Field(min_length=1)
    licence: str = Field(min_length=1)
    url: str | None = None


class Licence(_Frozen):
    """The licence of the instrument file itself (SPDX id) and its attribution text."""

    spdx: str = Field(min_length=1)
    url: str
    attribution: str = Field(min_length=1)


class Module(_Frozen):
    """A group of sections; a wave switches optional modules on, ``core`` is always asked."""

    id: Key
    label: str
    description: str
    optional: StrictBool

    @model_validator(mode="after")
    def _core_is_always_asked(self) -> Module:
        if self.id == "core" and self.optional:
            raise ValueError("the core module cannot be optional")
        return self


class ConstructSpec(_Frozen):
    """A construct as written in the file; its items are the items that name it."""

    id: Key
    label: str
    description: str
    direction: str = Field(min_length=1)


class ShowIf(_Frozen):
    """Show an item only when an earlier item was answered with one of ``codes``."""

    item: Key
    codes: tuple[StrictInt, ...] = Field(alias="in", min_length=1)


class AttentionCheck(_Frozen):
    """Marks an instructed-response item; ``expected`` is the code a careful reader picks."""

    expected: StrictInt


class Anchors(_Frozen):
    """End labels that replace the labels of the lowest and highest code of a scale."""

    low: str = Field(min_length=1)
    high: str = Field(min_length=1)


def _options_kind(value: Any) -> str:
    return "set" if isinstance(value, str) else "inline"


# Either the key of an option set or an inline list; the discriminator keeps pydantic from
# reporting both alternatives when one of them is wrong.
OptionsRef = Annotated[
    Annotated[Key, Tag("set")] | Annotated[tuple[Option, ...], Tag("inline")],
    Discriminator(_options_kind),
]


class ItemSpec(_Frozen):
    """One question as written in the file, with references not yet resolved."""

    id: Key
    type: ItemType
    text: str = Field(min_length=1)
    source: Key
    # "construct" would shadow BaseModel.construct, hence the alias.
    construct_id: Key | None = Field(default=None, alias="construct")
    options: OptionsRef | None = None
    anchors: Anchors | None = None
    reverse: StrictBool = False
    missing: tuple[Key, ...] = ()
    required: StrictBool = True
    min: StrictInt | None = None
    max: StrictInt | None = None
    show_if: ShowIf | None = None
    attention_check: AttentionCheck | None = None
    note: str | None = None

    @property
    def construct(self) -> str | None:
        """The id of the construct this item measures, or None for descriptive items."""
        return self.construct_id

    @model_validator(mode="after")
    def _fits_its_type(self) -> ItemSpec:
        mistakes = []
        if self.reverse and self.type != "scale":
            mistakes.append(f"reverse coding is only meaningful for scale items, not {self.type}")
        if self.type in CHOICE_TYPES and self.options is None:
            mistakes.append(f"a {self.type} item needs options")
        if self.type not in CHOICE_TYPES and self.options is not None:
            mistakes.append(f"a {self.type} item cannot have options")
        if self.anchors is not None and self.type != "scale":
            mistakes.append("anchors are only meaningful for scale items")
        if self.type != "number" and (self.min is not None or self.max is not None):
            mistakes.append("min and max are only meaningful for number items")
        if self.min is not None and self.max is not None and self.min > self.max:
            mistakes.append(f"min ({self.min}) is greater than max ({self.max})")
        if mistakes:
            raise ValueError("; ".join(mistakes))
        return self


class SectionSpec(_Frozen):
    """One page of the questionnaire as written in the file."""

    id: Key
    title: str
    module: Key
    intro: str | None = None
    items: tuple[ItemSpec, ...] = ()


class Item(_Frozen):
    """A question ready to render and score: options and missing options are resolved."""

    id: str
    type: ItemType
    text: str
    source: str
    construct_id: str | None = Field(default=None, alias="construct")
    options: tuple[Option, ...] = ()
    option_set: str | None = None
    missing_options: tuple[Option, ...] = ()
    reverse: bool = False
    required: bool = True
    min: int | None = None
    max: int | None = None
    show_if: ShowIf | None = None
    attention_check: AttentionCheck | None = None
    note: str | None = None

    @property
    def construct(self) -> str | None:
        """The id of the construct this item measures, or None for descriptive items."""
        return self.construct_id

    @property
    def scale_min(self) -> int | None:
        """The lowest substantive code of a scale item, else None."""
        return min(o.code for o in self.options) if self.type == "scale" else None

    @property
    def scale_max(self) -> int | None:
        """The highest substantive code of a scale item, else None."""
        return max(o.code for o in self.options) if self.type == "scale" else None


class Section(_Frozen):
    """One page of the questionnaire with its resolved items."""

    id: str
    title: str
    module: str
    intro: str | None = None
    items: tuple[Item, ...]


class Construct(_Frozen):
    """A measured concept; ``items`` are the ids of its items in questionnaire order."""

    id: str
    label: str
    description: str
    direction: str
    module: str
    items: tuple[str, ...]


class CarryOver(_Frozen):
    """What a new version keeps from an earlier one: items whose wording, options, coding
    and construct did not change, so indices built on them stay comparable across versions.
    """

    from_version: str = Field(alias="from")
    unchanged_items: tuple[Key, ...] = Field(min_length=1)


class InstrumentSpec(_Frozen):
    """A whole instrument file as written: the canonical definition is dumped from this."""

    id: str
    version: str
    title: str = Field(min_length=1)
    source_language: str = Field(pattern=r"^[a-z]{2,3}$")
    licence: Licence
    sources: dict[Key, Source]
    option_sets: dict[Key, tuple[Option, ...]] = Field(default_factory=dict)
    missing_options: dict[Key, Option] = Field(default_factory=dict)
    modules: tuple[Module, ...]
    constructs: tuple[ConstructSpec, ...] = ()
    sections: tuple[SectionSpec, ...]
    # Only in versions after the first: which items carried over unchanged.
    carries_over: CarryOver | None = None

    @field_validator("id")
    @classmethod
    def _id_is_a_slug(cls, value: str) -> str:
        if not _SLUG.fullmatch(value):
            raise ValueError(f"{value!r} is not a slug (e.g. social-cohesion-safety)")
        return value

    @field_validator("version")
    @classmethod
    def _version_is_semver(cls, value: str) -> str:
        if not is_semver(value):
            raise ValueError(f"{value!r} is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.0.0)")
        return value

    def all_items(self) -> list[tuple[SectionSpec, ItemSpec]]:
        """Return every item with its section, in questionnaire order."""
        return [(section, item) for section in self.sections for item in section.items]

    def resolve_options(self, item: ItemSpec) -> tuple[Option, ...]:
        """Return the item's substantive options (option set or inline, anchors applied)."""
        if isinstance(item.options, str):
            options = self.option_sets.get(item.options, ())
        else:
            options = item.options or ()
        if item.anchors is None or not options:
            return options
        low = min(o.code for o in options)
        high = max(o.code for o in options)
        anchored = {low: item.anchors.low, high: item.anchors.high}
        return tuple(Option(code=o.code, label=anchored.get(o.code, o.label)) for o in options)

    def resolve_missing(self, item: ItemSpec) -> tuple[Option, ...]:
        """Return the item's missing-value options, skipping unknown keys."""
        return tuple(self.missing_options[k] for k in item.missing if k in self.missing_options)

    def build_sections(self) -> tuple[Section, ...]:
        """Resolve every section and item; call only when there are no reference problems."""
        return tuple(
            Section(
                id=section.id,
                title=section.title,
                module=section.module,
                intro=section.intro,
                items=tuple(self._build_item(item) for item in section.items),
            )
            for section in self.sections
        )

    def _build_item(self, item: ItemSpec) -> Item:
        fields = item.model_dump(by_alias=True, exclude={"options", "missing", "anchors"})
        return Item(
            **fields,
            options=self.resolve_options(item),
            option_set=item.options if isinstance(item.options, str) else None,
            missing_options=self.resolve_missing(item),
        )

    def build_constructs(self) -> tuple[Construct, ...]:
        """Return the constructs with their item ids derived from the items."""
        built = []
        for construct in self.constructs:
            members = [(s, i) for s, i in self.all_items() if i.construct == construct.id]
            built.append(
                Construct(
                    **construct.model_dump(),
                    module=members[0][0].module if members else "core",
                    items=tuple(i.id for _, i in members),
                )
            )
        return tuple(built)

    def reference_problems(self) -> list[tuple[str | None, str]]:
        """Return (item id or None, message) for every rule that needs the whole document."""
        problems: list[tuple[str | None, str]] = []
        problems += [(None, m) for m in self._table_problems()]
        module_ids = {m.id for m in self.modules}
        optional_modules = {m.id for m in self.modules if m.optional}
        construct_ids = {c.id for c in self.constructs}
        all_ids = {i.id for _, i in self.all_items()}
        earlier: dict[str, tuple[str, ItemSpec]] = {}
        for section in self.sections:
            if not section.items:
                problems.append((None, f"section {section.id!r} has no items"))
            if section.module not in module_ids:
                problems.append(
                    (None, f"section {section.id!r}: unknown module {section.module!r}")
                )
            for item in section.items:
                if item.id in earlier:
                    problems.append((item.id, f"duplicate item id {item.id!r}"))
                messages = self._item_problems(item, construct_ids)
                messages += _show_if_problems(item, section.module, earlier, all_ids, self)
                if item.attention_check is not None and section.module not in optional_modules:
                    messages.append("an attention check must be in an optional module")
                problems += [(item.id, m) for m in messages]
                earlier.setdefault(item.id, (section.module, item))
        problems += [(None, m) for m in self._construct_problems()]
        problems += self._carry_over_problems(all_ids)
        return problems

    def _carry_over_problems(self, all_ids: set[str]) -> list[tuple[str | None, str]]:
        carry = self.carries_over
        if carry is None:
            return []
        problems: list[tuple[str | None, str]] = []
        if not is_semver(carry.from_version):
            problems.append((None, f"carries_over.from {carry.from_version!r} is not a version"))
        elif _version_key(carry.from_version) >= _version_key(self.version):
            problems.append(
                (None, f"carries_over.from {carry.from_version} is not older than {self.version}")
            )
        for item_id in carry.unchanged_items:
            if item_id not in all_ids:
                problems.append((item_id, f"carried-over item {item_id!r} is not in this version"))
        return problems

    def _table_problems(self) -> list[str]:
        problems = []
        for kind, ids in (
            ("module", [m.id for m in self.modules]),
            ("construct", [c.id for c in self.constructs]),
            ("section", [s.id for s in self.sections]),
        ):
            problems += [f"duplicate {kind} id {d!r}" for d in _duplicates(ids)]
        if not self.sections:
            problems.append("the instrument has no sections")
        if "core" not in {m.id for m in self.modules}:
            problems.append("the modules must include 'core'")
        for key, options in self.option_sets.items():
            codes = [o.code for o in options]
            problems += [f"option set {key!r}: code {c} is used twice" for c in _duplicates(codes)]
        codes = [o.code for o in self.missing_options.values()]
        problems += [f"missing options: code {c} is used twice" for c in _duplicates(codes)]
        return problems

    def _item_problems(self, item: ItemSpec, construct_ids: set[str]) -> list[str]:
        problems = []
        if item.construct is not None:
            if item.construct not in construct_ids:
                problems.append(f"unknown construct {item.construct!r}")
            if item.type not in SCORED_TYPES:
                problems.append(f"a {item.type} item cannot belong to a construct")
        if item.source not in self.sources:
            problems.append(f"unknown source {item.source!r}")
        if isinstance(item.options, str) and item.options not in self.option_sets:
            problems.append(f"unknown option set {item.options!r}")
        options = self.resolve_options(item)
        codes = [o.code for o in options]
        problems += [f"option code {c} is used twice" for c in _duplicates(codes)]
        problems += [
            f"unknown missing option {k!r}" for k in item.missing if k not in self.missing_options
        ]
        problems += [f"missing option {k!r} is listed twice" for k in _duplicates(item.missing)]
        for key in item.missing:
            missing = self.missing_options.get(key)
            if missing is not None and _is_substantive(item, missing.code, codes):
                problems.append(
                    f"missing option {key!r} (code {missing.code}) "
                    "collides with a substantive answer"
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

    def _construct_problems(self) -> list[str]:
        problems = []
        for construct in self.build_constructs():
            if len(construct.items) < MIN_CONSTRUCT_ITEMS:
                problems.append(
                    f"construct {construct.id!r} has {len(construct.items)} item(s); "
                    f"a construct needs at least {MIN_CONSTRUCT_ITEMS}"
                )
            modules = {s.module for s, i in self.all_items() if i.construct == construct.id}
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
