"""The text and citizen-ID functions give the same answer in the interpreter and in DuckDB's SQL."""

from __future__ import annotations

import datetime as dt
import random

import duckdb
import pytest

from bangfu.core.citizen_id import check_digit
from bangfu.policy.expressions import ExpressionError, parse
from bangfu.policy.facts import PERSON
from bangfu.policy.interpreter import Interpreter, Scope
from bangfu.policy.sql import Compiler

DAY = dt.date(2024, 6, 30)
VARIABLES = {"date": DAY, "year_start": dt.date(2024, 1, 1), "year_end": dt.date(2024, 12, 31), "valid_from": DAY}


def _with_check(first17: str) -> str:
    return first17 + check_digit(first17)


def _texts() -> list[str | None]:
    fixed: list[str | None] = [
        _with_check("14092519890421882"),  # valid, woman
        _with_check("14112319660104345"),  # valid, man
        "140925198904218825",  # wrong check character
        _with_check("14092519890230882"),  # 30 February
        _with_check("14092500000101882"),  # year 0000
        _with_check("14092521000101882"),  # year 2100: out of the dated range
        "14092519890421882x",  # lower-case x
        "１４０９２５１９８９０４２１８８２４",  # full-width digits
        "140925890421882",  # 15 digits
        "",
        "中文",
        "13917849728",
        "0358-1234567",
        None,
    ]
    generator = random.Random(20261201)
    for _ in range(150):
        length = generator.choice([11, 17, 18, 18, 18, 19])
        fixed.append("".join(generator.choice("0123456789X") for _ in range(length)))
    return fixed


TEXTS = _texts()
EXPRESSIONS = [
    "length(hukou_region)",
    "matches(hukou_region, '[0-9]{17}[0-9X]')",
    "matches(hukou_region, '1[0-9]{10}|0[0-9]{2,3}-?[0-9]{7,8}')",
    "matches(hukou_region, '\\\\d+')",  # \d is ASCII-only in both: full-width digits do not match
    "id_checksum_ok(hukou_region)",
    "id_birth_date(hukou_region)",
    "id_sex(hukou_region)",
    "id_birth_date(hukou_region) != birth_date",
    "not id_checksum_ok(hukou_region) and length(hukou_region) == 18",
]


def _interpret(text: str, value: str | None) -> object:
    scope = Scope(
        {"hukou_region": value, "birth_date": dt.date(1989, 4, 21)},
        {},
        VARIABLES,
        lambda k: None,
        frozenset(),
        "person",
    )
    return Interpreter(scope).eval(parse(text, PERSON, {}))


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_sql_matches_interpreter(text: str) -> None:
    compiler = Compiler(case_variables=VARIABLES, constants={}, param_columns={}, key_counties=frozenset())
    sql = compiler.outer(parse(text, PERSON, {}))
    con = duckdb.connect()
    con.execute("CREATE TABLE f (i INTEGER, hukou_region VARCHAR, birth_date DATE)")
    con.executemany("INSERT INTO f VALUES (?, ?, DATE '1989-04-21')", list(enumerate(TEXTS)))
    got = dict(con.execute(f"SELECT i, {sql} FROM f").fetchall())
    for i, value in enumerate(TEXTS):
        assert got[i] == _interpret(text, value), f"{text} for {value!r}: SQL {sql}"


def test_id_functions_read_the_number() -> None:
    number = _with_check("14092519890421882")
    assert _interpret("id_checksum_ok(hukou_region)", number) is True
    assert _interpret("id_birth_date(hukou_region)", number) == dt.date(1989, 4, 21)
    assert _interpret("id_sex(hukou_region)", number) == "女"  # 17th digit 2 is even
    assert _interpret("id_checksum_ok(hukou_region)", number[:17] + ("0" if number[17] != "0" else "1")) is False


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("matches(hukou_region, hukou_region)", "字符串常量"),
        ("matches(hukou_region, '(?i)abc')", "(? 开头的分组"),
        ("matches(hukou_region, '(a)\\\\1')", "反向引用"),
        ("matches(hukou_region, '[')", "正则表达式有误"),
        ("length(birth_date)", "此处应为 str"),
    ],
)
def test_unportable_or_wrong_uses_are_refused(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message.replace("(", "\\(")):
        parse(text, PERSON, {})
