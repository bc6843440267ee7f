"""Command line: ``python -m analysis report DATA.csv --instrument ID@VERSION --out DIR``.

Writes ``DIR/report.html`` and ``DIR/report.json`` (see :mod:`analysis.report`). The
instrument ``ID@VERSION`` is read from ``<instruments-dir>/<ID>/<VERSION>.yaml`` with
``surveyapp``'s loader, imported only here so that ``import analysis`` stays free of
the web application. Problems (missing file, unknown instrument, missing item columns)
exit with status 2 and a message naming the problem.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["main"]


class CommandError(Exception):
    """A problem with the command's input, reported with exit status 2."""


def _load_model(spec: str, directory: Path) -> Any:
    """The :class:`~analysis.instrument_model.InstrumentModel` of ``ID@VERSION``."""
    from analysis.instrument_model import from_instrument

    if spec.count("@") != 1 or not all(spec.split("@")):
        raise CommandError(
            f"--instrument must be ID@VERSION (e.g. social-cohesion-safety@1.0.0), not {spec!r}."
        )
    instrument_id, version = spec.split("@")
    path = directory / instrument_id / f"{version}.yaml"
    if not path.is_file():
        known = (
            sorted(f"{p.parent.name}@{p.stem}" for p in directory.glob("*/*.yaml"))
            if directory.is_dir()
            else []
        )
        raise CommandError(
            f"Unknown instrument {spec!r}: no file {path}. "
            + (f"Known: {', '.join(known)}." if known else f"No instruments in {directory}.")
        )
    try:
        from surveyapp.instruments import InstrumentError, load_instrument
    except ImportError as error:  # pragma: no cover - surveyapp is part of the project
        raise CommandError(f"Cannot load instruments: {error}.") from None
    try:
        instrument = load_instrument(path)
    except InstrumentError as error:
        raise CommandError(f"Instrument file {path} is invalid: {error}") from None
    return from_instrument(instrument)


def _report(args: argparse.Namespace) -> int:
    import pandas as pd

    from analysis.report import build_report

    data_path = Path(args.data)
    if not data_path.is_file():
        raise CommandError(f"Data file not found: {data_path}.")
    model = _load_model(args.instrument, Path(args.instruments_dir))
    try:
        data = pd.read_csv(data_path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise CommandError(f"Cannot read {data_path} as CSV: {error}") from None
    # Core constructs are required; optional modules are reported when their items are there.
    required = [c.id for c in model.constructs if c.module in (None, "core")]
    optional = [
        c.id
        for c in model.constructs
        if c.id not in required and all(item in data.columns for item in c.items)
    ]
    missing = [
        item
        for c in model.constructs
        if c.id in required
        for item in c.items
        if item not in data.columns
    ]
    if missing:
        raise CommandError(
            f"{data_path} lacks the item column(s) {', '.join(missing)} of instrument "
            f"{args.instrument}."
        )
    model = model.subset(required + optional)
    if args.weight and args.weight not in data.columns:
        raise CommandError(f"--weight: column {args.weight!r} is not in {data_path}.")
    invariance = tuple(x.strip() for x in args.invariance.split(",") if x.strip())
    invariance = () if invariance == ("none",) else invariance
    unknown = set(invariance) - {"wave", "language"}
    if unknown:
        raise CommandError(
            f"--invariance: unknown test(s) {sorted(unknown)}; use wave, language or none."
        )
    reference = args.reference_wave
    if reference is not None and args.wave in data.columns:
        # Match the CSV's wave values whatever their type (e.g. 2025 read as an integer).
        matches = [w for w in data[args.wave].dropna().unique() if str(w) == reference]
        if not matches:
            raise CommandError(f"--reference-wave {reference!r} is not a wave in {data_path}.")
        reference = matches[0]
    report = build_report(
        data,
        model,
        wave=args.wave,
        weight=args.weight,
        reference_wave=reference,
        n_boot=args.n_boot,
        title=args.title,
        invariance=invariance,
    )
    html_path, json_path = report.write(args.out)
    print(f"Wrote {html_path} and {json_path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report", help="Build the validation report (HTML + JSON).")
    report.add_argument("data", help="CSV with one row per response, item columns by item id.")
    report.add_argument(
        "--instrument", required=True, help="ID@VERSION, e.g. social-cohesion-safety@1.0.0"
    )
    report.add_argument("--out", required=True, help="Output directory.")
    report.add_argument(
        "--instruments-dir",
        default="instruments",
        help="Directory of instrument files (default: instruments).",
    )
    report.add_argument("--wave", default="wave", help="Wave column (default: wave).")
    report.add_argument("--weight", default=None, help="Weight column (default: unweighted).")
    report.add_argument("--reference-wave", default=None, help="Wave to freeze the index at.")
    report.add_argument("--n-boot", type=int, default=200, help="Bootstrap resamples.")
    report.add_argument("--title", default=None, help="Report title.")
    report.add_argument(
        "--invariance",
        default="wave,language",
        help="Invariance tests to run: comma-separated from wave, language, "
        "or none (default: wave,language).",
    )
    args = parser.parse_args(argv)
    try:
        return _report(args)
    except CommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
