"""Organization rosters into ``organizations``, keyed by the unified social credit code.

An organization renamed under the same code is updated (companies rename; the code stays). A labour
broker without a code cannot be registered: the registry tells organizations apart by their code.
是否认定为就业帮扶基地 keeps the ``employment_base`` recognition current, like a person's categories.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from sqlalchemy import select

from bangfu.registry.imports.records import OrganizationRecord
from bangfu.registry.imports.upsert.base import BatchWriter, Change, column_limit, table_of, too_long
from bangfu.registry.imports.upsert.bulk_io import rows_in
from bangfu.registry.imports.upsert.periods import CurrentPeriods
from bangfu.store.tables import Organization, OrganizationRecognition

ORGANIZATIONS = table_of(Organization)
RECOGNITIONS = table_of(OrganizationRecognition)
NAME_LIMIT = column_limit(ORGANIZATIONS.c.name)
BASE = "employment_base"
NO_CODE = "未填统一社会信用代码：登记系统以统一社会信用代码区分单位，无代码的劳务经纪人暂不能导入；请补填后重新导入本行"


class OrganizationWriter(BatchWriter[OrganizationRecord]):
    table = ORGANIZATIONS
    compared = ("name", "kind", "region_code", "operating_since", "contact_name", "phone")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._organizations: dict[str, Mapping[str, Any]] = {}
        self._recognitions = CurrentPeriods(self.connection, RECOGNITIONS, "org_id", "recognition", self.today)

    def refuse(self, record: OrganizationRecord) -> str | None:
        if record.credit_code is None:
            return NO_CODE
        return too_long(record.name, NAME_LIMIT, "单位名称")

    def prepare(self, records: Sequence[OrganizationRecord], claimed_names: Sequence[str | None]) -> None:
        query = select(ORGANIZATIONS.c.id, ORGANIZATIONS.c.credit_code, *(ORGANIZATIONS.c[c] for c in self.compared))
        rows = rows_in(self.connection, query, ORGANIZATIONS.c.credit_code, (r.credit_code for r in records))
        self._organizations = {row.credit_code: row._mapping for row in rows}
        self._recognitions.load(row.id for row in rows)

    def key(self, record: OrganizationRecord) -> Hashable:
        return record.credit_code

    def registered(self, key: Hashable) -> Mapping[str, Any] | None:
        return self._organizations.get(str(key))

    def wanted(self, record: OrganizationRecord) -> dict[str, Any]:
        return {
            "name": record.name,
            "kind": record.kind,
            "region_code": record.region,
            "operating_since": record.operating_since,
            "contact_name": record.contact_name,
            "phone": record.phone,
        }

    def related_changes(self, record: OrganizationRecord, row: Mapping[str, Any]) -> list[Change]:
        if record.recognized_base is None:
            return []
        wanted = {BASE} if record.recognized_base else set()
        change = self._recognitions.align(row["id"], wanted, {BASE}, "recognized_base")
        return [] if change is None else [change]

    def insert_values(self, record: OrganizationRecord) -> dict[str, Any]:
        return {"credit_code": record.credit_code, **self.wanted(record)}

    def inserted(self, records: Sequence[OrganizationRecord], ids: Sequence[int]) -> None:
        for record, org_id in zip(records, ids, strict=True):
            if record.recognized_base:
                self._recognitions.start(org_id, [BASE])

    def finish(self) -> None:
        self._recognitions.flush()
