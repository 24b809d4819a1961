"""People search as officials expect it (ADR 0025), on SQLite and PostgreSQL: name fragments, pinyin
initials, region names, column sorts and pages; and the name index kept by every writer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from import_db_support import PEOPLE_HEADER, TODAY, make_id, person_row, write_csv
from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session
from store_support import empty_registry, id_number, person

from bangfu.access.scope import Scope
from bangfu.registry.imports.importer import import_file
from bangfu.registry.queries import QueryError, search_people
from bangfu.store.name_index import rebuild_name_index
from bangfu.store.tables import Person, PersonNameTerm

XING, LIN = "141123", "141124"
WEIFEN, WEIJIATAN = "141123100", "141123101"
# name, county, township, birth year
PEOPLE = {
    "李华": (XING, WEIFEN, 1980),
    "华明": (XING, WEIJIATAN, 1990),
    "乔小军": (XING, WEIFEN, 1975),
    "乔丽": (XING, None, 2000),
    "曾国华": (XING, WEIFEN, 1985),
    "王建华": (XING, WEIFEN, 1970),
    "黎华": (XING, WEIFEN, 1995),
    "阿依古丽·买买提": (XING, WEIFEN, 1988),
    "李华平": (LIN, None, 1982),
}


@pytest.fixture
def registry(module_database: Engine) -> Iterator[Engine]:
    """This module's own database, emptied around each test (persons take ids other modules count on)."""
    empty_registry(module_database)
    yield module_database
    empty_registry(module_database)


@pytest.fixture
def named(registry: Engine) -> Iterator[tuple[Engine, dict[str, int]]]:
    """The persons of PEOPLE, written through the ORM (its events keep the index)."""
    with Session(registry) as session, session.begin():
        rows = {
            name: person(
                name=name,
                hukou_region=county,
                township_code=township,
                id_number=id_number(county, dt.date(year, 3, 1)),
            )
            for name, (county, township, year) in PEOPLE.items()
        }
        session.add_all(rows.values())
        session.flush()
        ids = {name: row.id for name, row in rows.items()}
    yield registry, ids


def names(connection: Connection, scope: str = XING, **kwargs: object) -> list[str]:
    return [p.name for p in search_people(connection, Scope.for_region(scope), per_page=100, **kwargs).items]


