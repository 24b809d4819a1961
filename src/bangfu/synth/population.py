"""Synthetic Shanxi population (persons, organisations and their collections) as Parquet.

Every column is drawn for a whole chunk at once with numpy and assembled with pyarrow, because
benchmarks need millions of people in seconds. Each chunk has its own random stream derived from
the seed, so output depends only on (seed, sizes, year), and memory stays bounded by the chunk.
The shares below are plausible, not official statistics.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bangfu.core import citizen_id, regions
from bangfu.policy.facts import CATEGORIES, LABOR_CAPACITIES, ORGANIZATION_KINDS

CHUNK_SIZE = 500_000
COMPRESSION = "zstd"

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Chunk = dict[str, pa.Table]

_RECEIVED_FIELDS = [pa.field("benefit", pa.string()), pa.field("date", pa.date32()), pa.field("units", pa.int64())]
# Units a synthetic receipt paid, per benefit paid by the unit (days, persons); the others pay one.
RECEIPT_UNITS = {"training_living_allowance": (1, 20), "one_time_hiring_subsidy": (1, 10)}
# Monitored people whose risk of falling back was removed (风险消除), in one of the two years before the data
# year: a registry export of any day of the data year then carries the same date (it hides later removals).
RISK_REMOVED_SHARE = 0.3
SCHEMAS: dict[str, pa.Schema] = {
    "persons": pa.schema(
        [
            pa.field("person_id", pa.int64()),
            pa.field("id_number", pa.string()),
            pa.field("name", pa.string()),
            pa.field("sex", pa.string()),
            pa.field("region", pa.string()),
            pa.field("hukou_region", pa.string()),
            pa.field("categories", pa.list_(pa.string())),
            pa.field("labor_capacity", pa.string()),
            pa.field("birth_date", pa.date32()),
            pa.field("risk_removed_on", pa.date32()),
        ]
    ),
    "employment": pa.schema(
        [
            pa.field("person_id", pa.int64()),
            pa.field("start", pa.date32()),
            pa.field("end", pa.date32()),
            pa.field("work_region", pa.string()),
            pa.field("organized_export", pa.bool_()),
            pa.field("travel_cost_fen", pa.int64()),
        ]
    ),
    "training": pa.schema(
        [pa.field("person_id", pa.int64()), pa.field("start", pa.date32()), pa.field("days", pa.int64())]
    ),
    "received": pa.schema([pa.field("person_id", pa.int64()), *_RECEIVED_FIELDS]),
    "organizations": pa.schema(
        [
            pa.field("org_id", pa.int64()),
            pa.field("name", pa.string()),
            pa.field("credit_code", pa.string()),
            pa.field("kind", pa.string()),
            pa.field("region", pa.string()),
            pa.field("recognized_base", pa.bool_()),
            pa.field("absorbed_poverty_alleviated", pa.int64()),
            pa.field("absorbed_edge_of_poverty", pa.int64()),
            pa.field("operating_since", pa.date32()),
            pa.field("resident_entities", pa.int64()),
            pa.field("absorbed_poor_workers", pa.int64()),
            pa.field("placed_by_export", pa.int64()),
            pa.field("contracted_households", pa.int64()),
        ]
    ),
    "trainees": pa.schema(
        [
            pa.field("org_id", pa.int64()),
            pa.field("start", pa.date32()),
            pa.field("months", pa.int64()),
            pa.field("previously_subsidized", pa.bool_()),
        ]
    ),
    "org_received": pa.schema([pa.field("org_id", pa.int64()), *_RECEIVED_FIELDS]),
}
PERSON_TABLES = ("persons", "employment", "training", "received")
ORGANIZATION_TABLES = ("organizations", "trainees", "org_received")

# Common surnames, most frequent first (Shanxi has more 郭, 武, 贾, 郝, 任 than the national list).
SURNAMES = "王李张刘郭赵杨武贾郝任梁田韩高陈吴马白孙周徐胡朱苏侯薛乔秦段霍闫冯董史范康宋郑温原牛常"
MALE_CHARS = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊峰建国志永海龙林文亮成东兵晋生保"
FEMALE_CHARS = "芳娜敏静丽艳娟霞燕玲桂秀英红梅兰琴云莉萍洁婷雪慧颖倩琳晶花凤翠"

OTHER_PROVINCE_WORK_REGIONS = (
    "440305",  # 深圳南山
    "330106",  # 杭州西湖
    "110105",  # 北京朝阳
    "320583",  # 昆山
    "310115",  # 上海浦东
    "370202",  # 青岛市南
    "410105",  # 郑州金水
    "130102",  # 石家庄长安
    "610113",  # 西安雁塔
    "150102",  # 呼和浩特新城
)
PERSON_BENEFITS = ("transport_cross_province", "transport_in_province_organized", "training_living_allowance")

ORG_KIND_SHARES = {
    "enterprise": 0.45,
    "workshop": 0.35,
    "hr_agency": 0.06,
    "labor_broker": 0.06,
    "incubator": 0.04,
    "heritage_workshop": 0.04,
}
ORG_NAME_SUFFIXES = {
    "enterprise": ("农业科技有限公司", "食品有限公司", "服饰有限公司", "建材有限公司", "物流有限公司"),
    "workshop": ("就业帮扶车间", "手工编织车间", "服装加工车间", "电子组装车间"),
    "hr_agency": ("人力资源服务有限公司", "人力资源开发有限公司"),
    "labor_broker": ("劳务服务有限公司", "劳务经纪有限公司"),
    "incubator": ("创业孵化基地", "返乡创业园"),
    "heritage_workshop": ("剪纸非遗工坊", "面塑非遗工坊", "布艺非遗工坊"),
}
ORG_BRANDS = (
    "兴农",
    "晋丰",
    "汾河",
    "黄河",
    "太行",
    "吕梁",
    "恒泰",
    "福源",
    "鑫盛",
    "振华",
    "广源",
    "华晋",
    "润丰",
)

# GB 32100 unified social credit code: 31-character alphabet (no I, O, S, V, Z) and weights 3^i mod 31.
_CREDIT_ALPHABET = np.frombuffer(b"0123456789ABCDEFGHJKLMNPQRTUWXY", dtype=np.uint8)
_CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 organisation code check


def _day(value: date) -> int:
    return int(np.datetime64(value, "D").astype(np.int64))


def _dates(rng: np.random.Generator, n: int, first: date, last: date) -> IntArray:
    """Uniform day numbers (days since 1970-01-01), both ends included."""
    return rng.integers(_day(first), _day(last) + 1, size=n)


def _date_array(days: IntArray, null: BoolArray | None = None) -> pa.Array:
    return pa.array(days.astype("datetime64[D]"), type=pa.date32(), mask=null)


def _pick(rng: np.random.Generator, n: int, shares: npt.ArrayLike) -> IntArray:
    weights = np.asarray(shares, dtype=np.float64)
    return rng.choice(len(weights), size=n, p=weights / weights.sum())


def _take(values: Sequence[str], indices: IntArray, null: BoolArray | None = None) -> pa.Array:
    return pa.array(values, type=pa.string()).take(pa.array(indices, mask=null))


def _int_array(values: IntArray, null: BoolArray | None = None) -> pa.Array:
    return pa.array(values, type=pa.int64(), mask=null)


def _repeat_owner(rng: np.random.Generator, n: int, has: BoolArray, max_count: int) -> IntArray:
    """Row owners for a collection: each owner with ``has`` gets 1..max_count rows."""
    counts = np.where(has, rng.integers(1, max_count + 1, size=n), 0)
    return np.repeat(np.arange(n, dtype=np.int64), counts)


class _Geography:
    """County codes and sampling weights, prepared once per run."""

    def __init__(self) -> None:
        counties = regions.shanxi_counties()
        real = [c for c in counties if not c.statistics_only]
        self.real_codes = [c.code for c in real]
        self.real_short_names = [c.name[:-1] if len(c.name) > 2 else c.name for c in real]
        key = set(regions.DEMO_KEY_COUNTIES)
        # Registered poor households concentrate in the key counties and rural 县, far less in 区.
        self.hukou_weights = np.array([4.0 if c.code in key else 2.0 if c.name.endswith("县") else 1.0 for c in real])
        # People who moved and jobs inside Shanxi head for districts and county-level cities.
        self.all_codes = [c.code for c in counties]
        self.urban_weights = np.array(
            [0.5 if c.statistics_only else 1.0 if c.name.endswith("县") else 3.0 for c in counties]
        )
        self.real_to_all = np.array([self.all_codes.index(code) for code in self.real_codes])
        self.work_codes = self.all_codes + list(OTHER_PROVINCE_WORK_REGIONS)


def _names(rng: np.random.Generator, is_male: BoolArray) -> pa.Array:
    n = len(is_male)
    surname_weights = 1.0 / (np.arange(len(SURNAMES)) + 4.0)
    surname = _take(list(SURNAMES), _pick(rng, n, surname_weights))
    given_chars = list(MALE_CHARS) + list(FEMALE_CHARS)
    offset = np.where(is_male, 0, len(MALE_CHARS))
    size = np.where(is_male, len(MALE_CHARS), len(FEMALE_CHARS))
    first = _take(given_chars, offset + (rng.random(n) * size).astype(np.int64))
    second = _take(given_chars, offset + (rng.random(n) * size).astype(np.int64))
    one_char = rng.random(n) < 0.3
    second = pc.if_else(pa.array(one_char), pa.scalar("", pa.string()), second)
    return pc.binary_join_element_wise(surname, first, second, "")


def _categories(rng: np.random.Generator, n: int) -> pa.Array:
    u = rng.random(n)
    empty = u < 0.03
    poverty_alleviated = ~empty & (u < 0.88)
    edge = ~empty & ~poverty_alleviated & (u < 0.96)
    rural_only = ~empty & ~poverty_alleviated & ~edge
    flags = {
        "poverty_alleviated": poverty_alleviated,
        "edge_of_poverty": edge,
        "unstable_alleviated": poverty_alleviated & (rng.random(n) < 0.0235),
        "sudden_hardship": ~empty & (rng.random(n) < 0.0103),
        "rural_low_income": rural_only | (poverty_alleviated & (rng.random(n) < 0.012)),
        "relocated": poverty_alleviated & (rng.random(n) < 0.115),
    }
    # The three monitored groups (防返贫监测对象) are tagged "monitored" as well.
    flags["monitored"] = flags["edge_of_poverty"] | flags["unstable_alleviated"] | flags["sudden_hardship"]
    matrix = np.column_stack([flags[name] for name in CATEGORIES])
    _, columns = np.nonzero(matrix)  # row-major, so values come grouped by person
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(matrix.sum(axis=1), out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), _take(CATEGORIES, columns))


def _person_chunk(rng: np.random.Generator, first_id: int, n: int, year: int, geo: _Geography) -> Chunk:
    person_ids = np.arange(first_id, first_id + n, dtype=np.int64)
    hukou = _pick(rng, n, geo.hukou_weights)
    hukou_codes = np.asarray(geo.real_codes)[hukou]
    moved = rng.random(n) < 0.08
    residence = np.asarray(geo.all_codes)[_pick(rng, n, geo.urban_weights)]
    region = np.where(moved, residence, hukou_codes)
    is_male = rng.random(n) < 0.52

    # Working age 16–65 on 1 July, with a bulge of older rural workers.
    youngest, oldest = _day(date(year - 16, 7, 1)), _day(date(year - 66, 7, 2))
    uniform = rng.integers(oldest, youngest + 1, size=n)
    mode = _day(date(year - 48, 7, 1))
    bulge = rng.triangular(oldest, mode, youngest, size=n).astype(np.int64)
    birth = np.where(rng.random(n) < 0.5, uniform, bulge)
    ids = citizen_id.generate_many(rng, hukou_codes, birth.astype("datetime64[D]"), is_male)

    # skilled, ordinary, weak-or-half, lost, none: roughly a rural county's monitored population
    labor = _pick(rng, n, (0.15, 0.55, 0.12, 0.08, 0.10))
    columns = {
        "person_id": _int_array(person_ids),
        "id_number": pa.array(ids, type=pa.string()),
        "name": _names(rng, is_male),
        "sex": _take(("female", "male"), is_male.astype(np.int64)),
        "region": pa.array(region, type=pa.string()),
        "hukou_region": pa.array(hukou_codes, type=pa.string()),
        "categories": (categories := _categories(rng, n)),
        "labor_capacity": _take(LABOR_CAPACITIES, labor, null=rng.random(n) < 0.01),
        "birth_date": _date_array(birth),
    }
    tables = {
        "employment": _employment(rng, person_ids, hukou, year, geo),
        "training": _training(rng, person_ids, year),
        "received": _received(rng, person_ids, year),
    }
    # Drawn last, so the columns above stay what they were before this fact existed (same seed, same data).
    columns["risk_removed_on"] = _risk_removed(rng, categories, year)
    return {"persons": pa.table(columns, schema=SCHEMAS["persons"]), **tables}


def _risk_removed(rng: np.random.Generator, categories: pa.ListArray, year: int) -> pa.Array:
    """风险消除日期 for a share of the monitored (防返贫监测对象), before the data year; null for everyone else."""
    n = len(categories)
    owner = pc.list_parent_indices(categories).to_numpy()
    is_monitored = np.asarray(pc.equal(pc.list_flatten(categories), "monitored").to_numpy(zero_copy_only=False))
    monitored = np.zeros(n, dtype=bool)
    monitored[owner[is_monitored]] = True
    removed = monitored & (rng.random(n) < RISK_REMOVED_SHARE)
    return _date_array(_dates(rng, n, date(year - 2, 1, 1), date(year - 1, 12, 31)), null=~removed)


def _employment(
    rng: np.random.Generator, person_ids: IntArray, hukou: IntArray, year: int, geo: _Geography
) -> pa.Table:
    n = len(person_ids)
    counts = _pick(rng, n, (0.15, 0.35, 0.35, 0.15))  # 0–3 spells, mean 1.5
    owner = np.repeat(np.arange(n, dtype=np.int64), counts)
    spells = len(owner)

    cross = rng.random(spells) < 0.35
    at_home = rng.random(spells) < 0.4
    elsewhere = _pick(rng, spells, geo.urban_weights)
    # Both index spaces map into geo.work_codes: Shanxi units first, then other provinces.
    in_shanxi = np.where(at_home, geo.real_to_all[hukou[owner]], elsewhere)
    abroad = len(geo.all_codes) + rng.integers(0, len(OTHER_PROVINCE_WORK_REGIONS), size=spells)
    work_region = np.where(cross, abroad, in_shanxi)

    start = _dates(rng, spells, date(year - 2, 1, 1), date(year, 11, 30))
    end = start + rng.integers(30, 720, size=spells)
    # A spell still running at the end of the year is ongoing; about 45% were cut short (job loss).
    ongoing = (rng.random(spells) >= 0.45) | (end > _day(date(year, 12, 31)))
    organized = np.where(cross, rng.random(spells) < 0.45, rng.random(spells) < 0.2)
    # Fares follow distance: another province, another Shanxi county, or the home county.
    cost = np.select(
        [cross, ~at_home],
        [rng.integers(20_000, 150_001, size=spells), rng.integers(3_000, 30_001, size=spells)],
        rng.integers(0, 5_001, size=spells),
    )
    return pa.table(
        {
            "person_id": _int_array(person_ids[owner]),
            "start": _date_array(start),
            "end": _date_array(end, null=ongoing),
            "work_region": _take(geo.work_codes, work_region),
            "organized_export": pa.array(organized, type=pa.bool_()),
            "travel_cost_fen": _int_array(cost, null=rng.random(spells) < 0.02),
        },
        schema=SCHEMAS["employment"],
    )


def _training(rng: np.random.Generator, person_ids: IntArray, year: int) -> pa.Table:
    n = len(person_ids)
    owner = _repeat_owner(rng, n, rng.random(n) < 0.30, 2)
    rows = len(owner)
    return pa.table(
        {
            "person_id": _int_array(person_ids[owner]),
            "start": _date_array(_dates(rng, rows, date(year - 1, 1, 1), date(year, 12, 1))),
            "days": _int_array(rng.integers(1, 31, size=rows)),
        },
        schema=SCHEMAS["training"],
    )


def _received(rng: np.random.Generator, person_ids: IntArray, year: int) -> pa.Table:
    n = len(person_ids)
    owner = _repeat_owner(rng, n, rng.random(n) < 0.20, 2)
    rows = len(owner)
    return pa.table(
        {
            "person_id": _int_array(person_ids[owner]),
            "benefit": (benefit := _take(PERSON_BENEFITS, _pick(rng, rows, (0.5, 0.2, 0.3)))),
            "date": _date_array(_dates(rng, rows, date(year - 1, 1, 1), date(year, 12, 31))),
            "units": _receipt_units(rng, benefit),
        },
        schema=SCHEMAS["received"],
    )


def _receipt_units(rng: np.random.Generator, benefits: pa.Array) -> pa.Array:
    """How many units each receipt paid: a random count for benefits paid by the unit, else 1."""
    names = np.asarray(benefits.to_numpy(zero_copy_only=False), dtype=object)
    units = np.ones(len(names), dtype=np.int64)
    for benefit, (low, high) in RECEIPT_UNITS.items():
        rows = names == benefit
        units[rows] = rng.integers(low, high + 1, size=int(rows.sum()))
    return _int_array(units)


def credit_codes(rng: np.random.Generator, county_codes: npt.NDArray[np.str_], kinds: IntArray) -> pa.Array:
    """Unified social credit codes with correct GB 11714 and GB 32100 check characters."""
    n = len(county_codes)
    values = np.empty((n, 17), dtype=np.int64)
    values[:, 0] = 9  # registered with market regulation (工商)
    # Workshops are mostly sole proprietorships (个体工商户, type 2); the rest are companies.
    values[:, 1] = np.where(kinds == ORGANIZATION_KINDS.index("workshop"), 2, 1)
    values[:, 2:8] = np.ascontiguousarray(county_codes).view(np.uint32).reshape(n, 6) - ord("0")
    values[:, 8:16] = rng.integers(0, 10, size=(n, 8))
    org_check = (11 - (values[:, 8:16] @ np.array(_ORG_CODE_WEIGHTS)) % 11) % 11
    values[:, 16] = np.where(org_check == 10, 29, org_check)  # "X" is alphabet position 29
    final = (31 - (values @ np.array(_CREDIT_WEIGHTS)) % 31) % 31
    chars = np.empty((n, 18), dtype=np.uint8)
    chars[:, :17] = _CREDIT_ALPHABET[values]
    chars[:, 17] = _CREDIT_ALPHABET[final]
    return pa.array(chars.view("S18").reshape(n).astype("U18"), type=pa.string())


def _organization_chunk(rng: np.random.Generator, first_id: int, n: int, year: int, geo: _Geography) -> Chunk:
    org_ids = np.arange(first_id, first_id + n, dtype=np.int64)
    kinds = _pick(rng, n, [ORG_KIND_SHARES[kind] for kind in ORGANIZATION_KINDS])
    county = _pick(rng, n, geo.hukou_weights)
    county_codes = np.asarray(geo.real_codes)[county]

    suffixes = [suffix for kind in ORGANIZATION_KINDS for suffix in ORG_NAME_SUFFIXES[kind]]
    suffix_counts = np.array([len(ORG_NAME_SUFFIXES[kind]) for kind in ORGANIZATION_KINDS])
    suffix_offsets = np.concatenate([[0], np.cumsum(suffix_counts)[:-1]])
    suffix = suffix_offsets[kinds] + (rng.random(n) * suffix_counts[kinds]).astype(np.int64)
    names = pc.binary_join_element_wise(
        _take(geo.real_short_names, county),
        _take(ORG_BRANDS, rng.integers(0, len(ORG_BRANDS), size=n)),
        _take(suffixes, suffix),
        "",
    )

    def is_kind(*names: str) -> BoolArray:
        return np.isin(kinds, [ORGANIZATION_KINDS.index(name) for name in names])

    base = rng.random(n) < 0.10
    # Many bases sit just around the 50-person threshold so both sides of the rule are exercised.
    absorbed = np.where(
        base,
        np.where(rng.random(n) < 0.6, rng.integers(40, 71, size=n), rng.integers(10, 151, size=n)),
        rng.integers(0, 41, size=n),
    )
    edge = np.rint(absorbed * rng.uniform(0.0, 0.3, size=n)).astype(np.int64)
    zeros = np.zeros(n, dtype=np.int64)
    workshop = is_kind("workshop")
    poor_workers = np.where(workshop, rng.integers(0, 61, size=n), rng.integers(0, 31, size=n))

    organizations = pa.table(
        {
            "org_id": _int_array(org_ids),
            "name": names,
            "credit_code": credit_codes(rng, county_codes, kinds),
            "kind": _take(ORGANIZATION_KINDS, kinds),
            "region": pa.array(county_codes, type=pa.string()),
            "recognized_base": pa.array(base, type=pa.bool_()),
            # ~1% unknown counts send the engine down its needs_information path.
            "absorbed_poverty_alleviated": _int_array(absorbed - edge, null=rng.random(n) < 0.01),
            "absorbed_edge_of_poverty": _int_array(edge, null=rng.random(n) < 0.01),
            "operating_since": _date_array(_dates(rng, n, date(2010, 1, 1), date(year, 6, 30))),
            "resident_entities": _int_array(np.where(is_kind("incubator"), rng.integers(5, 41, size=n), zeros)),
            "absorbed_poor_workers": _int_array(poor_workers, null=rng.random(n) < 0.01),
            "placed_by_export": _int_array(
                np.where(is_kind("hr_agency", "labor_broker"), rng.integers(0, 61, size=n), zeros)
            ),
            "contracted_households": _int_array(
                np.where(is_kind("heritage_workshop"), rng.integers(0, 31, size=n), zeros)
            ),
        },
        schema=SCHEMAS["organizations"],
    )

    trainee_owner = _repeat_owner(rng, n, rng.random(n) < 0.20, 20)
    trainee_rows = len(trainee_owner)
    trainees = pa.table(
        {
            "org_id": _int_array(org_ids[trainee_owner]),
            "start": _date_array(_dates(rng, trainee_rows, date(2021, 3, 1), date(2022, 3, 31))),
            "months": _int_array(rng.integers(1, 11, size=trainee_rows)),
            "previously_subsidized": pa.array(rng.random(trainee_rows) < 0.10, type=pa.bool_()),
        },
        schema=SCHEMAS["trainees"],
    )

    received_owner = _repeat_owner(rng, n, rng.random(n) < 0.05, 2)
    received_rows = len(received_owner)
    # Each kind claims the reward that fits it, so the ledger blocks repeat claims realistically.
    benefit = np.where(
        kinds[received_owner] == ORGANIZATION_KINDS.index("incubator"),
        2,
        np.where(base[received_owner], 0, 1),
    )
    org_received = pa.table(
        {
            "org_id": _int_array(org_ids[received_owner]),
            "benefit": (
                names := _take(("employment_base_reward", "one_time_hiring_subsidy", "incubator_reward"), benefit)
            ),
            "date": _date_array(_dates(rng, received_rows, date(year - 1, 1, 1), date(year, 12, 31))),
            "units": _receipt_units(rng, names),
        },
        schema=SCHEMAS["org_received"],
    )
    return {"organizations": organizations, "trainees": trainees, "org_received": org_received}


ChunkMaker = Callable[[np.random.Generator, int, int, int, _Geography], Chunk]


def _write_chunked(
    out_dir: Path,
    tables: Sequence[str],
    total: int,
    make_chunk: ChunkMaker,
    seed: int,
    stream: int,
    year: int,
    geo: _Geography,
    chunk_size: int,
) -> dict[str, int]:
    rows = dict.fromkeys(tables, 0)
    writers = {
        name: pq.ParquetWriter(out_dir / f"{name}.parquet", SCHEMAS[name], compression=COMPRESSION) for name in tables
    }
    try:
        for index, first in enumerate(range(0, total, chunk_size)):
            rng = np.random.default_rng([seed, stream, index])
            chunk = make_chunk(rng, first + 1, min(chunk_size, total - first), year, geo)
            for name in tables:
                writers[name].write_table(chunk[name])
                rows[name] += chunk[name].num_rows
    finally:
        for writer in writers.values():
            writer.close()
    return rows


def write_population(
    out_dir: Path,
    persons: int,
    organizations: int,
    seed: int = 2021,
    year: int = 2024,
    *,
    chunk_size: int = CHUNK_SIZE,
) -> dict[str, int]:
    """Write the seven population tables to ``out_dir``; returns the row count per table.

    Output depends on the chunk size as well as the seed, since each chunk has its own stream.
    """
    if persons < 0 or organizations < 0:
        raise ValueError("人数和单位数不能为负数")
    if chunk_size < 1:
        raise ValueError("分块大小必须为正整数")
    out_dir.mkdir(parents=True, exist_ok=True)
    geo = _Geography()
    counts = _write_chunked(out_dir, PERSON_TABLES, persons, _person_chunk, seed, 0, year, geo, chunk_size)
    counts |= _write_chunked(
        out_dir, ORGANIZATION_TABLES, organizations, _organization_chunk, seed, 1, year, geo, chunk_size
    )
    return counts
