"""Turn each raw row into a typed record, or into a ``Rejection`` that says everything wrong with it.

One validator per kind of import; each keeps the state a single file needs (which ID numbers it
has already seen, and on which line), so a validator is used for exactly one file. Every problem
in a row is reported at once, so that county staff can fix a row in one go.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import TypeVar

from bangfu.core.citizen_id import IdCheck
from bangfu.core.vocabulary import SEX_LABELS
from bangfu.registry.imports import places, values
from bangfu.registry.imports.dates import parse_date
from bangfu.registry.imports.headers import KINDS, ColumnMap
from bangfu.registry.imports.records import (
    EmploymentRecord,
    HouseholdRecord,
    OrganizationRecord,
    PersonRecord,
    Record,
    TrainingRecord,
)
from bangfu.registry.imports.rows import RawRow, Rejection
from bangfu.registry.imports.seen import FirstSeen, text_key

__all__ = ["RawRow", "Rejection", "Validator", "make_validator", "validate_rows"]

T = TypeVar("T")
Parser = Callable[[str], T]
REASON_SEPARATOR = "；"


class Cells:
    """One row's cells by field name, and the problems found in them so far."""

    __slots__ = ("labels", "problems", "values")

    def __init__(self, row: RawRow, labels: dict[str, str]) -> None:
        self.values = row.values
        self.labels = labels
        self.problems: list[str] = []

    def text(self, field: str) -> str:
        label = self.labels.get(field)
        return self.values.get(label, "") if label is not None else ""

    def required(self, field: str, parse: Parser[T]) -> T | None:
        try:
            return parse(self.text(field))
        except ValueError as error:
            self.problems.append(str(error))
            return None

    def optional(self, field: str, parse: Parser[T]) -> T | None:
        """None for an empty or absent cell; a filled cell must parse."""
        label = self.labels.get(field)
        text = self.values.get(label, "") if label is not None else ""
        if not text or text.isspace():
            return None
        try:
            return parse(text)
        except ValueError as error:
            self.problems.append(str(error))
            return None


def _code(what: str) -> Parser[str]:
    return lambda text: values.parse_code(text, what)


def _text(what: str) -> Parser[str]:
    def parse(text: str) -> str:
        value = text.strip()
        if not value:
            raise ValueError(f"{what}为空")
        return value

    return parse


class Validator(ABC):
    """Base: the column map, the reference date and the workbook's date system."""

    kind = ""

    def __init__(self, columns: ColumnMap, *, today: date | None = None, date_system: int = 1900) -> None:
        if columns.kind != self.kind:
            raise ValueError(f"列映射是“{columns.kind}”的，不能用于“{self.kind}”")
        self.labels = columns.labels
        self.today = today or date.today()
        self.date_system = date_system
        self._spec = KINDS[self.kind]

    def __call__(self, row: RawRow) -> Record | Rejection:
        cells = Cells(row, self.labels)
        record = self._record(row.line, cells)
        if cells.problems or record is None:
            return Rejection(row.line, row.original, REASON_SEPARATOR.join(cells.problems))
        return record

    @abstractmethod
    def _record(self, line: int, cells: Cells) -> Record | None: ...

    def _label(self, field: str) -> str:
        return self._spec.field(field).label

    def _id(self, field: str) -> Parser[IdCheck]:
        what = self._label(field)
        return lambda text: values.parse_id_number(text, self.today, what)

    def _date(self, field: str) -> Parser[date]:
        what = self._label(field)

        def parse(text: str) -> date:
            try:
                return parse_date(text, date_system=self.date_system)
            except ValueError as error:
                raise ValueError(f"{what}：{error}") from None

        return parse

    def _fen(self, field: str) -> Parser[int]:
        what = self._label(field)
        return lambda text: values.parse_fen(text, what)

    def _phone(self, field: str) -> Parser[str]:
        what = self._label(field)
        return lambda text: values.parse_phone(text, what)

    @staticmethod
    def _repeat(seen: FirstSeen, key: int, line: int, cells: Cells, message: str) -> None:
        first = seen.first_line(key, line)
        if first is not None:
            cells.problems.append(message.format(first=first))


def check_against_id(cells: Cells, person: IdCheck, birth: date | None, sex: str | None, id_label: str) -> None:
    """A birth date or sex column that contradicts the ID number (``id_label``: what the file calls it)."""
    assert person.birth_date is not None and person.sex is not None
    if birth is not None and birth != person.birth_date:
        cells.problems.append(
            f"出生日期与{id_label}不一致（出生日期列为 {birth.isoformat()}，"
            f"{id_label}中为 {person.birth_date.isoformat()}）"
        )
    if sex is not None and sex != person.sex:
        cells.problems.append(
            f"性别与{id_label}不一致（性别列为{SEX_LABELS[sex]}，{id_label}第 17 位表示{SEX_LABELS[person.sex]}）"
        )


