"""A small registry spread over the region tree, for the scope, query and dashboard tests.

Two cities (吕梁 1411, 太原 1401); in 吕梁 two counties (兴县 141123, 临县 141124); in 兴县 two townships
(蔚汾镇 141123100, 魏家滩镇 141123101) and a person whose township is unknown. It lives in a database of
its own (``registry_database``): the tests count everything they see, so rows other tests leave in the
shared session database must not be there. Rows are written with Core inserts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, insert
from store_support import id_number

from bangfu.core import citizen_id
from bangfu.store.db import make_engine
from bangfu.store.name_index import index_persons
from bangfu.store.tables import (
    BenefitLedgerEntry,
    EmploymentSpell,
    Household,
    Organization,
    OrganizationRecognition,
    Person,
    PersonCategory,
)
from database_servers import migrate, postgres_database

TODAY = dt.date(2024, 6, 30)
LVLIANG, TAIYUAN = "1411", "1401"
XING, LIN, XIAODIAN = "141123", "141124", "140105"
WEIFEN, WEIJIATAN, WUCHENG = "141123100", "141123101", "140105001"

# Who each scope sees, by the keys below.
VISIBLE_PERSONS = {
    "14": {"p1", "p2", "p3", "p4", "p5"},
    LVLIANG: {"p1", "p2", "p3", "p4"},
    TAIYUAN: {"p5"},
    XING: {"p1", "p2", "p3"},
    LIN: {"p4"},
    XIAODIAN: {"p5"},
    WEIFEN: {"p1"},
    WEIJIATAN: {"p2"},
    WUCHENG: {"p5"},
}
VISIBLE_ORGANIZATIONS = {
    "14": {"o1", "o2", "o3"},
    LVLIANG: {"o1", "o3"},
    TAIYUAN: {"o2"},
    XING: {"o1", "o3"},
    LIN: set(),
    XIAODIAN: {"o2"},
    WEIFEN: {"o3"},
    WEIJIATAN: set(),
    WUCHENG: set(),
}


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


@dataclass
class World:
    """Row ids by key (``p1`` … ``p5``, ``o1`` … ``o3``, ``h1``) and the persons' full ID numbers and phones."""

    ids: dict[str, int]
    id_numbers: dict[str, str]
    phones: dict[str, str | None]

    def persons(self, ids: Iterable[int]) -> set[str]:
        """The keys of these person ids."""
        return self._keys("p", ids)

    def organizations(self, ids: Iterable[int]) -> set[str]:
        return self._keys("o", ids)

    def _keys(self, kind: str, ids: Iterable[int]) -> set[str]:
        by_id = {row_id: key for key, row_id in self.ids.items() if key.startswith(kind)}
        return {by_id[i] for i in ids}


def _person(
    connection: Connection,
    name: str,
    county: str,
    township: str | None,
    capacity: str | None,
    phone: str | None,
    household_id: int | None = None,
    male: bool = True,
) -> tuple[int, str]:
    number = id_number(county, male=male)
    checked = citizen_id.check(number)
    row = {
        "id_number": number,
        "name": name,
        "sex": checked.sex,
        "birth_date": checked.birth_date,
        "hukou_region": county,
        "township_code": township,
        "labor_capacity": capacity,
        "phone": phone,
        "household_id": household_id,
    }
    person_id = connection.execute(insert(_table(Person)).values(row).returning(_table(Person).c.id)).scalar_one()
    index_persons(connection, [person_id])  # below the ORM: the name index is the writer's to keep
    return int(person_id), number


def _rows(connection: Connection, model: Any, rows: list[dict[str, Any]]) -> None:
    # executemany takes its columns from the first row and drops other rows' extra keys: give all the same.
    columns = dict.fromkeys(key for row in rows for key in row)
    connection.execute(insert(_table(model)), [{key: row.get(key) for key in columns} for row in rows])


def _organization(connection: Connection, key: int, name: str, kind: str, region: str) -> int:
    table = _table(Organization)
    values = {
        "credit_code": f"91{region[:6]}MA{key:08d}",
        "name": name,
        "kind": kind,
        "region_code": region,
        "absorbed_poverty_alleviated": 12,
        "operating_since": dt.date(2019, 5, 1),
        "contact_name": "刘经理",
        "phone": "13500001111",
    }
    return int(connection.execute(insert(table).values(values).returning(table.c.id)).scalar_one())


