"""The suspect-data checks page (疑点核查): upload a national download, see the summary, open each rule's rows.

The checks are ``bangfu check``'s own (``checks.run``, ``checks.report``): the same rules, the same
Chinese refusals, the same masked workbooks. The page runs them synchronously in the request's
worker thread. A county's file of 100,000 rows (32 MB of CSV) is checked in under a second; writing
the masked workbooks costs some 12 µs a cell, so a file whose every row is suspect takes some 13 s in
all (measured on a shared 2-core machine). A 3.3 M-row province file takes 20 s and more: that
belongs to ``bangfu check`` on the server.

A file is checked only when every row lies in the account's region (``checks.region_scope``):
otherwise a county official could read another county's rows here. Results are kept per account
(``web.check_results``), and every run, refusal and download goes on the audit log before the
answer leaves (``Db`` commits before the answer is sent).

The second form checks the account's own region straight from the platform's database
(``checks.run.check_registry``, as ``bangfu check --database``): the region is the account's scope,
never a value of the form, so no account can check another's region. Its result is stored and shown
like a file's.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import func, select

from bangfu.audit import log
from bangfu.checks.region_scope import PLACE_FIELDS, places_outside, refusal
from bangfu.checks.report import write_report
from bangfu.checks.ruleset import load_rules
from bangfu.checks.run import CheckRun, check_file, check_registry
from bangfu.checks.source import CheckInputError
from bangfu.store.tables import Person
from bangfu.web.check_results import CheckResults, StoredRun, rule_rows
from bangfu.web.deps import CsrfViewer, Db, PageViewer, Viewer, app_context
from bangfu.web.exports import XLSX
from bangfu.web.routes.pages import render
from bangfu.web.uploads import copy_upload, safe_name

router = APIRouter(include_in_schema=False)

SUFFIXES = (".xlsx", ".csv")


def _results(request: Request) -> CheckResults:
    results: CheckResults = request.app.state.check_results
    return results


def _form(
    request: Request,
    viewer: Viewer,
    *,
    error: str | None = None,
    region_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    latest = _results(request).latest(viewer.account.id)
    return render(
        request,
        "checks.html",
        status_code=status_code,
        viewer=viewer,
        active="checks",
        error=error,
        region_errors=region_errors or {},
        latest=latest,
    )


@router.get("/checks")
def checks_page(request: Request, viewer: PageViewer) -> Response:
    return _form(request, viewer)


# The most registered persons the page checks in the request: the demo's 20,000 persons (a province
# of them) take 14 s with their 45,000 suspect rows written (see docs/suspect-checks.md); a real
# city or province of hundreds of thousands would hold a worker for minutes: ``bangfu check --database``.
REGION_CHECK_LIMIT = 50_000
_BAD_DAY = "核查日期“{day}”无效：应为年-月-日，如 2024-06-30；不填则按今天核查"
_YEAR = re.compile(r"[0-9]{4}")


def _check_day(day: str) -> dt.date | None:
    """The form's 核查日期, today when left empty; None when it is not a date."""
    try:
        return dt.date.fromisoformat(day) if day else dt.date.today()
    except ValueError:
        return None