def test_a_fragment_finds_every_name_holding_it(named: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = named
    with engine.connect() as connection:
        # 华 anywhere in the name, in pinyin order: hua2ming2, li2hua2 (黎), li3hua2 (李), wang2…, zeng1…
        assert names(connection, name="华") == ["华明", "黎华", "李华", "王建华", "曾国华"]
        assert names(connection, name="乔") == ["乔丽", "乔小军"]
        assert names(connection, name="建华") == ["王建华"]
        assert names(connection, name="华李") == []  # both characters, but not in that order
        assert names(connection, name="李华") == ["李华"]
        assert names(connection, "14", name="李华") == ["李华", "李华平"]
        assert names(connection, name="买买提") == ["阿依古丽·买买提"]
        assert names(connection, name="古丽·买") == ["阿依古丽·买买提"]


def test_pinyin_initials_find_the_beginning_of_a_name(named: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = named
    with engine.connect() as connection:
        assert names(connection, name="lh") == ["黎华", "李华"]
        assert names(connection, name="LH") == ["黎华", "李华"]
        assert names(connection, "14", name="lhp") == ["李华平"]
        # 曾 is read zeng as a surname, ceng elsewhere: both initials find it
        assert names(connection, name="zgh") == names(connection, name="cgh") == ["曾国华"]
        assert names(connection, name="qxj") == ["乔小军"]
        assert names(connection, name="hm") == ["华明"]  # initials begin the name: not 王建华's "jh…"


def test_unusable_name_queries_say_why_and_name_the_field(named: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = named
    with engine.connect() as connection:
        for query, message in (("l", "至少输入 2 个"), ("华" * 65, "最多 64 个字"), ("·", "只有空格或分隔符")):
            with pytest.raises(QueryError, match=message) as raised:
                names(connection, name=query)
            assert raised.value.field == "name"


def test_a_township_sees_only_its_own(named: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = named
    with engine.connect() as connection:
        assert names(connection, WEIJIATAN, name="华") == ["华明"]
        assert names(connection, WEIFEN, name="乔") == ["乔小军"]  # 乔丽's township is unknown: county up only
        assert names(connection, LIN, name="华") == ["李华平"]


def test_regions_by_name(named: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = named
    with engine.connect() as connection:
        assert names(connection, "14", name="乔", region="蔚汾镇") == ["乔小军"]
        assert names(connection, "14", name="李华", region="临县") == ["李华平"]
        assert names(connection, "14", name="李华", region="吕梁市") == ["李华", "李华平"]
        assert names(connection, "14", name="李华", region="吕梁") == ["李华", "李华平"]
        assert names(connection, "14", name="华", region="兴县魏家滩镇") == ["华明"]
        with pytest.raises(QueryError, match="找不到名为“火星镇”的山西省地区") as unknown:
            names(connection, "14", region="火星镇")
        assert unknown.value.field == "region"
        # 龙泉镇 is in four counties: every choice is listed, with its county and code
        with pytest.raises(QueryError, match=r"有多个地区名为“龙泉镇”.*（14\d{7}）.*请写出上一级地区") as shared:
            names(connection, "14", region="龙泉镇")
        assert shared.value.field == "region"


def test_column_sorts_and_pages(named: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = named
    with engine.connect() as connection:
        by_name = names(connection)
        assert by_name[:3] == ["阿依古丽·买买提", "华明", "黎华"]
        assert names(connection, sort="-name") == by_name[::-1]
        assert names(connection, sort="birth_year") == [
            "王建华",
            "乔小军",
            "李华",
            "曾国华",
            "阿依古丽·买买提",
            "华明",
            "黎华",
            "乔丽",
        ]
        # region: county, then township (unknown first), then pinyin
        assert names(connection, sort="region")[:2] == ["乔丽", "阿依古丽·买买提"]
        assert names(connection, sort="-region")[0] == "华明"  # 魏家滩镇 after 蔚汾镇
        scope = Scope.for_region(XING)
        pages = [search_people(connection, scope, per_page=3, page=n) for n in (1, 2, 3)]
        assert [p.name for page in pages for p in page.items] == by_name
        assert (pages[0].total, pages[0].pages, len(pages[2].items)) == (8, 3, 2)
        with pytest.raises(QueryError, match="排序方式“age”无效") as bad:
            search_people(connection, scope, sort="age")
        assert bad.value.field == "sort"


def test_renames_and_moves_keep_the_index(named: tuple[Engine, dict[str, int]]) -> None:
    engine, ids = named
    with Session(engine) as session, session.begin():
        renamed = session.get(Person, ids["李华"])
        assert renamed is not None
        renamed.name = "李明"
        moved = session.get(Person, ids["华明"])
        assert moved is not None
        moved.hukou_region, moved.township_code = LIN, None
    with engine.connect() as connection:
        assert "李华" not in names(connection, name="华")
        assert names(connection, name="lm") == ["李明"]
        assert names(connection, LIN, name="华") == ["华明", "李华平"]
        assert "华明" not in names(connection, name="华")


def test_a_full_rebuild_writes_what_the_writers_wrote(named: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = named
    terms = select(PersonNameTerm.term, PersonNameTerm.hukou_region, PersonNameTerm.person_id).order_by(
        PersonNameTerm.term, PersonNameTerm.person_id
    )
    sorts = select(Person.id, Person.name_sort).order_by(Person.id)
    with engine.begin() as connection:
        before = (connection.execute(terms).all(), connection.execute(sorts).all())
        connection.execute(Person.__table__.update().values(name_sort=""))
        assert rebuild_name_index(connection) == len(before[0])
        assert (connection.execute(terms).all(), connection.execute(sorts).all()) == before


def test_an_import_indexes_new_persons_and_moves_them(registry: Engine, tmp_path: Path) -> None:
    number = make_id("141123", "19800101", "123")
    first = write_csv(tmp_path / "a.csv", PEOPLE_HEADER, [person_row(number, "乔华", "兴县")])
    import_file(registry, "people", first, tmp_path / "rejects", today=TODAY)
    with registry.connect() as connection:
        assert names(connection, name="华") == names(connection, name="qh") == ["乔华"]
        assert connection.scalar(select(Person.name_sort)) == "qiao2hua2"
    moved = write_csv(tmp_path / "b.csv", PEOPLE_HEADER, [person_row(number, "乔华", "临县")])
    import_file(registry, "people", moved, tmp_path / "rejects", today=TODAY)
    with registry.connect() as connection:
        assert names(connection, name="华") == []
        assert names(connection, LIN, name="乔") == ["乔华"]
