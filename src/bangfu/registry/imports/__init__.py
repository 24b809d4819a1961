"""Importing county spreadsheets (CSV, XLSX) into the registry without losing or silently altering a row.

Every module of the import lives in this package; callers use one entry point per file kind
(``import_people``, ``import_households``, ``import_organizations``, ``import_employment``,
``import_training``; ``IMPORTERS`` maps the CLI's kind names to them). Inside, the pipeline streams:
``reading`` turns a file into raw rows, ``headers`` maps its Chinese column headers to fields,
``validate`` turns each raw row into a typed record or a rejection (``row_feed`` runs that in a
worker process for a large file), ``upsert`` writes the records in batches, ``importer`` drives one
file in one transaction and ``import_log`` records it; ``rejects_file`` and ``absent_file`` write
the lists county staff act on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bangfu.registry.imports.importer import ImportReport, Target

__all__ = [
    "IMPORTERS",
    "import_employment",
    "import_households",
    "import_organizations",
    "import_people",
    "import_training",
]


# The service is imported on call, not here: the reading modules of this package are also used by
# the suspect-data checks and the worker process, which need neither SQLAlchemy nor the writers.
def _import(
    kind: str,
    target: Target,
    path: Path | str,
    rejects_dir: Path | str | None,
    today: dt.date | None,
    sheet: str | None,
    worker: bool | None,
) -> ImportReport:
    from bangfu.registry.imports.importer import import_file

    return import_file(target, kind, path, rejects_dir, today=today, sheet=sheet, worker=worker)


def import_people(
    target: Target,
    path: Path | str,
    rejects_dir: Path | str | None = None,
    *,
    today: dt.date | None = None,
    sheet: str | None = None,
    worker: bool | None = None,
) -> ImportReport:
    """A people file: Bangfu's own layout or the national monitoring system's download."""
    return _import("people", target, path, rejects_dir, today, sheet, worker)


def import_households(
    target: Target,
    path: Path | str,
    rejects_dir: Path | str | None = None,
    *,
    today: dt.date | None = None,
    sheet: str | None = None,
    worker: bool | None = None,
) -> ImportReport:
    """A households file."""
    return _import("households", target, path, rejects_dir, today, sheet, worker)


def import_organizations(
    target: Target,
    path: Path | str,
    rejects_dir: Path | str | None = None,
    *,
    today: dt.date | None = None,
    sheet: str | None = None,
    worker: bool | None = None,
) -> ImportReport:
    """An organizations file (employers, workshops, labour brokers and their recognitions)."""
    return _import("organizations", target, path, rejects_dir, today, sheet, worker)


def import_employment(
    target: Target,
    path: Path | str,
    rejects_dir: Path | str | None = None,
    *,
    today: dt.date | None = None,
    sheet: str | None = None,
    worker: bool | None = None,
) -> ImportReport:
    """An employment file (spells of work of registered people)."""
    return _import("employment", target, path, rejects_dir, today, sheet, worker)


def import_training(
    target: Target,
    path: Path | str,
    rejects_dir: Path | str | None = None,
    *,
    today: dt.date | None = None,
    sheet: str | None = None,
    worker: bool | None = None,
) -> ImportReport:
    """A training file (courses and certificates of registered people)."""
    return _import("training", target, path, rejects_dir, today, sheet, worker)


# The CLI's ``bangfu import KIND`` names, one entry point each.
IMPORTERS: dict[str, Callable[..., ImportReport]] = {
    "people": import_people,
    "households": import_households,
    "organizations": import_organizations,
    "employment": import_employment,
    "training": import_training,
}
