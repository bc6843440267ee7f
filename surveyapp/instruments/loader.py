"""Load instrument files into frozen, hashed :class:`Instrument` objects and report problems.

The canonical definition is the validated file dumped to plain JSON types, leaving out values
equal to their defaults, so that neither YAML formatting nor spelling out a default changes the
content hash, and adding an optional field to the format later does not re-hash old instruments.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError

from surveyapp.instruments.schema import (
    CarryOver,
    Construct,
    InstrumentSpec,
    Item,
    Licence,
    Module,
    Option,
    Section,
    Source,
    is_semver,
)

DEFINITION_FILE = "<definition>"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an instrument file: which file, which item (if any) and what."""

    file: str
    item_id: str | None
    message: str

    def __str__(self) -> str:
        """Return ``file: item <id>: message`` or ``file: message``."""
        if self.item_id is None:
            return f"{self.file}: {self.message}"
        return f"{self.file}: item {self.item_id}: {self.message}"


class InstrumentError(Exception):
    """Raised when an instrument is invalid; ``problems`` lists everything found."""

    def __init__(self, problems: list[Problem]) -> None:
        """Keep the problems and use them, one per line, as the message."""
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def canonical_json(definition: Mapping[str, Any]) -> str:
    """Return the canonical JSON text of a definition (sorted keys, no spaces, UTF-8)."""
    return json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(definition: Mapping[str, Any]) -> str:
    """Return the SHA-256 hex digest of a definition's canonical JSON."""
    return hashlib.sha256(canonical_json(definition).encode("utf-8")).hexdigest()


