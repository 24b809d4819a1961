"""Training files into ``training_records``, keyed by (person, provider, programme, start date)."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from sqlalchemy import select

from bangfu.registry.imports.records import TrainingRecord
from bangfu.registry.imports.upsert.base import BatchWriter, Outcome, column_limit, table_of, too_long
from bangfu.registry.imports.upsert.bulk_io import rows_in
from bangfu.registry.imports.upsert.persons_lookup import PersonLookup
from bangfu.store.tables import TrainingRecord as TrainingRow

TRAININGS = table_of(TrainingRow)
PROVIDER_LIMIT = column_limit(TRAININGS.c.provider)
PROGRAMME_LIMIT = column_limit(TRAININGS.c.programme)
CERTIFICATE_LIMIT = column_limit(TRAININGS.c.certificate)


class TrainingWriter(BatchWriter[TrainingRecord]):
    table = TRAININGS
    compared = ("days", "certificate")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._persons = PersonLookup(self.connection)
        self._courses: dict[Hashable, Mapping[str, Any]] = {}

    def refuse(self, record: TrainingRecord) -> str | None:
        return (
            too_long(record.provider, PROVIDER_LIMIT, "培训机构")
            or too_long(record.program, PROGRAMME_LIMIT, "培训项目")
            or too_long(record.certificate, CERTIFICATE_LIMIT, "证书")
        )

    def prepare(self, records: Sequence[TrainingRecord], claimed_names: Sequence[str | None]) -> None:
        self._persons.load(r.id_number for r in records)
        query = select(
            TRAININGS.c.id,
            TRAININGS.c.person_id,
            TRAININGS.c.provider,
            TRAININGS.c.programme,
            TRAININGS.c.start_date,
            *(TRAININGS.c[c] for c in self.compared),
        ).order_by(TRAININGS.c.id)
        person_ids = self._persons.ids(r.id_number for r in records)
        self._courses = {}
        for row in rows_in(self.connection, query, TRAININGS.c.person_id, person_ids):
            key = (row.person_id, row.provider, row.programme, row.start_date)
            self._courses.setdefault(key, row._mapping)

    def resolve(self, record: TrainingRecord, claimed_name: str | None) -> Outcome | None:
        return self._persons.refusal(record.id_number, claimed_name)

    def key(self, record: TrainingRecord) -> Hashable:
        return (self._persons.id_of(record.id_number), record.provider, record.program, record.start_date)

    def registered(self, key: Hashable) -> Mapping[str, Any] | None:
        return self._courses.get(key)

    def wanted(self, record: TrainingRecord) -> dict[str, Any]:
        return {"days": record.days, "certificate": record.certificate}

    def insert_values(self, record: TrainingRecord) -> dict[str, Any]:
        return {
            "person_id": self._persons.id_of(record.id_number),
            "provider": record.provider,
            "programme": record.program,
            "start_date": record.start_date,
            **self.wanted(record),
        }
