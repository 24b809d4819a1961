"""A signed-in account's people or organizations as an XLSX list: its scope exactly, masked, on the audit log."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from bangfu.registry.organization_export import export_organizations
from bangfu.registry.people_export import export_people
from bangfu.registry.queries import OrganizationFilters, PeopleFilters
from bangfu.web.deps import Viewer, app_context

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def sent_after_recording(write: Callable[[Path], tuple[Path, str]], file_name: str, media_type: str) -> FileResponse:
    """Write a file to a temporary folder with ``write`` and send it (then delete the folder).

    ``write`` gets the path to write and answers the path written and the name the browser saves it
    under. It commits its audit entry before it returns, so a file that is sent has always been
    recorded; when the entry cannot be written the request fails with nothing sent.
    """
    folder = Path(tempfile.mkdtemp(prefix="bangfu-export-"))
    try:
        path, download_name = write(folder / file_name)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        path, media_type=media_type, filename=download_name, background=BackgroundTask(shutil.rmtree, folder, True)
    )


def _sent_after_recording(write: Callable[[Path], Any], file_name: str, label: str) -> FileResponse:
    """A roster (an XLSX named after its region and today); the export functions commit their audit
    entry before the file exists."""

    def written(out: Path) -> tuple[Path, str]:
        report = write(out)
        return Path(report.path), f"{report.region_name}{label}{dt.date.today().isoformat()}.xlsx"

    return sent_after_recording(written, file_name, XLSX)


def people_roster(request: Request, viewer: Viewer, filters: PeopleFilters | None = None) -> FileResponse:
    """The people the list shows (masked), recorded on the audit log, then sent."""
    engine = app_context(request).engine
    return _sent_after_recording(
        lambda out: export_people(engine, viewer.scope, out, exported_by=viewer.reader, filters=filters),
        "people.xlsx",
        "人员名单（脱敏）",
    )


def organizations_roster(request: Request, viewer: Viewer, filters: OrganizationFilters | None = None) -> FileResponse:
    """The organizations the search shows (phone masked), recorded, then sent."""
    engine = app_context(request).engine
    return _sent_after_recording(
        lambda out: export_organizations(engine, viewer.scope, out, exported_by=viewer.reader, filters=filters),
        "organizations.xlsx",
        "单位名单（电话脱敏）",
    )
