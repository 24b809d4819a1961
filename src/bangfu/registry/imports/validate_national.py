"""Rows of the national monitoring system's person table (人口信息) into person records.

The layout (``headers.NATIONAL_PEOPLE``) repeats the household on every member's row, names the
county, township and head by name, and says what the household is (户类型, 监测对象类别) rather than
listing a person's categories. One row becomes one ``PersonRecord`` whose ``national`` part carries
the household, its head, the person facts and the year's work; the writer creates or updates the
household from it. Every problem in a row is reported at once, like Bangfu's own rosters.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from datetime import date
from typing import NamedTuple

import orjson

from bangfu.core.categories import ancestors
from bangfu.core.citizen_id import IdCheck
from bangfu.registry.imports import places, values
from bangfu.registry.imports.header_rows import PART_SEPARATOR
from bangfu.registry.imports.headers import NATIONAL_PEOPLE, ColumnMap
from bangfu.registry.imports.records import NationalFacts, PersonRecord, Record
from bangfu.registry.imports.seen import FirstSeen, text_key
from bangfu.registry.imports.validate import Cells, Validator, check_against_id, id_key

# 户类型: what the household is. 一般农户 (neither alleviated nor monitored) holds no category here.
HOUSEHOLD_KINDS: dict[str, tuple[str, ...]] = {
    "脱贫户": ("poverty_alleviated",),
    "监测户": ("monitored",),
    "一般农户": (),
    "一般户": (),
}
# 监测对象类别: the kind of monitored household; each is also 防返贫监测对象 (monitored), as
# core/categories.py declares.
MONITORING_CATEGORIES: dict[str, str] = {
    "脱贫不稳定户": "unstable_alleviated",
    "边缘易致贫户": "edge_of_poverty",
    "突发严重困难户": "sudden_hardship",
}
# The categories a national row speaks about; others (易地搬迁, 农村低收入人口) come from other
# rosters and an import of this layout leaves them as they are.
NATIONAL_CATEGORIES = ("poverty_alleviated", "monitored", *MONITORING_CATEGORIES.values())
HEAD = "户主"
# Fields the row carries that Bangfu keeps only in the original record, with the unmapped columns.
KEPT_AS_WRITTEN = ("province", "city", "village", "id_type")
# Free-text facts and the width of their columns (persons, person_year_facts).
TEXT_LIMITS = {
    "relation_to_head": 16,
    "education": 32,
    "schooling": 32,
    "health": 32,
    "disability": 32,
    "work_place": 100,
    "employer_name": 200,
    "employment_channel": 32,
    "welfare_post_type": 64,
}
EARLIEST_YEAR = 2000
HEAD_CACHE = 4096
# The cells a household repeats on each member's row, in the order a row is checked.
HOUSEHOLD_FIELDS = (
    "province",
    "city",
    "county",
    "township",
    "household_number",
    "head_name",
    "head_id_number",
    "household_kind",
    "monitoring_category",
    "risk_removed",
    "year",
    "household_phone",
)


def _getter(labels: list[str] | tuple[str, ...]) -> Callable[[dict[str, str]], tuple[str, ...]]:
    """The cells under ``labels`` of a row (a dict holding every label of the header), as a tuple."""
    if len(labels) > 1:
        return operator.itemgetter(*labels)
    return lambda row: tuple(row[label] for label in labels)


class HouseholdCells(NamedTuple):
    """A household's cells as checked on one member's row, valid, for the next members' rows."""

    county: str
    township: str
    number: str
    head_name: str
    head: IdCheck
    categories: tuple[str, ...]
    risk_removed: bool | None
    year: int
    household_phone: str | None


class OwnFacts(NamedTuple):
    """A member's own cells read after the household's: sex, birth date, allowances, the year's work."""

    sex: str | None
    birth: date | None
    allowance: bool | None
    support: bool | None
    work_months: int | None
    post_months: int | None
    texts: dict[str, str | None]


@functools.lru_cache(maxsize=64)
def parse_household_kind(text: str) -> tuple[str, ...]:
    value = values.fold(text)
    if value not in HOUSEHOLD_KINDS:
        raise ValueError(f"户类型“{text.strip() or '（空）'}”无法识别，可填：{'、'.join(HOUSEHOLD_KINDS)}")
    return HOUSEHOLD_KINDS[value]


@functools.lru_cache(maxsize=64)
def parse_monitoring_category(text: str) -> str:
    value = values.fold(text)
    if value not in MONITORING_CATEGORIES:
        raise ValueError(f"监测对象类别“{text.strip()}”无法识别，可填：{'、'.join(MONITORING_CATEGORIES)}")
    return MONITORING_CATEGORIES[value]


