"""The instrument file format: frozen pydantic models for one questionnaire version.

An instrument file (``instruments/<id>/<version>.yaml``) validates into an
:class:`InstrumentSpec`, which keeps option sets, missing options and sources as references.
:meth:`InstrumentSpec.reference_problems` checks the rules that need the whole document
(:mod:`surveyapp.instruments.references`), and :meth:`InstrumentSpec.build_sections` resolves
the references into the :class:`Section` and :class:`Item` objects the app renders. The parts
of a file are defined in :mod:`surveyapp.instruments.elements` and importable from here.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from surveyapp.instruments.elements import (
    CHOICE_TYPES,
    MIN_CONSTRUCT_ITEMS,
    SCORED_TYPES,
    Anchors,
    AttentionCheck,
    CarryOver,
    Construct,
    ConstructSpec,
    FrozenModel,
    Item,
    ItemSpec,
    ItemType,
    Key,
    Licence,
    Module,
    Option,
    OptionsRef,
    Section,
    SectionSpec,
    ShowIf,
    Source,
    is_semver,
)
from surveyapp.instruments.references import document_problems

__all__ = [
    "CHOICE_TYPES",
    "MIN_CONSTRUCT_ITEMS",
    "SCORED_TYPES",
    "Anchors",
    "AttentionCheck",
    "CarryOver",
    "Construct",
    "ConstructSpec",
    "FrozenModel",
    "InstrumentSpec",
    "Item",
    "ItemSpec",
    "ItemType",
    "Key",
    "Licence",
    "Module",
    "Option",
    "OptionsRef",
    "Section",
    "SectionSpec",
    "ShowIf",
    "Source",
    "is_semver",
]

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class InstrumentSpec(FrozenModel):
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
        return document_problems(self)