def id_key(id_number: str) -> int:
    # The check character follows from the first 17 digits of a valid number, so they identify it.
    return int(id_number[:17])


class PeopleValidator(Validator):
    kind = "people"

    def __init__(self, columns: ColumnMap, *, today: date | None = None, date_system: int = 1900) -> None:
        super().__init__(columns, today=today, date_system=date_system)
        self._ids = FirstSeen()
        self._id_parser = self._id("id_number")
        self._birth_parser = self._date("birth_date")
        self._phone_parser = self._phone("phone")

    def _record(self, line: int, cells: Cells) -> Record | None:
        name = cells.required("name", values.parse_name)
        person = cells.required("id_number", self._id_parser)
        hukou = cells.required("hukou_region", places.shanxi_county)
        categories = cells.required("categories", values.parse_categories)
        capacity = cells.required("labor_capacity", values.parse_labor_capacity)
        phone = cells.optional("phone", self._phone_parser)
        sex = cells.optional("sex", values.parse_sex)
        birth = cells.optional("birth_date", self._birth_parser)
        household = cells.optional("household_number", _code("户编号"))
        if person is None:
            return None
        assert person.birth_date is not None and person.sex is not None  # a valid number has both
        check_against_id(cells, person, birth, sex, "身份证号")
        self._repeat(self._ids, id_key(person.id), line, cells, "文件内身份证号重复（首次出现在第 {first} 行）")
        if name is None or hukou is None or categories is None or capacity is None:
            return None
        return PersonRecord(
            line, name, person.id, hukou, categories, capacity, phone, person.sex, person.birth_date, household
        )


class HouseholdValidator(Validator):
    kind = "households"

    def __init__(self, columns: ColumnMap, *, today: date | None = None, date_system: int = 1900) -> None:
        super().__init__(columns, today=today, date_system=date_system)
        self._numbers = FirstSeen()
        self._heads = FirstSeen()
        self._id_parser = self._id("head_id_number")
        self._phone_parser = self._phone("phone")

    def _record(self, line: int, cells: Cells) -> Record | None:
        number = cells.required("household_number", _code("户编号"))
        head_name = cells.required("head_name", lambda text: values.parse_name(text, "户主姓名"))
        head = cells.required("head_id_number", self._id_parser)
        hukou = cells.required("hukou_region", places.shanxi_county)
        members = cells.optional("member_count", lambda text: values.parse_count(text, "家庭人口数"))
        categories = cells.optional("categories", lambda text: values.parse_categories(text, "户类别"))
        phone = cells.optional("phone", self._phone_parser)
        if number is not None:
            self._repeat(self._numbers, text_key(number), line, cells, "文件内户编号重复（首次出现在第 {first} 行）")
        if head is not None:
            self._repeat(self._heads, id_key(head.id), line, cells, "文件内户主身份证号重复（首次出现在第 {first} 行）")
        if number is None or head_name is None or head is None or hukou is None:
            return None
        return HouseholdRecord(line, number, head_name, head.id, hukou, members, categories or (), phone)


class OrganizationValidator(Validator):
    kind = "organizations"

    def __init__(self, columns: ColumnMap, *, today: date | None = None, date_system: int = 1900) -> None:
        super().__init__(columns, today=today, date_system=date_system)
        self._codes = FirstSeen()
        self._phone_parser = self._phone("phone")
        self._since_parser = self._date("operating_since")

    def _record(self, line: int, cells: Cells) -> Record | None:
        name = cells.required("name", _text("单位名称"))
        kind = cells.required("kind", values.parse_organization_kind)
        code = cells.optional("credit_code", values.parse_credit_code)
        region = cells.required("region", lambda text: places.shanxi_county(text, "所在县"))
        if region is not None:
            # Registered at its township when the file names one: the township's accounts see it (access.scope).
            region = cells.optional("township", lambda text: places.township(region, text, "所在乡镇")) or region
        contact = cells.optional("contact_name", lambda text: values.parse_name(text, "联系人"))
        phone = cells.optional("phone", self._phone_parser)
        base = cells.optional("recognized_base", lambda text: values.parse_bool(text, "是否认定为就业帮扶基地"))
        since = cells.optional("operating_since", self._since_parser)
        if code is None and kind is not None and kind != "labor_broker" and not cells.text("credit_code").strip():
            cells.problems.append("统一社会信用代码为空（只有劳务经纪人可以不填）")
        if code is not None:
            self._repeat(
                self._codes, text_key(code), line, cells, "文件内统一社会信用代码重复（首次出现在第 {first} 行）"
            )
        if name is None or kind is None or region is None:
            return None
        return OrganizationRecord(line, name, code, kind, region, contact, phone, base, since)


