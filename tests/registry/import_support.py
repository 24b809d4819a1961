"""Helpers for the import tests: valid ID numbers and fast writers of large people files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np

from bangfu.core import citizen_id, regions

PEOPLE_HEADER = "姓名,身份证号,户籍所在县,人员类别,劳动能力,联系电话"
TODAY = date(2024, 6, 30)

_NAMES = ("张伟", "王芳", "李娜", "刘强", "郭晋生", "赵丽", "杨磊", "武海", "贾秀英", "郝建国")
_CATEGORIES = ("脱贫人口", "边缘易致贫人口", "脱贫人口、易地搬迁", "防返贫监测对象", "农村低收入人口")
_CAPACITIES = ("全劳力", "弱劳力", "半劳力")


def make_id(region: str = "140105", birth: str = "19900101", sequence: str = "123") -> str:
    """A valid 18-character ID number; an odd last sequence digit means male."""
    first17 = region + birth + sequence
    return first17 + citizen_id.check_digit(first17)


def people_lines(rng: np.random.Generator, n: int, *, wide: bool = False) -> list[str]:
    """``n`` valid people rows (random IDs repeat now and then, as real files' duplicates do).

    ``wide`` adds two unmapped columns (家庭住址, 备注) of about 130 bytes, the size of a real
    county roster row, so that a file of a given size has realistically few rows.
    """
    counties = [county for county in regions.shanxi_counties() if not county.statistics_only]
    county_codes = np.array([county.code for county in counties])
    county_names = [county.name for county in counties if county.name not in ("城区", "矿区", "郊区")]
    picked = rng.integers(0, len(county_codes), n)
    days = rng.integers(np.datetime64("1960-01-01").astype(int), np.datetime64("2005-12-31").astype(int), n)
    ids = citizen_id.generate_many(rng, county_codes[picked], days.astype("datetime64[D]"), rng.random(n) < 0.5)
    names = rng.integers(0, len(_NAMES), n)
    hukou = rng.integers(0, len(county_names), n)
    categories = rng.integers(0, len(_CATEGORIES), n)
    capacities = rng.integers(0, len(_CAPACITIES), n)
    phones = rng.integers(13_000_000_000, 19_999_999_999, n)
    tail = ",{}某某镇某某村{}号,2021年已享受一次性交通补贴，2022年参加电工培训并取得证书" if wide else ""
    return [
        f"{_NAMES[a]},{b},{county_names[c]},{_CATEGORIES[d]},{_CAPACITIES[e]},{f}"
        + tail.format(county_names[c], f % 1000)
        for a, b, c, d, e, f in zip(
            names.tolist(),
            ids.tolist(),
            hukou.tolist(),
            categories.tolist(),
            capacities.tolist(),
            phones.tolist(),
            strict=True,
        )
    ]


def write_people_csv(
    path: Path, *, rows: int | None = None, megabytes: int | None = None, wide: bool = False, seed: int = 7
) -> int:
    """Write a UTF-8 people CSV of ``rows`` rows or about ``megabytes`` MB; returns the row count."""
    rng = np.random.default_rng(seed)
    written = 0
    size = 0
    chunk = 200_000
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(PEOPLE_HEADER + (",家庭住址,备注" if wide else "") + "\n")
        while (rows is not None and written < rows) or (megabytes is not None and size < megabytes * 1_000_000):
            n = chunk if rows is None else min(chunk, rows - written)
            text = "\n".join(people_lines(rng, n, wide=wide)) + "\n"
            out.write(text)
            size += len(text.encode("utf-8"))
            written += n
    return written
