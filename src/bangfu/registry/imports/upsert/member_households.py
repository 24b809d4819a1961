"""Households named on the members' rows of a national download, created or updated by the same import.

The national person table repeats the household (户编号, 户主姓名, 户主证件号码, 户类型, 户联系电话)
on every member's row; there is no separate household file to import first. Before a batch of persons
is written, its households go through the household roster's own writer (``HouseholdWriter``). The
head's own row speaks for the household; a member's row only creates a household not yet registered
(downloads do carry members' rows whose household fields disagree, and a household split across
batches would otherwise flip between them). A household that writer refuses (its head registered
under another name) refuses its members' rows too, with the same reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Connection, select

from bangfu.registry.imports.records import HouseholdRecord, PersonRecord
from bangfu.registry.imports.upsert.base import REJECTED, Change
from bangfu.registry.imports.upsert.bulk_io import rows_in
from bangfu.registry.imports.upsert.households import HOUSEHOLDS, HouseholdWriter
from bangfu.registry.imports.validate_national import HEAD


def _is_head(record: PersonRecord) -> bool:
    return record.national is not None and record.national.relation_to_head == HEAD


def _speaks_for(candidate: PersonRecord, current: PersonRecord | None) -> bool:
    return current is None or (_is_head(candidate) and not _is_head(current))


class MemberHouseholds:
    def __init__(self, connection: Connection, today: dt.date) -> None:
        self._writer = HouseholdWriter(connection, today)
        self.refused: dict[str, str] = {}
        # Changes to a registered household, logged on the row that spoke for it.
        self.changes: dict[int, list[Change]] = {}

    def write(self, records: Sequence[PersonRecord]) -> list[str]:
        """Create or update the households of ``records``; the household numbers written."""
        speakers: dict[str, PersonRecord] = {}
        for record in records:
            if record.national is not None and record.household_number is not None:
                number = record.household_number
                if _speaks_for(record, speakers.get(number)):
                    speakers[number] = record
        members_only = [number for number, record in speakers.items() if not _is_head(record)]
        if members_only:
            query = select(HOUSEHOLDS.c.household_number)
            found = rows_in(self._writer.connection, query, HOUSEHOLDS.c.household_number, members_only)
            registered = {row[0] for row in found}
            speakers = {number: r for number, r in speakers.items() if _is_head(r) or number not in registered}
        households = []
        for record in speakers.values():
            assert record.national is not None and record.household_number is not None
            households.append(
                HouseholdRecord(
                    record.line,
                    record.household_number,
                    record.national.head_name,
                    record.national.head_id_number,
                    record.hukou_region,
                    None,
                    record.categories,
                    record.national.household_phone,
                )
            )
        self.refused = {}
        self.changes = {}
        if not households:
            return []
        outcomes = self._writer.apply(households, [None] * len(households))
        for household, outcome in zip(households, outcomes, strict=True):
            if outcome.status == REJECTED:
                self.refused[household.household_number] = f"户编号“{household.household_number}”：{outcome.reason}"
            elif outcome.changes:
                self.changes[household.line] = [
                    Change(f"household_{change.field}", change.before, change.after) for change in outcome.changes
                ]
        return list(speakers)
