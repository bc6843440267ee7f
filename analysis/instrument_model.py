"""A plain description of an instrument's constructs, for the validation report.

:class:`InstrumentModel` says which items measure which construct, each item's
response range and which items are reverse-keyed. It is built from a plain dict
(:meth:`InstrumentModel.from_dict`) or, duck-typed, from a ``surveyapp`` instrument
(:func:`from_instrument`) without importing ``surveyapp``.

The plain dict::

    {
        "name": "social-cohesion-safety@1.0.0",           # optional
        "constructs": {
            "trust": {
                "label": "Trust",                          # optional
                "module": "core",                          # optional
                "items": ["t1", "t2", "t3"],               # or {"t1": {"scale": [1, 5]}}
                "scale": [1, 5],                           # default range of its items
                "reverse": ["t3"],                         # reverse-keyed items
            },
        },
        "attention_checks": {"attn": 4},                   # optional
    }

Per-item entries (``{"t1": {"scale": [0, 10], "reverse": true}}``) override the
construct's ``scale`` and ``reverse``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ConstructModel", "InstrumentModel", "from_instrument"]


@dataclass(frozen=True)
class ConstructModel:
    """One construct: id, label, module and its item ids in order."""

    id: str
    label: str
    items: tuple[str, ...]
    module: str | None = None


@dataclass(frozen=True)
class InstrumentModel:
    """Constructs, item ranges and reverse keys of an instrument.

    Attributes
    ----------
    constructs : tuple of ConstructModel
    scale : dict of str to (float, float)
        Each item's (min, max) substantive codes.
    reverse : frozenset of str
        Reverse-keyed items (higher raw code = less of the construct).
    name : str, optional
        ``ID@VERSION`` of the instrument.
    attention_checks : dict of str to int
        Instructed-response items and their expected code.
    """

    constructs: tuple[ConstructModel, ...]
    scale: dict[str, tuple[float, float]]
    reverse: frozenset[str] = frozenset()
    name: str | None = None
    attention_checks: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.constructs:
            raise ValueError("The instrument model names no constructs.")
        seen: dict[str, str] = {}
        for construct in self.constructs:
            if len(construct.items) < 2:
                raise ValueError(f"Construct {construct.id!r} needs at least 2 items.")
            for item in construct.items:
                if item in seen:
                    raise ValueError(f"Item {item!r} is in {seen[item]!r} and {construct.id!r}.")
                seen[item] = construct.id
                if item not in self.scale:
                    raise ValueError(f"Item {item!r} has no (min, max) scale.")
                low, high = self.scale[item]
                if not high > low:
                    raise ValueError(f"Item {item!r} has an empty range ({low}, {high}).")
        unknown = set(self.reverse) - set(seen)
        if unknown:
            raise ValueError(f"Reverse-keyed items not in any construct: {sorted(unknown)}.")

    @property
    def model(self) -> dict[str, list[str]]:
        """Construct id -> item ids (the ``model`` argument of :func:`analysis.fit_cfa`)."""
        return {c.id: list(c.items) for c in self.constructs}

    @property
    def items(self) -> list[str]:
        """All item ids in construct order."""
        return [item for c in self.constructs for item in c.items]

    @property
    def labels(self) -> dict[str, str]:
        """Construct id -> label."""
        return {c.id: c.label for c in self.constructs}

    def straightline_blocks(self, min_items: int = 4) -> dict[str, list[str]]:
        """Grids on which identical answers signal inattention, for :func:`analysis.clean`.

        A grid is the items of one construct that share an answer scale, when it mixes
        normal and reverse-keyed items and has at least ``min_items`` of them (on 3 items the
        same middle answer is too common to signal inattention). Keys are
        ``"<construct>:<low>-<high>"``.
        """
        blocks: dict[str, list[str]] = {}
        for construct in self.constructs:
            by_scale: dict[tuple[float, float], list[str]] = {}
            for item in construct.items:
                by_scale.setdefault(self.scale[item], []).append(item)
            for (low, high), grid in by_scale.items():
                if len(grid) >= min_items and 0 < len(set(grid) & self.reverse) < len(grid):
                    blocks[f"{construct.id}:{low:g}-{high:g}"] = grid
        return blocks

    def subset(self, construct_ids: list[str]) -> InstrumentModel:
        """The model restricted to ``construct_ids`` (in that order)."""
        by_id = {c.id: c for c in self.constructs}
        unknown = [c for c in construct_ids if c not in by_id]
        if unknown:
            raise ValueError(f"Unknown construct(s): {unknown}.")
        chosen = tuple(by_id[c] for c in construct_ids)
        items = {i for c in chosen for i in c.items}
        return InstrumentModel(
            constructs=chosen,
            scale={i: r for i, r in self.scale.items() if i in items},
            reverse=frozenset(self.reverse & items),
            name=self.name,
            attention_checks=dict(self.attention_checks),
        )

    @classmethod
    def from_dict(cls, spec: InstrumentModel | Mapping[str, Any]) -> InstrumentModel:
        """Build the model from the plain dict described in the module notes.

        Raises
        ------
        ValueError
            If a construct has fewer than 2 items, an item has no range, or an item is
            in two constructs.
        """
        if isinstance(spec, InstrumentModel):
            return spec
        constructs = []
        scale: dict[str, tuple[float, float]] = {}
        reverse: set[str] = set()
        for cid, entry in (spec.get("constructs") or {}).items():
            default_scale = entry.get("scale")
            construct_reverse = set(entry.get("reverse") or ())
            raw_items = entry.get("items") or ()
            if isinstance(raw_items, Mapping):
                pairs = list(raw_items.items())
            else:
                pairs = [(item, {}) for item in raw_items]
            ids = []
            for item, item_spec in pairs:
                item = str(item)
                ids.append(item)
                item_spec = item_spec or {}
                item_scale = item_spec.get("scale", default_scale)
                if item_scale is None:
                    raise ValueError(f"Item {item!r} of construct {cid!r} has no scale.")
                scale[item] = (float(item_scale[0]), float(item_scale[1]))
                if item_spec.get("reverse", item in construct_reverse):
                    reverse.add(item)
            constructs.append(
                ConstructModel(
                    id=str(cid),
                    label=str(entry.get("label", cid)),
                    items=tuple(ids),
                    module=entry.get("module"),
                )
            )
        return cls(
            constructs=tuple(constructs),
            scale=scale,
            reverse=frozenset(reverse),
            name=spec.get("name"),
            attention_checks=dict(spec.get("attention_checks") or {}),
        )

    def to_dict(self) -> dict[str, Any]:
        """The plain-dict form (JSON-serialisable), inverse of :meth:`from_dict`."""
        return {
            "name": self.name,
            "constructs": {
                c.id: {
                    "label": c.label,
                    "module": c.module,
                    "items": {
                        i: {"scale": list(self.scale[i]), "reverse": i in self.reverse}
                        for i in c.items
                    },
                }
                for c in self.constructs
            },
            "attention_checks": dict(self.attention_checks),
        }


def from_instrument(instrument: Any, modules: list[str] | None = None) -> InstrumentModel:
    """Build an :class:`InstrumentModel` from a ``surveyapp`` instrument, duck-typed.

    Parameters
    ----------
    instrument : object
        Anything with ``.constructs`` (each with ``.id``, ``.label``, ``.items`` and
        ``.module``) and ``.item(id)`` returning an object with ``.type`` (``"scale"``
        or ``"yes_no"``), ``.reverse``, ``.scale_min`` and ``.scale_max``. Optional:
        ``.id`` and ``.version`` (the model's name) and ``.items`` (attention checks,
        from items with ``.attention_check.expected``).
    modules : list of str, optional
        Keep only constructs of these modules; all constructs by default.

    Returns
    -------
    InstrumentModel
        ``yes_no`` items get the range (0, 1).

    Raises
    ------
    ValueError
        For a construct item that is neither a scale nor a yes/no item.
    """
    constructs = []
    scale: dict[str, tuple[float, float]] = {}
    reverse: set[str] = set()
    for construct in instrument.constructs:
        module = getattr(construct, "module", None)
        if modules is not None and module not in modules:
            continue
        for item_id in construct.items:
            item = instrument.item(item_id)
            kind = getattr(item, "type", "scale")
            if kind == "yes_no":
                scale[item_id] = (0.0, 1.0)
            elif kind == "scale":
                scale[item_id] = (float(item.scale_min), float(item.scale_max))
            else:
                raise ValueError(
                    f"Item {item_id!r} of construct {construct.id!r} has type {kind!r}; "
                    "only scale and yes_no items can be scored."
                )
            if getattr(item, "reverse", False):
                reverse.add(item_id)
        constructs.append(
            ConstructModel(
                id=str(construct.id),
                label=str(getattr(construct, "label", construct.id)),
                items=tuple(construct.items),
                module=module,
            )
        )
    checks = {}
    all_items = getattr(instrument, "items", ())
    if callable(all_items):
        all_items = ()
    for item in all_items or ():
        check = getattr(item, "attention_check", None)
        if check is not None:
            checks[str(item.id)] = check.expected
    iid, version = getattr(instrument, "id", None), getattr(instrument, "version", None)
    return InstrumentModel(
        constructs=tuple(constructs),
        scale=scale,
        reverse=frozenset(reverse),
        name=f"{iid}@{version}" if iid and version else None,
        attention_checks=checks,
    )
