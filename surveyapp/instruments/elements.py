"""The parts of an instrument file: options, sources, modules, constructs, items, sections.

Each part comes twice where references are involved: as written in the file (``ItemSpec``,
``SectionSpec``, ``ConstructSpec``, with option sets and missing options as keys) and as
resolved for the app (:class:`Item`, :class:`Section`, :class:`Construct`). The whole
document is :class:`surveyapp.instruments.schema.InstrumentSpec`.
"""

from __future__ import annotations

import re
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
    model_validator,
)

ItemType = Literal["scale", "single_choice", "multiple_choice", "yes_no", "number", "short_text"]
CHOICE_TYPES = frozenset({"scale", "single_choice", "multiple_choice", "yes_no"})
# Only these can be averaged into an index, so only these may belong to a construct.
SCORED_TYPES = frozenset({"scale", "yes_no"})
MIN_CONSTRUCT_ITEMS = 3

_KEY = re.compile(r"[a-z][a-z0-9_]*")
# semver.org 2.0.0, without build metadata (a build of a questionnaire is meaningless).
_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
)


def is_semver(value: str) -> bool:
    """Return whether ``value`` is a semantic version such as ``1.0.0`` or ``1.1.0-rc.1``."""
    return _SEMVER.fullmatch(value) is not None


def _snake_case(value: str) -> str:
    if not _KEY.fullmatch(value):
        raise ValueError(f"{value!r} is not snake_case (a-z, 0-9 and _, starting with a letter)")
    return value


Key = Annotated[str, AfterValidator(_snake_case)]


class FrozenModel(BaseModel):
    """The base of every instrument model: immutable, and unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Option(FrozenModel):
    """One answer option: the stored ``code`` and the label shown to the respondent."""

    code: StrictInt
    label: str = Field(min_length=1)


class Source(FrozenModel):
    """Where item wording comes from, and under which licence."""

    citation: str = Field(min_length=1)
    licence: str = Field(min_length=1)
    url: str | None = None


class Licence(FrozenModel):
    """The licence of the instrument file itself (SPDX id) and its attribution text."""

    spdx: str = Field(min_length=1)
    url: str
    attribution: str = Field(min_length=1)


class Module(FrozenModel):
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


class ConstructSpec(FrozenModel):
    """A construct as written in the file; its items are the items that name it."""

    id: Key
    label: str
    description: str
    direction: str = Field(min_length=1)


class ShowIf(FrozenModel):
    """Show an item only when an earlier item was answered with one of ``codes``."""

    item: Key
    codes: tuple[StrictInt, ...] = Field(alias="in", min_length=1)


class AttentionCheck(FrozenModel):
    """Marks an instructed-response item; ``expected`` is the code a careful reader picks."""

    expected: StrictInt


class Anchors(FrozenModel):
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


class ItemSpec(FrozenModel):
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
    #: The item's code in its source, e.g. "ESS C7 (rounds 3-5)" or an ESS variable name.
    source_item: str | None = None

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


class SectionSpec(FrozenModel):
    """One page of the questionnaire as written in the file."""

    id: Key
    title: str
    module: Key
    intro: str | None = None
    items: tuple[ItemSpec, ...] = ()


class Item(FrozenModel):
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
    #: The item's code in its source, e.g. "ESS C7 (rounds 3-5)" or an ESS variable name.
    source_item: str | None = None

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


class Section(FrozenModel):
    """One page of the questionnaire with its resolved items."""

    id: str
    title: str
    module: str
    intro: str | None = None
    items: tuple[Item, ...]


class Construct(FrozenModel):
    """A measured concept; ``items`` are the ids of its items in questionnaire order."""

    id: str
    label: str
    description: str
    direction: str
    module: str
    items: tuple[str, ...]


class CarryOver(FrozenModel):
    """What a new version keeps from an earlier one: items whose wording, options, coding
    and construct did not change, so indices built on them stay comparable across versions.
    """

    from_version: str = Field(alias="from")
    unchanged_items: tuple[Key, ...] = Field(min_length=1)
