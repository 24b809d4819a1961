"""A signed-in account's people or organizations as an XLSX list: its scope exactly, masked, on the audit log."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

from fastapi import Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from bangfu.registry.organization_export import export_organizations
from bangfu.registry.people_export import export_people
from bangfu.registry.queries import OrganizationFilters, PeopleFilters
from bangfu.web.deps import Viewer, app_context

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def people_roster(request: Request, viewer: Viewer, filters: PeopleFilters | None = None) -> FileResponse:
    """Write the roster to a temporary folder and send it (then delete it).

    ``export_people`` commits the export's audit entry before the file exists, so a file that is
    sent has always been recorded; when the entry cannot be written the request fails with nothing sent.
    """
    folder = Path(tempfile.mkdtemp(prefix="bangfu-export-"))
    try:
        report = export_people(
            app_context(request).engine,
            viewer.scope,
            folder / "people.xlsx",
            exported_by=viewer.reader,
            filters=filters,
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    name = f"{report.region_name}人员名单（脱敏）{dt.date.today().isoformat()}.xlsx"
    return FileResponse(
        report.path, media_type=XLSX, filename=name, background=BackgroundTask(shutil.rmtree, folder, True)
    )


def organizations_roster(request: Request, viewer: Viewer, filters: OrganizationFilters | None = None) -> FileResponse:
    """The organizations the search shows, as ``people_roster`` sends the people: recorded, then sent."""
    folder = Path(tempfile.mkdtemp(prefix="bangfu-export-"))
    try:
        report = export_organizations(
            app_context(request).engine,
            viewer.scope,
            folder / "organizations.xlsx",
            exported_by=viewer.reader,
            filters=filters,
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    name = f"{report.region_name}单位名单（电话脱敏）{dt.date.today().isoformat()}.xlsx"
    return FileResponse(
        report.path, media_type=XLSX, filename=name, background=BackgroundTask(shutil.rmtree, folder, True)
    )
