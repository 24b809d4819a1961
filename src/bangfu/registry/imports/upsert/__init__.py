"""The database half of an import: validated records of each kind into the registry's tables.

One writer per kind (``WRITERS``); ``base.BatchWriter`` holds the flow they share. The service that
drives them over a whole file, in one transaction, is ``bangfu.registry.imports.importer``.
"""

from __future__ import annotations

from bangfu.registry.imports.upsert.base import BatchWriter
from bangfu.registry.imports.upsert.employment import EmploymentWriter
from bangfu.registry.imports.upsert.households import HouseholdWriter
from bangfu.registry.imports.upsert.organizations import OrganizationWriter
from bangfu.registry.imports.upsert.people import PeopleWriter
from bangfu.registry.imports.upsert.training import TrainingWriter

WRITERS: dict[str, type[BatchWriter]] = {  # type: ignore[type-arg]
    "people": PeopleWriter,
    "households": HouseholdWriter,
    "organizations": OrganizationWriter,
    "employment": EmploymentWriter,
    "training": TrainingWriter,
}
