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
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bangfu.registry.imports.importer import ImportReport, Target

__all__ = [
    "IMPORTERS",
    "Importer",
    "import_employment",
    "import_households",
    "import_organizations",
    "import_people",
    "import_training",
]


class Importer(Protocol):
    """One file of one kind into the registry, in one transaction (``importer.import_file``)."""

    def __call__(
        self,
        target: Target,
        path: Path | str,
        rejects_dir: Path | str | None = None,
        *,
        today: dt.date | None = None,
        sheet: str | None = None,
        worker: bool | None = None,
    ) -> ImportReport: ...


def _entry_point(kind: str, doc: str) -> Importer:
    def entry(
        target: Target,
        path: Path | str,
        rejects_dir: Path | str | None = None,
        *,
        today: dt.date | None = None,
        sheet: str | None = None,
        worker: bool | None = None,
    ) -> ImportReport:
        # The service is imported on call, not here: the reading modules of this package are also used
        # by the suspect-data checks and the worker process, which need neither SQLAlchemy nor the writers.
        from bangfu.registry.imports.importer import import_file

        return import_file(target, kind, path, rejects_dir, today=today, sheet=sheet, worker=worker)

    entry.__name__ = entry.__qualname__ = f"import_{kind}"
    entry.__doc__ = doc
    return entry


import_people = _entry_point(
    "people", "A people file: Bangfu's own layout or the national monitoring system's download."
)
import_households = _entry_point("households", "A households file.")
import_organizations = _entry_point(
    "organizations", "An organizations file (employers, workshops, labour brokers and their recognitions)."
)
import_employment = _entry_point("employment", "An employment file (spells of work of registered people).")
import_training = _entry_point("training", "A training file (courses and certificates of registered people).")

# The CLI's ``bangfu import KIND`` names, one entry point each.
IMPORTERS: dict[str, Importer] = {
    "people": import_people,
    "households": import_households,
    "organizations": import_organizations,
    "employment": import_employment,
    "training": import_training,
}
