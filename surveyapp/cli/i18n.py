"""``surveyapp i18n``: the translation catalogs. Files only: no secret needed."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from surveyapp.cli.settings import translations_dir


@click.group("i18n", cls=AppGroup)
def i18n_group() -> None:
    """Extract, update, compile and check the translation catalogs."""


@i18n_group.command("extract", with_appcontext=False)
def i18n_extract() -> None:
    """Write translations/messages.pot (interface) and instruments.pot (questionnaires)."""
    from surveyapp.config import PROJECT_ROOT
    from surveyapp.i18n import catalogs

    counts = catalogs.extract(PROJECT_ROOT, translations_dir())
    for domain, count in counts.items():
        click.echo(f"{domain}: {count} texts")


@i18n_group.command("update", with_appcontext=False)
def i18n_update() -> None:
    """Bring every language's catalogs in line with the templates."""
    from surveyapp.i18n import catalogs

    for code, domains in catalogs.update(translations_dir()).items():
        todo = ", ".join(f"{domain} {n}" for domain, n in domains.items())
        click.echo(f"{code}: untranslated {todo}")


@i18n_group.command("compile", with_appcontext=False)
def i18n_compile() -> None:
    """Compile the catalogs (.po) into the files gettext reads (.mo)."""
    from surveyapp.i18n import catalogs

    written = catalogs.compile_catalogs(translations_dir())
    click.echo(f"Compiled {len(written)} catalogs.")


@i18n_group.command("status", with_appcontext=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def i18n_status(as_json: bool) -> None:
    """Per language: texts translated, strings per review state, and the language's status.

    A language is as far along as its least reviewed string (draft < reviewed < adjudicated).
    """
    import json

    from surveyapp.i18n import catalogs

    rows = catalogs.status(translations_dir())
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    click.echo(
        f"{'lang':6}{'interface':>12}{'questionnaire':>16}{'draft':>8}{'reviewed':>10}"
        f"{'adjudicated':>13}  review"
    )
    for row in rows:
        counts = row["strings_by_review"]
        by_state = "".join(
            f"{counts.get(state, '-')!s:>{width}}"
            for state, width in (("draft", 8), ("reviewed", 10), ("adjudicated", 13))
        )
        click.echo(
            f"{row['language']:6}{row['ui_percent']:>11.1f}%{row['instrument_percent']:>15.1f}%"
            f"{by_state}  {row['review_status']}"
        )


def _known_language(code: str) -> str:
    from surveyapp.i18n import catalogs

    known = catalogs.languages(translations_dir())
    if code not in known or known[code].review == "source":
        choices = ", ".join(c for c, lang in known.items() if lang.review != "source")
        raise click.ClickException(f"{code!r} is not a translated language ({choices}).")
    return code


@i18n_group.command("review-export", with_appcontext=False)
@click.argument("lang")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def i18n_review_export(lang: str, out: Path) -> None:
    """Write LANG's review sheet (XLSX) for translators, reviewers and adjudicators."""
    from surveyapp.i18n.review_sheet import export_sheet

    rows = export_sheet(translations_dir(), _known_language(lang), out)
    click.echo(f"Wrote {rows} texts of {lang} to {out}.")


@i18n_group.command("review-import", with_appcontext=False)
@click.argument("lang")
@click.argument("sheet", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def i18n_review_import(lang: str, sheet: Path) -> None:
    """Bring a review sheet back into LANG's catalogs: adjudicated texts and each status.

    Every row is checked first; on any problem nothing is written.
    """
    from surveyapp.i18n.review_sheet import ReviewSheetError, import_sheet

    try:
        changes = import_sheet(translations_dir(), _known_language(lang), sheet)
    except ReviewSheetError as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        raise click.ClickException(
            f"{len(error.problems)} problem(s) in the sheet; no catalog was changed."
        ) from None
    for change in changes:
        what = "text and status" if change.text_changed else "status"
        click.echo(
            f"{change.domain}: {change.context or change.msgid[:40]!r}: {what} "
            f"({change.review.state})"
        )
    click.echo(f"{len(changes)} text(s) changed. Run `surveyapp i18n compile` to use them.")


@i18n_group.command("check", with_appcontext=False)
def i18n_check() -> None:
    """Fail on translations whose placeholders differ from the source or that hold HTML."""
    from surveyapp.i18n import catalogs

    problems = catalogs.check(translations_dir())
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) in the translations.")
    click.echo("Translations are safe to use.")