@router.post("/checks")
def run_checks(
    request: Request,
    session: Db,
    viewer: CsrfViewer,
    file: Annotated[UploadFile | None, File()] = None,
    day: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    check_day = _check_day(day)
    if check_day is None:
        return _form(request, viewer, error=_BAD_DAY.format(day=day), status_code=422)
    if file is None or not file.filename:
        return _form(
            request, viewer, error="请选择要核查的文件（从系统下载的人口信息表，XLSX 或 CSV）", status_code=400
        )
    name = safe_name(file.filename)
    if not name.lower().endswith(SUFFIXES):
        return _form(
            request,
            viewer,
            error=f"“{name}”不是 XLSX 或 CSV 文件：请上传从系统下载的人口信息表（.xlsx 或 .csv；"
            "旧版 .xls 请先用 Excel 另存为 .xlsx）",
            status_code=415,
        )
    limit = request.app.state.max_upload_bytes
    work = Path(tempfile.mkdtemp(prefix="bangfu-check-upload-"))  # 0700, removed below whatever happens
    try:
        path = work / name
        size = copy_upload(file, path, limit)
        if size == 0:
            return _form(request, viewer, error=f"“{name}”是空文件：请重新下载后上传", status_code=400)
        if size > limit:
            return _form(
                request,
                viewer,
                error=f"“{name}”超过上传上限 {limit / 2**20:g} MB：请按乡镇拆分后分别上传",
                status_code=413,
            )
        return _check_upload(request, session, viewer, path, name, check_day)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _check_upload(request: Request, session: Db, viewer: Viewer, path: Path, name: str, day: dt.date) -> Response:
    results = _results(request)
    audit: dict[str, Any] = {"actor": viewer.account.username, "address": viewer.address}
    try:
        with check_file(path, load_rules(), day, also=PLACE_FIELDS) as run:
            assert run.connection is not None
            outside = places_outside(run.connection, viewer.scope, run.loaded.fields)
            if outside:
                log.record(
                    session,
                    **audit,
                    action="checks.refused",
                    target_type="check_file",
                    region_code=viewer.scope.region_code,
                    after={"file": name, "rows": run.loaded.rows, "outside": dict(outside)},
                )
                return _form(request, viewer, error=refusal(viewer.scope, outside), status_code=403)
            stored = _store(results, viewer, run, name)
    except CheckInputError as exc:
        return _form(request, viewer, error=str(exc), status_code=422)
    log.record(
        session,
        **audit,
        action="checks.run",
        target_type="check_run",
        target_id=stored.id,
        region_code=viewer.scope.region_code,
        after={
            "file": name,
            "rows": stored.rows,
            "suspect_rules": sum(1 for r in stored.rules if r.count),
            "suspect_rows": stored.suspect_rows,
        },
    )
    return RedirectResponse(f"/checks/{stored.id}", status_code=303)


def _store(results: CheckResults, viewer: Viewer, run: CheckRun, name: str) -> StoredRun:
    """The run's masked workbooks and rows in a new folder of the account's; no half-written folder is left."""
    run_id, folder = results.new_folder(viewer.account.id)
    try:
        written = write_report(run, folder)
        return results.save(run_id, folder, viewer.account.id, name, run, written)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


@router.post("/checks/region")
def check_region(
    request: Request,
    session: Db,
    viewer: CsrfViewer,
    year: Annotated[str, Form(max_length=20)] = "",
    day: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Check the registry's persons of the account's own region (its scope: no region is read from the form)."""
    errors: dict[str, str] = {}
    year, day = year.strip(), day.strip()
    if year and not (_YEAR.fullmatch(year) and 2000 <= int(year) <= 2100):
        errors["year"] = f"年度“{year}”无效：应为四位年份，如 2024；不填则按每人最近一年的数据核查"
    check_day = _check_day(day)
    if check_day is None:
        errors["day"] = _BAD_DAY.format(day=day)
    if errors:
        return _form(request, viewer, region_errors=errors, status_code=422)
    assert check_day is not None
    scope, checked_year = viewer.scope, int(year) if year else None
    persons = session.scalar(select(func.count()).select_from(Person).where(scope.persons())) or 0
    if persons > REGION_CHECK_LIMIT:
        return _form(
            request,
            viewer,
            region_errors={
                "scope": f"{scope.name}登记有 {persons:,} 人，超过网页核查上限 {REGION_CHECK_LIMIT:,} 人，"
                "在网页上要等候数分钟：请系统管理员在服务器上按本地区核查全部登记人员"
                f"（行政区划代码 {scope.region_code}，见《疑点核查》说明），或由各县账户分别核查"
            },
            status_code=422,
        )
    with check_registry(app_context(request).engine, scope, load_rules(), check_day, checked_year) as run:
        stored = _store(_results(request), viewer, run, run.loaded.path.name)
    # One entry, as ``bangfu check --database`` writes (``registry_source.record_check``), with the run
    # and the address; committed with the request, before the answer or any row of the result is sent.
    log.record(
        session,
        actor=viewer.account.username,
        action="checks.registry",
        target_type="check_run",
        target_id=stored.id,
        region_code=scope.region_code,
        after={
            "source": "registry",
            "year": checked_year,
            "rows": stored.rows,
            "masked": True,
            "suspect_rules": sum(1 for r in stored.rules if r.count),
            "suspect_rows": stored.suspect_rows,
        },
        address=viewer.address,
    )
    return RedirectResponse(f"/checks/{stored.id}", status_code=303)


def _own_run(request: Request, viewer: Viewer, run_id: str) -> StoredRun:
    run = _results(request).find(run_id, viewer.account.id)
    if run is None:
        raise HTTPException(404, "未找到该核查结果：结果只对运行核查的账户可见，且保留 24 小时；请重新核查")
    return run


@router.get("/checks/{run_id}")
def check_result(request: Request, viewer: PageViewer, run_id: str) -> Response:
    run = _own_run(request, viewer, run_id)
    return render(request, "check_result.html", viewer=viewer, active="checks", run=run)


@router.get("/checks/{run_id}/rules/{rule_id}")
def check_rule_rows(request: Request, viewer: PageViewer, run_id: str, rule_id: str, page: int = 1) -> Response:
    run = _own_run(request, viewer, run_id)
    rule = run.rule(rule_id)
    if rule is None or not rule.file:
        raise HTTPException(404, f"本次核查没有规则“{rule_id}”的疑点行")
    shown = rule_rows(run, rule, page)
    return render(request, "check_rule.html", viewer=viewer, active="checks", run=run, rule=rule, shown=shown)


def _download(session: Db, viewer: Viewer, run: StoredRun, file_name: str, what: str) -> FileResponse:
    # On the log (committed with the request, before the answer is sent) before a byte of the file leaves.
    log.record(
        session,
        actor=viewer.account.username,
        action="checks.download",
        target_type="check_run",
        target_id=run.id,
        region_code=viewer.scope.region_code,
        after={"file": file_name, "what": what},
        address=viewer.address,
    )
    return FileResponse(run.folder / file_name, media_type=XLSX, filename=file_name)


@router.get("/checks/{run_id}/download/summary")
def download_summary(request: Request, session: Db, viewer: PageViewer, run_id: str) -> FileResponse:
    run = _own_run(request, viewer, run_id)
    return _download(session, viewer, run, run.summary_file, "summary")


@router.get("/checks/{run_id}/download/rules/{rule_id}")
def download_rule(request: Request, session: Db, viewer: PageViewer, run_id: str, rule_id: str) -> FileResponse:
    run = _own_run(request, viewer, run_id)
    rule = run.rule(rule_id)
    if rule is None or not rule.file:
        raise HTTPException(404, f"本次核查没有规则“{rule_id}”的结果文件")
    return _download(session, viewer, run, rule.file, rule.id)
