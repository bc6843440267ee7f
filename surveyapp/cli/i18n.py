"""``surveyapp i18n``: the translation catalogs. Files only: no secret needed."""

from __future__ import annotations

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
    """Per language: share of interface and questionnaire texts translated, review status."""
    import json

    from surveyapp.i18n import catalogs

    rows = catalogs.status(translations_dir())
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    click.echo(f"{'lang':6}{'interface':>12}{'questionnaire':>16}  review")
    for row in rows:
        click.echo(
            f"{row['language']:6}{row['ui_percent']:>11.1f}%{row['instrument_percent']:>15.1f}%"
            f"  {row['review_status']}"
        )


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
