"""The database half of an import: validated records of each kind into the registry's tables.

One writer per kind (``WRITERS``); ``base.BatchWriter`` holds the flow they share. The service that
drives them over a whole file, in one transaction, is ``bangfu.registry.importer``.
"""

from __future__ import annotations

from bangfu.registry.upsert.base import BatchWriter
from bangfu.registry.upsert.employment import EmploymentWriter
from bangfu.registry.upsert.households import HouseholdWriter
from bangfu.registry.upsert.organizations import OrganizationWriter
from bangfu.registry.upsert.people import PeopleWriter
from bangfu.registry.upsert.training import TrainingWriter

WRITERS: dict[str, type[BatchWriter]] = {  # type: ignore[type-arg]
    "people": PeopleWriter,
    "households": HouseholdWriter,
    "organizations": OrganizationWriter,
    "employment": EmploymentWriter,
    "training": TrainingWriter,
}
