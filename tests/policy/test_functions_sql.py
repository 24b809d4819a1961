"""Each built-in function gives the same answer in the interpreter and in DuckDB's SQL."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from bangfu.policy.expressions import parse
from bangfu.policy.facts import PERSON
from bangfu.policy.interpreter import Interpreter, Scope
from bangfu.policy.sql import Compiler

DAY = dt.date(2024, 2, 29)
BIRTHS = [dt.date(1980, 2, 29), dt.date(2000, 12, 31), dt.date(2024, 1, 1), None]
REGIONS = ["141123", "440305", "1411", None]

EXPRESSIONS = [
    "add_days(birth_date, 30)",
    "add_days(birth_date, -366)",
    "add_years(birth_date, 1)",
    "add_years(birth_date, 44)",
    "days_between(birth_date, date)",
    "month_index(birth_date)",
    "year(birth_date)",
    "province(hukou_region) == '14'",
    "city(hukou_region) != '1411'",
    "county(hukou_region)",
    "key_county(hukou_region)",
    "overlaps(birth_date, None, year_start, date)",
    "max(birth_date, year_start)",
    "min(year(birth_date), 2010)",
    "coalesce(birth_date, date)",
    "birth_date if province(hukou_region) == '14' else date",
]


def interpret(text: str, birth: dt.date | None, region: str | None) -> object:
    node = parse(text, PERSON, {})
    scope = Scope(
        facts={"birth_date": birth, "hukou_region": region},
        collections={},
        case_variables={
            "date": DAY,
            "year_start": dt.date(2024, 1, 1),
            "year_end": dt.date(2024, 12, 31),
            "valid_from": dt.date(2021, 7, 1),
        },
        param=lambda key: None,
        key_counties=frozenset({"141123"}),
        entity_name="person",
    )
    return Interpreter(scope).eval(node)


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_sql_matches_interpreter(text: str) -> None:
    compiler = Compiler(
        case_variables={
            "date": DAY,
            "year_start": dt.date(2024, 1, 1),
            "year_end": dt.date(2024, 12, 31),
            "valid_from": dt.date(2021, 7, 1),
        },
        constants={},
        param_columns={},
        key_counties=frozenset({"141123"}),
    )
    sql = compiler.outer(parse(text, PERSON, {}))
    con = duckdb.connect()
    con.execute("CREATE TABLE f (i INTEGER, birth_date DATE, hukou_region VARCHAR)")
    cases = [(b, r) for b in BIRTHS for r in REGIONS]
    con.executemany("INSERT INTO f VALUES (?, ?, ?)", [(i, b, r) for i, (b, r) in enumerate(cases)])
    got = dict(con.execute(f"SELECT i, {sql} FROM f").fetchall())
    for i, (birth, region) in enumerate(cases):
        assert got[i] == interpret(text, birth, region), f"{text} for birth={birth}, region={region}: SQL {sql}"