class Instrument(BaseModel):
    """One validated questionnaire version, with references resolved and a content hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    version: str
    title: str
    source_language: str
    licence: Licence
    sources: Mapping[str, Source]
    missing_options: Mapping[str, Option]
    modules: tuple[Module, ...]
    constructs: tuple[Construct, ...]
    sections: tuple[Section, ...]
    carries_over: CarryOver | None = None
    content_hash: str
    _canonical: str = PrivateAttr(default="")
    _items: dict[str, Item] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        """Index items by id for :meth:`item`."""
        self._items = {item.id: item for item in self.items}

    def __repr__(self) -> str:
        """Return a short representation; the full one would print every item."""
        return f"<Instrument {self.id} {self.version} {self.content_hash[:12]}>"

    __str__ = __repr__

    @classmethod
    def from_definition(
        cls, definition: Mapping[str, Any], *, file: str = DEFINITION_FILE
    ) -> Instrument:
        """Validate a plain-dict definition (as stored in the database) into an Instrument.

        Raises InstrumentError listing every problem, each attributed to ``file``.
        """
        try:
            spec = InstrumentSpec.model_validate(definition)
        except ValidationError as error:
            raise InstrumentError(_validation_problems(error, definition, file)) from None
        problems = [
            Problem(file, item_id, message) for item_id, message in spec.reference_problems()
        ]
        if problems:
            raise InstrumentError(problems)
        canonical = spec.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        instrument = cls(
            id=spec.id,
            version=spec.version,
            title=spec.title,
            source_language=spec.source_language,
            licence=spec.licence,
            sources=spec.sources,
            missing_options=spec.missing_options,
            modules=spec.modules,
            constructs=spec.build_constructs(),
            sections=spec.build_sections(),
            carries_over=spec.carries_over,
            content_hash=content_hash(canonical),
        )
        instrument._canonical = canonical_json(canonical)
        return instrument

    @property
    def definition(self) -> dict[str, Any]:
        """Return a fresh copy of the canonical plain-dict definition (JSON-serialisable)."""
        return json.loads(self._canonical)

    @property
    def items(self) -> tuple[Item, ...]:
        """Return every item in questionnaire order."""
        return tuple(item for section in self.sections for item in section.items)

    def item(self, item_id: str) -> Item:
        """Return the item with this id; KeyError if there is none."""
        return self._items[item_id]

    def sections_for(self, modules: Iterable[str]) -> tuple[Section, ...]:
        """Return the sections of the always-asked modules plus the given optional modules.

        Raises ValueError for an unknown module id.
        """
        if isinstance(modules, str):
            raise TypeError("modules must be a collection of module ids, not a string")
        chosen = set(modules)
        unknown = chosen - {m.id for m in self.modules}
        if unknown:
            raise ValueError(f"unknown module(s) for {self.id} {self.version}: {sorted(unknown)}")
        asked = {m.id for m in self.modules if not m.optional or m.id in chosen}
        return tuple(section for section in self.sections if section.module in asked)


def load_instrument(path: Path | str) -> Instrument:
    """Load and validate one instrument file; raise InstrumentError listing every problem."""
    instrument, problems = _load(Path(path))
    if instrument is None:
        raise InstrumentError(problems)
    return instrument


def validate_files(paths: Iterable[Path | str]) -> list[Problem]:
    """Return every problem across the files, including one id and version defined twice."""
    problems: list[Problem] = []
    seen: dict[tuple[str, str], str] = {}
    for path in paths:
        instrument, file_problems = _load(Path(path))
        problems += file_problems
        if instrument is None:
            continue
        key = (instrument.id, instrument.version)
        if key in seen:
            message = f"{instrument.id} {instrument.version} is also defined in {seen[key]}"
            problems.append(Problem(str(path), None, message))
        seen.setdefault(key, str(path))
        problems += _carry_over_file_problems(Path(path), instrument)
    return problems


def carried_over_differences(new: Instrument, old: Instrument) -> list[tuple[str, str]]:
    """(item id, what differs) for items ``new`` declares unchanged from ``old`` but are not."""
    if new.carries_over is None:
        return []
    differences = []
    for item_id in new.carries_over.unchanged_items:
        try:
            before = old.item(item_id)
        except KeyError:
            differences.append((item_id, f"is not in version {old.version}"))
            continue
        after = new.item(item_id)
        changed = [
            name
            for name in ("text", "type", "construct_id", "options", "missing_options", "reverse")
            if getattr(before, name) != getattr(after, name)
        ]
        if changed:
            fields = ", ".join(n.replace("construct_id", "construct") for n in changed)
            differences.append((item_id, f"differs from version {old.version} in {fields}"))
    return differences


def _carry_over_file_problems(path: Path, instrument: Instrument) -> list[Problem]:
    # Compare with the earlier version's file next to this one, when it is there.
    if instrument.carries_over is None:
        return []
    earlier = path.parent / f"{instrument.carries_over.from_version}.yaml"
    if not earlier.is_file():
        return []
    old, problems = _load(earlier)
    if old is None:
        return problems
    return [
        Problem(str(path), item_id, f"declared unchanged but {message}")
        for item_id, message in carried_over_differences(instrument, old)
    ]


def _load(path: Path) -> tuple[Instrument | None, list[Problem]]:
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, [Problem(file, None, f"cannot read the file: {error}")]
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.YAMLError as error:
        return None, [Problem(file, None, _yaml_message(error))]
    if not isinstance(data, dict):
        found = "nothing" if data is None else type(data).__name__
        return None, [Problem(file, None, f"the file must hold a mapping, found {found}")]
    try:
        instrument = Instrument.from_definition(data, file=file)
    except InstrumentError as error:
        return None, error.problems
    problems = _file_name_problems(path, instrument)
    return (None if problems else instrument), problems


def _file_name_problems(path: Path, instrument: Instrument) -> list[Problem]:
    # The convention instruments/<id>/<version>.yaml: a copied file whose version was not
    # bumped would otherwise reach the database as a changed text under an old version.
    if not is_semver(path.stem):
        return []
    problems = []
    if path.stem != instrument.version:
        message = f"file name {path.name} does not match version {instrument.version}"
        problems.append(Problem(str(path), None, message))
    if path.parent.name != instrument.id:
        message = f"folder {path.parent.name!r} does not match instrument id {instrument.id!r}"
        problems.append(Problem(str(path), None, message))
    return problems


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that refuses duplicate keys instead of keeping the last one silently."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Build the mapping, raising on a key that appears twice."""
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, list | dict):
                continue  # unhashable: the base constructor reports it
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _yaml_message(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    if mark is None:
        return f"YAML syntax error: {problem}"
    return f"YAML syntax error at line {mark.line + 1}, column {mark.column + 1}: {problem}"


def _validation_problems(
    error: ValidationError, data: Mapping[str, Any], file: str
) -> list[Problem]:
    problems = []
    for detail in error.errors(include_url=False):
        item_id, place, rest = _locate(detail["loc"], data)
        problems.append(Problem(file, item_id, place + _describe(detail, rest)))
    return problems


def _locate(loc: tuple[Any, ...], data: Mapping[str, Any]) -> tuple[str | None, str, tuple]:
    """Split a pydantic error location into (item id, where, location inside it)."""
    if len(loc) < 2 or loc[0] != "sections" or not isinstance(loc[1], int):
        return None, "", loc
    section = _index(data.get("sections"), loc[1])
    section_id = section.get("id") if isinstance(section, dict) else None
    section_place = (
        f"section {section_id!r}: " if isinstance(section_id, str) else f"sections[{loc[1]}]: "
    )
    if len(loc) < 4 or loc[2] != "items" or not isinstance(loc[3], int):
        return None, section_place, loc[2:]
    item = _index(section.get("items") if isinstance(section, dict) else None, loc[3])
    item_id = item.get("id") if isinstance(item, dict) else None
    if isinstance(item_id, str):
        return item_id, "", loc[4:]
    return None, f"{section_place}items[{loc[3]}]: ", loc[4:]


def _index(values: Any, index: int) -> Any:
    if isinstance(values, list) and 0 <= index < len(values):
        return values[index]
    return None


def _describe(detail: Mapping[str, Any], rest: tuple) -> str:
    kind = detail["type"]
    if kind == "missing":
        return f"missing required field {_path(rest)!r}"
    if kind == "extra_forbidden":
        return f"unknown field {_path(rest)!r}"
    message = str(detail["ctx"]["error"]) if kind == "value_error" else detail["msg"]
    return f"{_path(rest)}: {message}" if rest else message


def _path(loc: tuple) -> str:
    parts: list[str] = []
    previous: Any = None
    for part in loc:
        if previous == "options" and part in ("set", "inline"):
            previous = part
            continue  # the union tag, not something the author wrote
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
        previous = part
    return "".join(parts)