class EmploymentValidator(Validator):
    kind = "employment"

    def __init__(self, columns: ColumnMap, *, today: date | None = None, date_system: int = 1900) -> None:
        super().__init__(columns, today=today, date_system=date_system)
        self._spells = FirstSeen()
        self._id_parser = self._id("id_number")
        self._start_parser = self._date("start_date")
        self._end_parser = self._date("end_date")
        self._travel_parser = self._fen("travel_cost_fen")
        self._income_parser = self._fen("monthly_income_fen")

    def _record(self, line: int, cells: Cells) -> Record | None:
        person = cells.required("id_number", self._id_parser)
        employer = cells.required("employer", _text("用工单位"))
        region = cells.required("work_region", places.work_region)
        start = cells.required("start_date", self._start_parser)
        end = cells.optional("end_date", self._end_parser)
        organized = cells.optional("organized_export", lambda text: values.parse_bool(text, "是否有组织输出"))
        travel = cells.optional("travel_cost_fen", self._travel_parser)
        job = cells.optional("job", _text("岗位"))
        income = cells.optional("monthly_income_fen", self._income_parser)
        if start is not None and end is not None and end < start:
            cells.problems.append(f"结束日期 {end.isoformat()} 早于开始日期 {start.isoformat()}")
        # Counted even when other cells are wrong, so a corrected row re-imported later is caught too.
        if person is not None and employer is not None and start is not None:
            key = text_key(person.id, start.isoformat(), employer)
            message = "文件内重复记录：身份证号、开始日期、用工单位都与第 {first} 行相同"
            self._repeat(self._spells, key, line, cells, message)
        if person is None or employer is None or region is None or start is None:
            return None
        return EmploymentRecord(line, person.id, employer, region, start, end, organized, travel, job, income)


class TrainingValidator(Validator):
    kind = "training"

    def __init__(self, columns: ColumnMap, *, today: date | None = None, date_system: int = 1900) -> None:
        super().__init__(columns, today=today, date_system=date_system)
        self._courses = FirstSeen()
        self._id_parser = self._id("id_number")
        self._start_parser = self._date("start_date")

    def _record(self, line: int, cells: Cells) -> Record | None:
        person = cells.required("id_number", self._id_parser)
        provider = cells.required("provider", _text("培训机构"))
        program = cells.required("program", _text("培训项目"))
        start = cells.required("start_date", self._start_parser)
        days = cells.required("days", lambda text: values.parse_count(text, "天数"))
        certificate = cells.optional("certificate", _text("证书"))
        if person is not None and provider is not None and program is not None and start is not None:
            key = text_key(person.id, provider, program, start.isoformat())
            message = "文件内重复记录：身份证号、培训机构、培训项目、开始日期都与第 {first} 行相同"
            self._repeat(self._courses, key, line, cells, message)
        if person is None or provider is None or program is None or start is None or days is None:
            return None
        return TrainingRecord(line, person.id, provider, program, start, days, certificate)


VALIDATORS: dict[str, type[Validator]] = {
    cls.kind: cls
    for cls in (PeopleValidator, HouseholdValidator, OrganizationValidator, EmploymentValidator, TrainingValidator)
}


def make_validator(columns: ColumnMap, *, today: date | None = None, date_system: int = 1900) -> Validator:
    """A fresh validator for one file of ``columns.kind`` in ``columns.layout``; call it on each ``RawRow``."""
    if columns.layout == "national":
        # Imported here: the national validator builds on this module's Validator.
        from bangfu.registry.imports.validate_national import NationalPeopleValidator

        return NationalPeopleValidator(columns, today=today, date_system=date_system)
    return VALIDATORS[columns.kind](columns, today=today, date_system=date_system)


def validate_rows(
    rows: Iterable[RawRow | Rejection], columns: ColumnMap, *, today: date | None = None, date_system: int = 1900
) -> Iterator[Record | Rejection]:
    """Validate a stream of rows; rows already refused while reading pass through unchanged."""
    validator = make_validator(columns, today=today, date_system=date_system)
    for row in rows:
        yield row if isinstance(row, Rejection) else validator(row)
