"""Paper and offline answers in the console: keyboard-fast entry of paper questionnaires
(optionally entered twice, with the disagreements to resolve) and upload of ODK Central or
KoboToolbox exports with a report of every refused row."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from surveyapp.auth.views import current_user, login_required
from surveyapp.console import access
from surveyapp.console.blueprint import bp, flash_errors, flash_ok
from surveyapp.extensions import db
from surveyapp.instruments.registry import wave_sections
from surveyapp.models import Area, Channel, PaperEntry, Wave
from surveyapp.offline import paper
from surveyapp.offline.importing import WaveNotReady, check_wave, import_export, summary_lines
from surveyapp.offline.reading import UnreadableFile
from surveyapp.offline.submissions import NotThisQuestionnaire
from surveyapp.respond.fields import parse_form

MAX_SHEET = 32


def _error_text(code: str) -> str:
    return {
        "missing": _("Required: type the answer, or its missing-value code."),
        "invalid_choice": _("Not one of the question's codes."),
        "missing_with_answer": _("A missing-value code cannot go with an answer."),
        "not_a_number": _("Not a number."),
        "out_of_range": _("Outside the allowed range."),
        "too_long": _("Longer than 1000 characters."),
    }.get(code, code)


def _refusal_text(reason: str) -> str:
    return {
        "sheet_taken": _("This sheet number has already been entered and saved."),
        "same_person": _("You entered this sheet already: a second person must enter it."),
    }.get(reason, reason)


def _page(wave: Wave, status: int = 200, **extra: Any):
    check_ready = None
    try:
        check_wave(wave)
    except WaveNotReady:
        check_ready = _("Open the wave before entering answers.")
    waiting = sorted({e.sheet for e in db.session.query(PaperEntry).filter_by(wave_id=wave.id)})
    context = {
        "user": current_user(),
        "wave": wave,
        "sections": wave_sections(wave),
        "areas": sorted(wave.city.areas, key=lambda a: a.code),
        "not_ready": check_ready,
        "waiting": waiting,
        "form": request.form if request.method == "POST" else MultiDict(),
        "errors": {},
        "report": None,
    }
    return render_template("console/paper.html", **(context | extra)), status


def _sheet_from_form(wave: Wave) -> tuple[paper.Sheet | None, dict[str, str]]:
    """The typed sheet, or None and the errors by field name."""
    errors: dict[str, str] = {}
    sections = wave_sections(wave)
    parsed = parse_form(sections, MultiDict(paper.paper_form(sections, request.form)))
    errors |= {f"q-{k}": _error_text(v) for k, v in parsed.errors.items()}
    code = (request.form.get("code") or "").strip()
    sheet = (request.form.get("sheet") or "").strip()
    area = None
    raw_area = request.form.get("area") or ""
    if raw_area:
        area = db.session.get(Area, int(raw_area)) if raw_area.isdigit() else None
        if area is None or area.city_id != wave.city_id:
            errors["area"] = _("Choose one of the city's areas.")
    elif not code:
        errors["area"] = _("Choose the area the questionnaire comes from.")
    if len(sheet) > MAX_SHEET:
        errors["sheet"] = _("At most %(max)s characters.", max=MAX_SHEET)
    if request.form.get("double") and not sheet:
        errors["sheet"] = _("Double entry needs the sheet number written on the questionnaire.")
    channel = request.form.get("channel") or Channel.PAPER
    if channel not in (Channel.PAPER, Channel.INTERVIEWER):
        errors["channel"] = _("Choose how the questionnaire was answered.")
    if errors:
        return None, errors
    found = paper.Sheet(values=parsed.values, area=area, sheet=sheet, code=code, channel=channel)
    return found, {}


@bp.route("/waves/<int:wave_id>/paper", methods=["GET", "POST"])
@login_required
def wave_paper(wave_id: int):
    """Enter a paper questionnaire: one page, all items, typed codes, tab order."""
    wave, _m = access.wave(wave_id, access.WRITE)
    if request.method == "GET":
        return _page(wave)
    sheet, errors = _sheet_from_form(wave)
    if sheet is None:
        flash_errors([_("The questionnaire was not saved: please correct the marked answers.")])
        return _page(wave, 422, errors=errors)
    try:
        check_wave(wave)
    except WaveNotReady:
        return _page(wave, 422)
    outcome = paper.enter_sheet(
        db.session, wave, current_user(), sheet, double=bool(request.form.get("double"))
    )
    if outcome.refused:
        db.session.rollback()
        flash_errors([_refusal_text(outcome.refused)])
        return _page(wave, 409)
    db.session.commit()
    if outcome.disagreements:
        return redirect(url_for(".wave_paper_sheet", wave_id=wave.id, sheet=sheet.sheet), 303)
    if outcome.waiting:
        flash_ok(
            _(
                "First entry of sheet %(sheet)s saved: it counts once a second person has"
                " entered it.",
                sheet=sheet.sheet,
            )
        )
    else:
        flash_ok(_("Questionnaire saved."))
    return redirect(url_for(".wave_paper", wave_id=wave.id), 303)


@bp.route("/waves/<int:wave_id>/paper/sheets/<sheet>", methods=["GET", "POST"])
@login_required
def wave_paper_sheet(wave_id: int, sheet: str):
    """The disagreements of a sheet entered twice; the sheet as finally read resolves them."""
    wave, _m = access.wave(wave_id, access.WRITE)
    entries = paper.pending(db.session, wave, sheet)
    if len(entries) < 2:
        flash_errors([_("Sheet %(sheet)s has no disagreements to resolve.", sheet=sheet)])
        return redirect(url_for(".wave_paper", wave_id=wave.id), 303)
    differences = paper.disagreements(entries[0], entries[1])
    if request.method == "POST":
        found, errors = _sheet_from_form(wave)
        if found is None:
            return _page(wave, 422, errors=errors, differences=differences, sheet=sheet)
        found.sheet = sheet
        outcome = paper.resolve(db.session, wave, found)
        if outcome.refused:
            db.session.rollback()
            flash_errors([_refusal_text(outcome.refused)])
            return _page(wave, 409, differences=differences, sheet=sheet)
        db.session.commit()
        flash_ok(_("Sheet %(sheet)s resolved and saved.", sheet=sheet))
        return redirect(url_for(".wave_paper", wave_id=wave.id), 303)
    first = entries[0]
    agreed = MultiDict(
        [("sheet", sheet), ("area", str(first.area_id or ""))]
        + [
            (f"q-{item_id}", paper.shown_value(value))
            for item_id, value in first.answer_values.items()
            if item_id not in {d[0] for d in differences}
        ]
    )
    return _page(wave, 200, differences=differences, sheet=sheet, form=agreed)


@bp.post("/waves/<int:wave_id>/offline-import")
@login_required
def wave_offline_import(wave_id: int):
    """Import an ODK Central or KoboToolbox export; every refused row is listed."""
    wave, _m = access.wave(wave_id, access.WRITE)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash_errors([_("Choose the exported CSV or XLSX file.")])
        return _page(wave, 422)
    area = None
    raw_area = request.form.get("area") or ""
    if raw_area:
        area = db.session.get(Area, int(raw_area)) if raw_area.isdigit() else None
        if area is None or area.city_id != wave.city_id:
            flash_errors([_("Choose one of the city's areas.")])
            return _page(wave, 422)
    try:
        report = import_export(db.session, wave, upload.read(), upload.filename, area=area)
    except (UnreadableFile, NotThisQuestionnaire, WaveNotReady) as error:
        db.session.rollback()
        flash_errors([_("The file was not imported: %(reason)s", reason=str(error))])
        return _page(wave, 422)
    db.session.commit()
    return _page(wave, 200, report=summary_lines(report))
