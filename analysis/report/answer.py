"""The answer first: one plain sentence per index, before any of the checks.

Did the index rise, fall or show no clear change between the last two waves, compared with
the comparison areas when there are some, and how sure is that? The report stores the
pieces (:func:`answer_section`, in the report's ``answer``); the report page and the
initiative dashboard turn them into sentences in the reader's language
(:func:`answer_sentences`, with the page's gettext).

A difference counts as clear when its 95% interval leaves out 0. When half the interval
is wider than :data:`WIDE` points, the sentence adds that the design can only show large
changes: with few areas, an honest interval is wide, and "no clear change" then says
little.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["WIDE", "answer_section", "answer_sentences", "multiplicity"]

#: Half-width of a 95% interval (index points) above which the design is called too small.
WIDE = 10.0


def answer_section(indices: Mapping[str, Any], labels: Sequence[str]) -> list[dict[str, Any]]:
    """Per index, what the sentence says: the latest comparison that has a number."""
    out = []
    for cid, entry in indices.items():
        if not isinstance(entry, Mapping) or "changes" not in entry:
            continue
        out.append({"index": cid, "label": entry.get("label", cid), **_latest(entry, labels)})
    return out


def _latest(entry: Mapping[str, Any], labels: Sequence[str]) -> dict[str, Any]:
    if len(labels) < 2:
        return {"kind": "none", "why": "one_wave"}
    before, after = labels[-2], labels[-1]
    dids = [
        d for d in entry.get("did", []) if d.get("before") == before and d.get("after") == after
    ]
    changes = {
        c["arm"]: c
        for c in entry.get("changes", [])
        if c.get("before") == before and c.get("after") == after
    }
    has_arms = "treated" in changes
    candidates = dids if has_arms else [changes.get("all")]
    for row, kind in [(r, "did" if has_arms else "change") for r in candidates if r]:
        value = row.get("did" if kind == "did" else "change")
        if value is None or row.get("ci_lower") is None:
            continue
        low, high = float(row["ci_lower"]), float(row["ci_upper"])
        direction = "up" if low > 0 else "down" if high < 0 else "unclear"
        return {
            "kind": kind,
            "direction": direction,
            "value": float(value),
            "ci_lower": low,
            "ci_upper": high,
            "before": before,
            "after": after,
            "wide": (high - low) / 2 > WIDE,
            "pvalue": row.get("pvalue"),
            "note": row.get("comparability_note"),
        }
    reasons = [r.get("withheld") or "" for r in [*dids, *changes.values()] if r]
    why = "small"
    gated = [r for r in reasons if r.startswith(("Not comparable", "Unchecked"))]
    if any("treated and comparison areas" in r for r in gated):
        why = "not_comparable_arms"
    elif gated:
        why = "not_comparable"
    return {"kind": "none", "why": why, "before": before, "after": after}


def multiplicity(indices: Mapping[str, Any], answer: Sequence[Mapping[str, Any]]) -> dict:
    """How many intervals the report shows, and the headline results after Holm's adjustment.

    Every interval shown is a chance to see a "clear" result where nothing changed (about
    one in 20). The headline comparisons (one per index, :func:`answer_section`) are
    adjusted with Holm's step-down method (family-wise error 5%; Holm, 1979).
    """
    shown = 0
    for entry in indices.values():
        if not isinstance(entry, Mapping):
            continue
        rows = [*entry.get("means", []), *entry.get("changes", []), *entry.get("did", [])]
        shown += sum(1 for r in rows if r.get("ci_lower") is not None)
    tests = sorted(
        (float(a["pvalue"]), a["index"])
        for a in answer
        if a.get("kind") in ("did", "change") and a.get("pvalue") is not None
    )
    kept: list[str] = []
    for rank, (pvalue, index) in enumerate(tests):
        if pvalue > 0.05 / (len(tests) - rank):
            break
        kept.append(index)
    clear = [a["index"] for a in answer if a.get("direction") in ("up", "down")]
    return {
        "intervals": shown,
        "headline": len(tests),
        "clear": clear,
        "clear_after_holm": [index for index in clear if index in kept],
    }


def answer_sentences(
    answer: Sequence[Mapping[str, Any]],
    gettext: Callable[..., str],
    number: Callable[[float], str] = lambda value: f"{value:.1f}",
    adjusted: Mapping[str, Any] | None = None,
) -> list[str]:
    """The sentences, one per index, through ``gettext`` (named placeholders); with
    ``adjusted`` (:func:`multiplicity`), a last one on the number of intervals shown."""
    _ = gettext
    out = _index_sentences(answer, _, number)
    if adjusted and adjusted["headline"] > 1:
        text = _(
            "This report shows %(shown)s intervals: by chance alone about %(expected)s of them "
            "would leave out 0 even if nothing had changed.",
            shown=adjusted["intervals"],
            expected=max(1, round(adjusted["intervals"] / 20)),
        )
        if adjusted["clear"]:
            text += " " + _(
                "Clear results that stay clear after adjusting for the %(count)s indices "
                "(Holm's method): %(kept)s of %(clear)s.",
                count=adjusted["headline"],
                kept=len(adjusted["clear_after_holm"]),
                clear=len(adjusted["clear"]),
            )
        out.append(text)
    return out


def _index_sentences(
    answer: Sequence[Mapping[str, Any]],
    _: Callable[..., str],
    number: Callable[[float], str],
) -> list[str]:
    out = []
    for a in answer:
        index = a["label"]
        if a["kind"] == "none":
            if a["why"] == "one_wave":
                text = _(
                    "%(index)s: a change can be shown once a second wave has answers.", index=index
                )
            elif a["why"] == "not_comparable_arms":
                text = _(
                    "%(index)s: no difference is shown, because the questions did not measure "
                    "the same thing in the treated and the comparison areas (see the "
                    "comparability check).",
                    index=index,
                )
            elif a["why"] == "not_comparable":
                text = _(
                    "%(index)s: no change is shown, because the questions did not measure the "
                    "same thing in both waves, or in each language (see the comparability "
                    "check).",
                    index=index,
                )
            else:
                text = _("%(index)s: too few answers yet to say whether it changed.", index=index)
            out.append(text)
            continue
        values = {
            "index": index,
            "before": a["before"],
            "after": a["after"],
            "points": number(abs(a["value"])),
            "value": number(a["value"]),
            "lower": number(a["ci_lower"]),
            "upper": number(a["ci_upper"]),
        }
        text = _sentence(a["kind"], a["direction"], values, _)
        if a.get("wide"):
            half = number((a["ci_upper"] - a["ci_lower"]) / 2)
            text += " " + _(
                "This design can only show changes larger than about %(points)s points.",
                points=half,
            )
        out.append(text)
    return out


def _sentence(kind: str, direction: str, values: dict[str, str], _: Callable[..., str]) -> str:
    if kind == "did":
        if direction == "up":
            return _(
                "%(index)s rose by %(points)s points more in the treated areas than in the "
                "comparison areas between %(before)s and %(after)s (95%% interval %(lower)s "
                "to %(upper)s): a clear difference.",
                **values,
            )
        if direction == "down":
            return _(
                "%(index)s did %(points)s points worse in the treated areas than in the "
                "comparison areas between %(before)s and %(after)s (95%% interval %(lower)s "
                "to %(upper)s): a clear difference.",
                **values,
            )
        return _(
            "%(index)s: no clear difference between the treated and the comparison areas "
            "between %(before)s and %(after)s (%(value)s points, 95%% interval %(lower)s to "
            "%(upper)s).",
            **values,
        )
    if direction == "up":
        return _(
            "%(index)s rose by %(points)s points between %(before)s and %(after)s (95%% "
            "interval %(lower)s to %(upper)s); without comparison areas this may be a general "
            "trend.",
            **values,
        )
    if direction == "down":
        return _(
            "%(index)s fell by %(points)s points between %(before)s and %(after)s (95%% "
            "interval %(lower)s to %(upper)s); without comparison areas this may be a general "
            "trend.",
            **values,
        )
    return _(
        "%(index)s: no clear change between %(before)s and %(after)s (%(value)s points, 95%% "
        "interval %(lower)s to %(upper)s).",
        **values,
    )
