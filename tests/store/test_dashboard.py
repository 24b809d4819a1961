"""``reports.dashboard``: the figures per finest region and their sums per scope, the CLI refresh, and
the refreshes after a synthetic load and an import; both back ends."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from import_db_support import PEOPLE_HEADER, make_id, person_row, write_csv
from scoped_registry import LIN, LVLIANG, TAIYUAN, TODAY, WEIFEN, WEIJIATAN, WUCHENG, XIAODIAN, XING, registry_database
from sqlalchemy import Connection, Engine, select
from typer.testing import CliRunner, Result

from bangfu.access.scope import Scope
from bangfu.cli import app
from bangfu.core import regions
from bangfu.core.vocabulary import CATEGORIES
from bangfu.policy.policy_set import PolicySet
from bangfu.reports.dashboard import WORK_KEYS, Dashboard, compute_figures, dashboard, refresh_figures
from bangfu.store.db import make_engine
from bangfu.store.tables import DashboardFigure, Household, Person
from database_servers import BACKENDS

POLICIES = PolicySet.bundled()

FIGURES = DashboardFigure.__table__
NO_WORK = dict.fromkeys(WORK_KEYS, 0)
NO_CATEGORIES = dict.fromkeys(CATEGORIES, 0)


@pytest.fixture(scope="module", params=BACKENDS)
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with registry_database(request.param, tmp_path_factory.mktemp("scoped")) as (engine, _):
        yield engine


@pytest.fixture
def connection(built: Engine) -> Iterator[Connection]:
    """The small registry with no figures yet, in a transaction rolled back afterwards."""
    with built.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            transaction.rollback()


def figures(connection: Connection) -> set[tuple[str, str, str, int]]:
    rows = connection.execute(select(FIGURES.c.region_code, FIGURES.c.measure, FIGURES.c.key, FIGURES.c.value))
    return {tuple(row) for row in rows}  # type: ignore[misc]


def test_figures_per_finest_region(connection: Connection) -> None:
    assert refresh_figures(connection, TODAY, POLICIES) == 25
    assert figures(connection) == {
        # 张三 (p1) in 蔚汾镇: abroad through organized export, and at home at the same time.
        (WEIFEN, "persons", "all", 1),
        (WEIFEN, "category", "poverty_alleviated", 1),
        (WEIFEN, "work", "cross_province", 1),
        (WEIFEN, "work", "in_county", 1),
        (WEIFEN, "work", "organized_export", 1),
        (WEIFEN, "benefit_fund", "revitalization", 50_000),
        (WEIFEN, "benefit_count", "transport_cross_province", 1),
        # 李四 (p2) in 魏家滩镇: monitoring ended last year; an earlier spell ended.
        (WEIJIATAN, "persons", "all", 1),
        (WEIJIATAN, "category", "edge_of_poverty", 1),
        (WEIJIATAN, "work", "in_county", 1),
        # 张三 (p3), township unknown, capacity unknown: counted at the county; the county's company's reward.
        (XING, "persons", "all", 1),
        (XING, "category", "poverty_alleviated", 1),
        (XING, "category", "relocated", 1),
        (XING, "work", "not_working_capacity_unknown", 1),
        (XING, "benefit_fund", "employment", 10_000_000),
        (XING, "benefit_count", "employment_base_reward", 1),
        # 王五 (p4) of 临县 works in 太原; a category that starts next month; a benefit the policy lacks.
        (LIN, "persons", "all", 1),
        (LIN, "work", "in_province", 1),
        (LIN, "benefit_fund", "other", 1_000),
        (LIN, "benefit_count", "mystery_benefit", 1),
        # 赵六 (p5) in 坞城街道: out of work; last year's entry left out; a correction nets out.
        (WUCHENG, "persons", "all", 1),
        (WUCHENG, "category", "poverty_alleviated", 1),
        (WUCHENG, "work", "not_working", 1),
        (WUCHENG, "benefit_fund", "employment", 20_000),
        (WUCHENG, "benefit_count", "training_living_allowance", 1),
    }


def test_dashboards_sum_their_subtree(connection: Connection) -> None:
    assert dashboard(connection, Scope.for_region("14")).computed_at is None
    refresh_figures(connection, TODAY, POLICIES)
    province = dashboard(connection, Scope.for_region("14"))
    assert province.computed_at is not None and province.computed_at.tzinfo is not None
    assert (province.region_code, province.region_name, province.persons) == ("14", "山西省", 5)
    assert province.categories == NO_CATEGORIES | {"poverty_alleviated": 3, "edge_of_poverty": 1, "relocated": 1}
    assert province.work == {
        "cross_province": 1,
        "in_province": 1,
        "in_county": 2,
        "organized_export": 1,
        "not_working": 1,
        "not_working_capacity_unknown": 1,
    }
    assert province.funds == {"revitalization": 50_000, "employment": 10_020_000, "other": 1_000}
    assert province.benefits == {
        "employment_base_reward": 1,
        "mystery_benefit": 1,
        "training_living_allowance": 1,
        "transport_cross_province": 1,
    }

    # The province is the sum of its cities, and a county the sum of its townships and its own rows.
    cities = [dashboard(connection, Scope.for_region(code)) for code in (LVLIANG, TAIYUAN)]
    assert (cities[0].persons, cities[1].persons) == (4, 1)
    assert summed(cities) == counts_of(province)
    county = dashboard(connection, Scope.for_region(XING))
    townships = [dashboard(connection, Scope.for_region(code)) for code in (WEIFEN, WEIJIATAN)]
    county_rows = connection.execute(
        select(FIGURES.c.measure, FIGURES.c.key, FIGURES.c.value).where(FIGURES.c.region_code == XING)
    )
    own = Counter({f"{measure}:{key}": value for measure, key, value in county_rows})
    assert county.persons == 3
    assert summed(townships) + own == counts_of(county)
    assert county.work == NO_WORK | {
        "cross_province": 1,
        "in_county": 2,
        "organized_export": 1,
        "not_working_capacity_unknown": 1,
    }
    weifen = dashboard(connection, Scope.for_region(WEIFEN))
    assert (weifen.region_name, weifen.persons, weifen.funds) == (
        "山西省吕梁市兴县蔚汾镇",
        1,
        {"revitalization": 50_000},
    )
    assert dashboard(connection, Scope.for_region(XIAODIAN)).funds == {"employment": 20_000}
    empty = dashboard(connection, Scope.for_region("1402"))
    assert (empty.persons, empty.work, empty.funds, empty.computed_at) == (0, NO_WORK, {}, province.computed_at)


def counts_of(board: Dashboard) -> Counter[str]:
    """Every figure of a dashboard as ``measure:key`` → value, zeros left out."""
    counts: Counter[str] = Counter({"persons:all": board.persons})
    for measure, values in (
        ("category", board.categories),
        ("work", board.work),
        ("benefit_fund", board.funds),
        ("benefit_count", board.benefits),
    ):
        counts.update({f"{measure}:{key}": value for key, value in values.items()})
    return +counts


def summed(boards: list[Dashboard]) -> Counter[str]:
    total: Counter[str] = Counter()
    for board in boards:
        total.update(counts_of(board))
    return +total


def test_a_refresh_replaces_the_figures_and_follows_the_day(connection: Connection) -> None:
    refresh_figures(connection, TODAY, POLICIES)
    first = figures(connection)
    assert refresh_figures(connection, TODAY, POLICIES) == len(first)
    assert figures(connection) == first
    # A year later: other year's ledger, p1's spells still open, p4's category now held.
    refresh_figures(connection, dt.date(2025, 6, 30), POLICIES)
    later = dashboard(connection, Scope.for_region("14"))
    assert later.funds == {} and later.benefits == {}
    assert later.categories["rural_low_income"] == 1
    assert set(compute_figures(connection, dt.date(2025, 6, 30), POLICIES)) == figures(connection)


def test_dashboard_is_a_plain_record(connection: Connection) -> None:
    refresh_figures(connection, TODAY, POLICIES)
    board = dashboard(connection, Scope.for_region(LIN))
    assert dataclasses.asdict(board)["work"]["in_province"] == 1


# --- the command line ------------------------------------------------------------------------


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def read_dashboard(url: str, code: str = "14") -> Dashboard:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return dashboard(connection, Scope.for_region(code))
    finally:
        engine.dispose()


def test_synthetic_load_writes_townships_and_refreshes(fresh_database: str) -> None:
    result = invoke("synth", "--persons", "300", "--organizations", "20", "--database", fresh_database)
    assert result.exit_code == 0, result.output
    assert "统计看板数据（统计日期 2024-12-31）" in result.stdout
    board = read_dashboard(fresh_database)
    assert board.persons == 300 and board.computed_at is not None
    assert sum(board.work.values()) > 0 and board.funds

    engine = make_engine(fresh_database)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(Person.hukou_region, Person.township_code, Household.region_code, Household.address).join(
                    Household, Household.id == Person.household_id
                )
            ).all()
    finally:
        engine.dispose()
    assert len(rows) == 300
    for hukou, township, household_region, address in rows:
        assert township is not None and township[:6] == hukou == household_region
        assert regions.name_of(township) in address
    # Every township's dashboard adds up to the county's, which has no persons of its own.
    county = max(Counter(hukou for hukou, *_ in rows).items(), key=lambda item: item[1])[0]
    townships = {township for hukou, township, *_ in rows if hukou == county}
    per_township = sum(read_dashboard(fresh_database, code).persons for code in townships)
    assert per_township == read_dashboard(fresh_database, county).persons

    refreshed = invoke("stats", "refresh", "--database", fresh_database, "--date", "2024-06-30")
    assert refreshed.exit_code == 0, refreshed.output
    assert "统计日期 2024-06-30" in refreshed.stdout and "行" in refreshed.stdout


def test_stats_refresh_refuses_a_bad_date_or_database(tmp_path: Path) -> None:
    bad_date = invoke("stats", "refresh", "--date", "2024-13-01", "--database", f"sqlite:///{tmp_path / 'x.db'}")
    assert bad_date.exit_code == 2 and "--date" in bad_date.output
    missing = invoke("stats", "refresh", "--database", f"sqlite:///{tmp_path / 'missing.db'}")
    assert missing.exit_code == 2 and "bangfu init" in missing.output


def test_an_import_refreshes_the_figures(registry: Engine, tmp_path: Path) -> None:
    rows = [person_row(make_id("141123", "19800101", "123"), "张三"), person_row(make_id("141124", "19850505", "246"))]
    source = write_csv(tmp_path / "people.csv", PEOPLE_HEADER, [*rows[:1], [*rows[1][:2], "临县", *rows[1][3:]]])
    url = registry.url.render_as_string(hide_password=False)
    result = invoke("import", "people", str(source), "--json", "--database", url)
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\n") == 1  # the JSON line only: the refresh reports on stderr
    board = read_dashboard(url)
    assert board.persons == 2 and board.categories["poverty_alleviated"] == 2
    assert read_dashboard(url, LIN).persons == 1
