"""Generate small national person-table files: clean households, then planted suspect rows.

The layout comes from ``registry.national_layout`` (the sample's columns); rows are generated,
never copied from the sample. Every value of a clean file passes every bundled rule on ``DAY``.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped, unused-ignore]

from bangfu.core.citizen_id import check_digit
from bangfu.registry.national_layout import COLUMNS, TITLE

DAY = dt.date(2024, 6, 30)
HEADER_LINE = 2  # a title row, then the header
COUNTIES = (("忻州市", "宁武县", "140925", "凤凰镇", "石家庄村"), ("吕梁市", "兴县", "141123", "蔚汾镇", "东坡村"))

Row = dict[str, Any]


def id_number(region: str, born: dt.date, sequence: int, sex: str) -> str:
    """A valid number: the 17th digit is odd for a man, even for a woman."""
    third = sequence % 5 * 2 + (1 if sex == "男" else 0)
    first17 = f"{region}{born:%Y%m%d}{sequence % 100:02d}{third}"
    return first17 + check_digit(first17)


def born(age: int, day_of_year: int = 40) -> dt.date:
    return dt.date(DAY.year - age, 1, 1) + dt.timedelta(days=day_of_year)


@dataclass
class NationalFile:
    rows: list[Row] = field(default_factory=list)
    households: dict[str, list[int]] = field(default_factory=dict)  # household_number -> row indexes

    def line(self, index: int) -> int:
        return HEADER_LINE + 1 + index

    def lines(self, indexes: list[int] | set[int]) -> set[int]:
        return {self.line(i) for i in indexes}

    def member(self, household: int, relation_to_head: str) -> int:
        """Index of the first row with ``relation_to_head`` in the household-th household."""
        key = list(self.households)[household]
        return next(i for i in self.households[key] if self.rows[i]["relation_to_head"] == relation_to_head)

    def household_rows(self, household: int) -> list[int]:
        return list(self.households[list(self.households)[household]])

    def add_copy(self, index: int, **changes: Any) -> int:
        """Append a copy of row ``index`` with ``changes``; the new row's index."""
        self.rows.append({**self.rows[index], **changes})
        new = len(self.rows) - 1
        self.households.setdefault(self.rows[new]["household_number"], []).append(new)
        return new

    def set_household(self, household: int, **changes: Any) -> list[int]:
        indexes = self.household_rows(household)
        for i in indexes:
            self.rows[i].update(changes)
        return indexes


def _person(county: tuple[str, str, str, str, str], household_number: str, number: int, **values: Any) -> Row:
    city, county_name, region, township, village = county
    sex, age = values.pop("sex"), values.pop("age")
    birth = born(age, 40 + number)
    row: Row = {c.field: None for c in COLUMNS}
    row.update(
        province="山西省",
        city=city,
        county=county_name,
        township=township,
        village=village,
        household_number=household_number,
        person_number=f"{household_number}{number:02d}",
        sex=sex,
        birth_date=birth.isoformat(),
        id_type="居民身份证",
        id_number=id_number(region, birth, int(household_number[-3:]) + number, sex),
        ethnicity="汉族",
        household_phone="13912345678",
        member_phone=f"138{int(household_number[-4:]):04d}{number:04d}",
        year="2024",
        work_months="0",
        health="健康",
        political_status="群众",
        minimum_living_allowance="否",
        identification_standard="国家标准",
        household_kind="脱贫户",
    )
    row.update(values)
    return row


def clean_file(households: int = 4) -> NationalFile:
    """Households of head (man, 45, works 10 months away), spouse, child at school and grandfather."""
    made = NationalFile()
    for h in range(households):
        county = COUNTIES[h % 2]
        household_number = f"{county[2]}0000{h:06d}"
        monitored = h == households - 1
        members = [
            dict(
                name=f"户主{h}",
                relation_to_head="户主",
                sex="男",
                age=45,
                education="初中",
                labor_skill="普通劳动力",
                work_months="10",
                work_place="浙江省杭州市",
                employer_name="杭州某物流有限公司",
            ),
            dict(
                name=f"配偶{h}", relation_to_head="配偶", sex="女", age=43, education="小学", labor_skill="普通劳动力"
            ),
            dict(name=f"子{h}", relation_to_head="之子", sex="男", age=10, schooling="小学", labor_skill="无劳动力"),
            dict(
                name=f"父{h}",
                relation_to_head="之父",
                sex="男",
                age=72,
                education="文盲或半文盲",
                labor_skill="丧失劳动力",
                health="长期慢性病",
            ),
        ]
        head_id = ""
        for number, values in enumerate(members, 1):
            row = _person(county, household_number, number, **values)
            if number == 1:
                head_id = row["id_number"]
            row.update(head_name=f"户主{h}", head_id_number=head_id)
            if monitored:
                row.update(household_kind="监测户", monitoring_category="脱贫不稳定户", risk_removed="否")
            made.rows.append(row)
            made.households.setdefault(household_number, []).append(len(made.rows) - 1)
    return made


def _table(made: NationalFile, drop: tuple[str, ...]) -> tuple[list[str], list[list[Any]]]:
    columns = [c for c in COLUMNS if c.field not in drop]
    header = [c.label for c in columns]
    return header, [[row.get(c.field) for c in columns] for row in made.rows]


def write_csv(made: NationalFile, path: Path, *, encoding: str = "utf-8", drop: tuple[str, ...] = ()) -> Path:
    header, rows = _table(made, drop)
    with path.open("w", encoding=encoding, newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow([TITLE] + [""] * (len(header) - 1))
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
    return path


def write_xlsx(made: NationalFile, path: Path, *, drop: tuple[str, ...] = (), numeric_ids: bool = False) -> Path:
    header, rows = _table(made, drop)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([TITLE])
    sheet.append(header)
    id_columns = {header.index(c.label) for c in COLUMNS if c.kind == "id_number" and c.label in header}
    for row in rows:
        if numeric_ids:
            row = [float(v) if i in id_columns and v and v.isdigit() else v for i, v in enumerate(row)]
        sheet.append(row)
    workbook.save(path)
    return path