def build(connection: Connection) -> World:
    household = _table(Household)
    h1 = int(
        connection.execute(
            insert(household)
            .values(
                household_number="HH141123000001",
                region_code=XING,
                address="兴县蔚汾镇第3村民小组",
                head_name="张三",
                head_id_number=None,
                member_count=2,
            )
            .returning(household.c.id)
        ).scalar_one()
    )
    ids: dict[str, int] = {"h1": h1}
    numbers: dict[str, str] = {}
    phones: dict[str, str | None] = {
        "p1": "13912345678",
        "p2": "13800002222",
        "p3": None,
        "p4": "13700003333",
        "p5": "13600004444",
    }
    people = {
        "p1": ("张三", XING, WEIFEN, "ordinary", h1, True),
        "p2": ("李四", XING, WEIJIATAN, "weak", None, False),
        "p3": ("张三", XING, None, None, h1, True),
        "p4": ("王五", LIN, None, "weak", None, True),
        "p5": ("赵六", XIAODIAN, WUCHENG, "ordinary", None, False),
    }
    for key, (name, county, township, capacity, household_id, male) in people.items():
        ids[key], numbers[key] = _person(connection, name, county, township, capacity, phones[key], household_id, male)
    p = ids
    _rows(
        connection,
        PersonCategory,
        [
            {"person_id": p["p1"], "category": "poverty_alleviated", "start_date": dt.date(2020, 1, 1)},
            {
                "person_id": p["p2"],
                "category": "monitored",
                "start_date": dt.date(2021, 1, 1),
                "end_date": dt.date(2023, 12, 31),
            },
            {"person_id": p["p2"], "category": "edge_of_poverty", "start_date": dt.date(2022, 1, 1)},
            {"person_id": p["p3"], "category": "poverty_alleviated", "start_date": dt.date(2019, 1, 1)},
            {"person_id": p["p3"], "category": "relocated", "start_date": dt.date(2018, 1, 1)},
            {"person_id": p["p4"], "category": "rural_low_income", "start_date": dt.date(2024, 7, 1)},
            {"person_id": p["p5"], "category": "poverty_alleviated", "start_date": dt.date(2016, 1, 1)},
        ],
    )
    spell: dict[str, Any] = {
        "employer_org_id": None,
        "end_date": None,
        "organized_export": None,
        "labour_contract": True,
        "social_insurance": None,
        "travel_cost_fen": None,
        "job": None,
        "monthly_income_fen": None,
    }
    ids["o1"] = _organization(connection, 1, "兴县兴农农业科技有限公司", "enterprise", XING)
    ids["o2"] = _organization(connection, 2, "小店区巧手帮扶车间", "workshop", XIAODIAN)
    ids["o3"] = _organization(connection, 3, "蔚汾镇非遗剪纸工坊", "heritage_workshop", WEIFEN)
    _rows(
        connection,
        EmploymentSpell,
        [
            spell
            | {
                "person_id": p["p1"],
                "employer_name": "深圳某电子厂",
                "work_region": "440305",
                "start_date": dt.date(2024, 3, 1),
                "organized_export": True,
                "travel_cost_fen": 95_000,
                "job": "装配工",
                "monthly_income_fen": 520_000,
            },
            spell
            | {
                "person_id": p["p1"],
                "employer_org_id": ids["o1"],
                "employer_name": "兴县兴农农业科技有限公司",
                "work_region": XING,
                "start_date": dt.date(2024, 5, 1),
                "organized_export": False,
            },
            spell
            | {
                "person_id": p["p2"],
                "employer_org_id": ids["o1"],
                "employer_name": "兴县兴农农业科技有限公司",
                "work_region": XING,
                "start_date": dt.date(2023, 1, 1),
                "end_date": dt.date(2023, 12, 31),
            },
            spell
            | {
                "person_id": p["p2"],
                "employer_name": "兴县某合作社",
                "work_region": XING,
                "start_date": dt.date(2024, 2, 1),
            },
            spell
            | {
                "person_id": p["p4"],
                "employer_name": "太原某物流",
                "work_region": XIAODIAN,
                "start_date": dt.date(2024, 1, 1),
            },
            spell
            | {
                "person_id": p["p5"],
                "employer_name": "太原某超市",
                "work_region": XIAODIAN,
                "start_date": dt.date(2022, 1, 1),
                "end_date": dt.date(2023, 6, 30),
            },
        ],
    )
    _rows(
        connection,
        OrganizationRecognition,
        [
            {"org_id": ids["o1"], "recognition": "employment_base", "start_date": dt.date(2021, 1, 1)},
            {
                "org_id": ids["o1"],
                "recognition": "workshop",
                "start_date": dt.date(2020, 1, 1),
                "end_date": dt.date(2020, 12, 31),
            },
        ],
    )
    ledger: dict[str, Any] = {"person_id": None, "org_id": None, "source": "测试"}
    _rows(
        connection,
        BenefitLedgerEntry,
        [
            ledger
            | {
                "person_id": p["p1"],
                "benefit_id": "transport_cross_province",
                "date": dt.date(2024, 3, 10),
                "amount_fen": 50_000,
            },
            ledger
            | {"person_id": p["p4"], "benefit_id": "mystery_benefit", "date": dt.date(2024, 2, 1), "amount_fen": 1_000},
            ledger
            | {
                "person_id": p["p5"],
                "benefit_id": "training_living_allowance",
                "date": dt.date(2023, 4, 1),
                "amount_fen": 20_000,
            },
            ledger
            | {
                "person_id": p["p5"],
                "benefit_id": "training_living_allowance",
                "date": dt.date(2024, 4, 1),
                "amount_fen": 30_000,
            },
            ledger
            | {
                "person_id": p["p5"],
                "benefit_id": "training_living_allowance",
                "date": dt.date(2024, 4, 15),
                "amount_fen": -10_000,
            },
            ledger
            | {
                "org_id": ids["o1"],
                "benefit_id": "employment_base_reward",
                "date": dt.date(2024, 5, 1),
                "amount_fen": 10_000_000,
            },
        ],
    )
    return World(ids, numbers, phones)


@contextmanager
def registry_database(backend: str, folder: Path) -> Iterator[tuple[Engine, World]]:
    """A database of its own (``sqlite`` or ``postgresql``) at the newest schema, the registry committed."""
    servers = None
    if backend == "sqlite":
        url = f"sqlite:///{(folder / 'scoped.db').as_posix()}"
    else:
        servers = postgres_database()
        url = next(servers)
    try:
        migrate(url)
        engine = make_engine(url)
        try:
            with engine.begin() as connection:
                world = build(connection)
            yield engine, world
        finally:
            engine.dispose()
    finally:
        if servers is not None:
            servers.close()