def months(what: str) -> Callable[[str], int]:
    """Months in a year, 0 to 12 (Excel may have stored ``10.0``)."""

    @functools.lru_cache(maxsize=64)
    def parse(text: str) -> int:
        value = values.fold(text).removesuffix("个月").removesuffix("月")
        whole = value.removesuffix(".0")
        if not whole.isdigit() or int(whole) > 12:
            raise ValueError(f"{what}“{text.strip()}”应为 0 至 12 的整数")
        return int(whole)

    return parse


def yes_no(what: str) -> Callable[[str], bool]:
    """``values.parse_bool`` for one column, remembered: a download writes 是 and 否 a million times."""
    return functools.lru_cache(maxsize=32)(functools.partial(values.parse_bool, what=what))


def limited_text(what: str, limit: int) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.strip()
        if len(value) > limit:
            raise ValueError(f"{what}超过 {limit} 个字（{len(value)} 个字），请核对")
        return value

    return parse


class NationalPeopleValidator(Validator):
    kind = "people"
    layout = "national"

    def __init__(self, columns: ColumnMap, *, today: date | None = None, date_system: int = 1900) -> None:
        super().__init__(columns, today=today, date_system=date_system)
        self._spec = NATIONAL_PEOPLE
        self._ids = FirstSeen()
        # 户编号 (hashed) → (head ID number, first line): every member's row must name the same head.
        self._heads: dict[int, tuple[str, int]] = {}
        self._id_parser = self._id("id_number")
        head_parser = self._id("head_id_number")
        # Each member's row repeats the head's number: checked once per household, not once per row.
        self._head_checks: dict[str, IdCheck] = {}

        def parse_head(text: str) -> IdCheck:
            check = self._head_checks.get(text)
            if check is None:
                check = head_parser(text)
                if len(self._head_checks) >= HEAD_CACHE:
                    self._head_checks.clear()
                self._head_checks[text] = check
            return check

        self._head_parser = parse_head
        # A download has a few tens of thousands of distinct birth dates for a million rows.
        self._birth_parser = functools.lru_cache(maxsize=65536)(self._date("birth_date"))
        self._member_phone = self._phone("member_phone")
        self._household_phone = self._phone("household_phone")
        kept = [columns.labels[field] for field in KEPT_AS_WRITTEN if field in columns.labels]
        # Their names in the original record: a title row above the header is not part of a label.
        kept_labels = (*kept, *columns.unused)
        self._kept_names = [label.rsplit(PART_SEPARATOR, 1)[-1] for label in kept_labels]
        self._kept_cells = _getter(kept_labels)
        self._name = values.parse_name
        self._head_name = functools.partial(values.parse_name, what="户主姓名")
        self._capacity = functools.partial(values.parse_labor_capacity, what="劳动技能")
        self._number = functools.partial(values.parse_code, what="户编号")
        self._person_number = functools.partial(values.parse_code, what="人口编号")
        self._risk_removed = yes_no("风险是否已消除")
        self._allowance = yes_no("是否享受低保")
        self._support = yes_no("是否特困供养人员")
        self._texts = {field: limited_text(NATIONAL_PEOPLE.field(field).label, n) for field, n in TEXT_LIMITS.items()}
        # (field, label, check) of the free-text facts this file has, read in one pass per row
        self._fact_columns = [
            (field, columns.labels[field], self._texts[field])
            for field in TEXT_LIMITS
            if field != "relation_to_head" and field in columns.labels
        ]
        self._work_months = months("务工时间（月）")
        self._post_months = months("公益性岗位(月数)")
        # Members of a household follow one another and repeat its cells: when a row repeats the
        # previous row's household cells and that row was valid, they are not checked again (a
        # third of a national row's checking). The key is the cells of the columns this file has.
        self._household_cells = _getter(
            [columns.labels[field] for field in HOUSEHOLD_FIELDS if field in columns.labels]
        )
        self._last_household: tuple[object, HouseholdCells] | None = None
        self._checked_household: HouseholdCells | None = None

    def _county(self, cells: Cells) -> str | None:
        # 市 before 县 settles the names two cities share (城区); a 县 outside Shanxi is refused.
        written = "".join(cells.text(field).strip() for field in ("province", "city", "county"))
        if not cells.text("county").strip():
            written = ""
        return cells.required("county", lambda _text: places.shanxi_county(written, "县"))

    def _year(self, text: str) -> int:
        value = values.fold(text).removesuffix("年").removesuffix(".0")
        if not value.isdigit() or not EARLIEST_YEAR <= int(value) <= self.today.year:
            raise ValueError(f"年度“{text.strip() or '（空）'}”应为 {EARLIEST_YEAR} 至 {self.today.year} 的年份")
        return int(value)

    def _original(self, cells: Cells) -> str | None:
        written = zip(self._kept_names, self._kept_cells(cells.values), strict=True)
        kept = {name: cell for name, cell in written if cell and not cell.isspace()}
        # Compact UTF-8 JSON; stored before orjson with spaces after separators, which the writer
        # takes as the same record (upsert.people).
        return orjson.dumps(kept).decode() if kept else None

    def _township(self, cells: Cells, county: str) -> str | None:
        return cells.required("township", lambda text: places.township(county, text))

    def _relation(self, cells: Cells) -> str | None:
        relation = cells.required("relation_to_head", self._texts["relation_to_head"])
        if relation == "":
            cells.problems.append("与户主关系为空")
        return relation

    def _labor_skill(self, cells: Cells) -> str | None:
        return cells.required("labor_skill", self._capacity)

    def cell_checks(self) -> dict[str, tuple[tuple[str, ...], Callable[[Cells], object]]]:
        """The checks whose outcome depends on their own cells alone, by name: the fields each reads and
        the function of a row's ``Cells`` that a row's check calls (a problem lands in ``cells.problems``).

        The column-wise reader (``national_columns``) runs each once per distinct combination of cells
        in a file, so that both paths share every rule and every message. Not here: the township (it
        depends on the county found), and the many-valued cells (names, ID numbers, codes, phones) that
        the column-wise reader only accepts in the one form whose value is the cell itself.
        """

        def optional(field: str, parse: Callable[[str], object]) -> Callable[[Cells], object]:
            return lambda cells: cells.optional(field, parse)

        checks: dict[str, tuple[tuple[str, ...], Callable[[Cells], object]]] = {
            "county": (("province", "city", "county"), self._county),
            "relation_to_head": (("relation_to_head",), self._relation),
            "labor_skill": (("labor_skill",), self._labor_skill),
            "categories": (("household_kind", "monitoring_category"), self._categories),
            "risk_removed": (("risk_removed",), optional("risk_removed", self._risk_removed)),
            "year": (("year",), lambda cells: cells.required("year", self._year)),
            "sex": (("sex",), optional("sex", values.parse_sex)),
            "birth_date": (("birth_date",), optional("birth_date", self._birth_parser)),
            "minimum_living_allowance": (
                ("minimum_living_allowance",),
                optional("minimum_living_allowance", self._allowance),
            ),
            "extreme_poverty_support": (
                ("extreme_poverty_support",),
                optional("extreme_poverty_support", self._support),
            ),
            "work_months": (("work_months",), optional("work_months", self._work_months)),
            "welfare_post_months": (("welfare_post_months",), optional("welfare_post_months", self._post_months)),
        }
        # The free-text facts (``_facts``): a cell of a column the file lacks reads as empty, as there.
        for field in TEXT_LIMITS:
            if field != "relation_to_head":
                checks[field] = ((field,), optional(field, self._texts[field]))
        return checks

    def _facts(self, cells: Cells) -> dict[str, str | None]:
        facts: dict[str, str | None] = dict.fromkeys(TEXT_LIMITS)
        row = cells.values
        for field, label, check in self._fact_columns:
            text = row.get(label, "")
            if text and not text.isspace():
                try:
                    facts[field] = check(text)
                except ValueError as error:
                    cells.problems.append(str(error))
        return facts

    def _categories(self, cells: Cells) -> tuple[str, ...] | None:
        kind = cells.required("household_kind", parse_household_kind)
        monitoring = cells.optional("monitoring_category", parse_monitoring_category)
        if kind is None:
            return None
        codes = list(kind)
        if monitoring is not None:
            # the kind and the categories above it that this layout speaks about (防返贫监测对象), as
            # the one hierarchy says (core/categories.py); 农村低收入人口 is derived, never stored
            above = [c for c in ancestors(monitoring) if c != monitoring and c in NATIONAL_CATEGORIES]
            codes.extend(code for code in (*above, monitoring) if code not in codes)
        return tuple(codes)

    def _check_head(self, line: int, cells: Cells, number: str, person_id: str | None, head_id: str | None) -> None:
        relation = cells.text("relation_to_head").strip()
        if head_id is None:
            if not cells.text("head_id_number").strip():
                cells.problems.append(f"户编号“{number}”没有户主：户主证件号码为空，请在监测系统中确认户主后重新下载")
            return
        if relation == HEAD and person_id is not None and person_id != head_id:
            cells.problems.append("与户主关系为“户主”，但证件号码与户主证件号码不同，请核对")
        first = self._heads.setdefault(text_key(number), (head_id, line))
        if first[0] != head_id:
            cells.problems.append(f"户编号“{number}”的户主证件号码与第 {first[1]} 行不同，同一户只能有一个户主")

    def _record(self, line: int, cells: Cells) -> Record | None:
        key = self._household_cells(cells.values)
        last = self._last_household
        if last is not None and last[0] == key:
            return self._member_record(line, cells, last[1])
        self._checked_household = None
        record = self._first_record(line, cells)
        if record is not None and not cells.problems and self._checked_household is not None:
            self._last_household = (key, self._checked_household)
        return record

    def _member_record(self, line: int, cells: Cells, household: HouseholdCells) -> Record | None:
        """A row whose household cells repeat the previous, valid row's: only the member's own are checked
        (in the order ``_first_record`` checks them, so a refusal reads the same)."""
        name = cells.required("name", self._name)
        person = cells.required("id_number", self._id_parser)
        person_number = cells.required("person_number", self._person_number)
        relation = self._relation(cells)
        capacity = self._labor_skill(cells)
        phone = cells.optional("member_phone", self._member_phone)
        own = self._own_facts(cells)
        head = household.head
        if relation == HEAD and person is not None and person.id != head.id:
            cells.problems.append("与户主关系为“户主”，但证件号码与户主证件号码不同，请核对")
        return self._finish(line, cells, name, person, household, person_number, relation, capacity, phone, own)

    def _first_record(self, line: int, cells: Cells) -> Record | None:
        name = cells.required("name", self._name)
        person = cells.required("id_number", self._id_parser)
        county = self._county(cells)
        township = self._township(cells, county) if county is not None else None
        number = cells.required("household_number", self._number)
        person_number = cells.required("person_number", self._person_number)
        relation = self._relation(cells)
        head_name = cells.required("head_name", self._head_name)
        head = cells.optional("head_id_number", self._head_parser)
        capacity = self._labor_skill(cells)
        categories = self._categories(cells)
        risk_removed = cells.optional("risk_removed", self._risk_removed)
        year = cells.required("year", self._year)
        phone = cells.optional("member_phone", self._member_phone)
        household_phone = cells.optional("household_phone", self._household_phone)
        own = self._own_facts(cells)
        if number is not None:
            self._check_head(line, cells, number, person.id if person else None, head.id if head else None)
        if (
            county is None
            or township is None
            or number is None
            or head_name is None
            or head is None
            or categories is None
            or year is None
        ):
            if person is not None:  # still checked against the ID and for repeats, to report everything
                self._check_person(line, cells, person, own.birth, own.sex)
            return None
        household = HouseholdCells(
            county, township, number, head_name, head, categories, risk_removed, year, household_phone
        )
        self._checked_household = household
        return self._finish(line, cells, name, person, household, person_number, relation, capacity, phone, own)

    def _own_facts(self, cells: Cells) -> OwnFacts:
        """The member's own cells both paths read last, in the same order."""
        return OwnFacts(
            cells.optional("sex", values.parse_sex),
            cells.optional("birth_date", self._birth_parser),
            cells.optional("minimum_living_allowance", self._allowance),
            cells.optional("extreme_poverty_support", self._support),
            cells.optional("work_months", self._work_months),
            cells.optional("welfare_post_months", self._post_months),
            self._facts(cells),
        )

    def _check_person(self, line: int, cells: Cells, person: IdCheck, birth: date | None, sex: str | None) -> None:
        assert person.birth_date is not None and person.sex is not None  # a valid number has both
        check_against_id(cells, person, birth, sex, "证件号码")
        self._repeat(self._ids, id_key(person.id), line, cells, "文件内证件号码重复（首次出现在第 {first} 行）")

    def _finish(
        self,
        line: int,
        cells: Cells,
        name: str | None,
        person: IdCheck | None,
        household: HouseholdCells,
        person_number: str | None,
        relation: str | None,
        capacity: str | None,
        phone: str | None,
        own: OwnFacts,
    ) -> Record | None:
        if person is None:
            return None
        self._check_person(line, cells, person, own.birth, own.sex)
        if name is None or person_number is None or not relation or capacity is None:
            return None
        assert person.birth_date is not None and person.sex is not None
        facts = own.texts
        national = NationalFacts(
            person_number,
            household.township,
            relation,
            household.head_name,
            household.head.id,
            household.household_phone,
            household.risk_removed,
            facts["education"],
            facts["schooling"],
            facts["health"],
            facts["disability"],
            own.allowance,
            own.support,
            household.year,
            own.work_months,
            facts["work_place"],
            facts["employer_name"],
            facts["employment_channel"],
            facts["welfare_post_type"],
            own.post_months,
            self._original(cells),
        )
        return PersonRecord(
            line,
            name,
            person.id,
            household.county,
            household.categories,
            capacity,
            phone or household.household_phone,
            person.sex,
            person.birth_date,
            household.number,
            national,
        )


__all__ = ["HOUSEHOLD_KINDS", "MONITORING_CATEGORIES", "NATIONAL_CATEGORIES", "NationalPeopleValidator"]
