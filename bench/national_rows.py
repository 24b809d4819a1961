"""A synthetic download of the national monitoring system's person table (人口信息) for the import benchmark.

The layout of ``tests/data/national-persons-sample.xlsx``: a title row, then the 50 columns, one row per
person, households of one to five members with the head first and the household's fields repeated on
each member's row. Valid ID numbers (``core.citizen_id.generate_many``) over the real Shanxi counties and
their townships; about one in 2,000 random ID numbers repeats, and those rows are refused as repeats.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

COLUMNS = (
    "省,市,县,乡,村,户编号,人口编号,姓名,性别,出生日期,证件类型,证件号码,民族,户联系电话,成员联系电话,年度,与户主关系,"
    "文化程度,在校生状况,劳动技能,务工时间（月）,健康状况,政治面貌,务工企业名称,是否享受低保,是否参加城镇职工基本养老保险,"
    "是否参加大病保险,是否参加新型农村合作医疗（城乡居民基本医疗保险）,是否参加城乡居民基本养老保险,失学或辍学原因,"
    "是否会讲普通话,是否参加商业补充医疗保险,是否国外务工,产业分类,是否接受大病医疗救助,是否接受其他健康扶贫,公益性岗位类型,"
    "公益性岗位(月数),就业渠道,残疾类别,务工所在地,户主姓名,户主证件号码,是否参加城镇职工基本医疗保险,是否特困供养人员,"
    "残疾证办证年度,识别标准,户类型,监测对象类别,风险是否已消除"
)
TITLE = "全国防返贫监测信息系统 人口信息（基准测试用，人员均为虚构）"
NAMES = ("张伟", "王芳", "李娜", "刘强", "郭晋生", "赵丽", "杨磊", "武海", "贾秀英", "郝建国", "王平", "李军")
RELATIONS = ("配偶", "之子", "之女", "之孙子", "其他")
SKILLS = ("技能劳动力", "普通劳动力", "弱劳动力或半劳动力", "丧失劳动力", "无劳动力")
PLACES = ("浙江省杭州市", "江苏省苏州市", "太原市小店区", "广东省深圳市", "")
POSTS = ("护林员", "保洁员", "", "", "", "", "", "")
# (户类型, 监测对象类别, 风险是否已消除)
KINDS = (
    ("脱贫户", "", ""),
    ("脱贫户", "", ""),
    ("脱贫户", "", ""),
    ("监测户", "脱贫不稳定户", "是"),
    ("监测户", "边缘易致贫户", "否"),
    ("监测户", "突发严重困难户", "否"),
)
CHUNK_HOUSEHOLDS = 50_000


def generate_national(path: Path, rows: int, seed: int) -> dict[str, Any]:
    """Write ``rows`` person rows (CSV, UTF-8) to ``path``; returns what was written."""
    import numpy as np

    from bangfu.core import citizen_id, regions

    counties = [c for c in regions.shanxi_counties() if not c.statistics_only and regions.townships_of(c.code)]
    townships = [regions.townships_of(c.code) for c in counties]
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    written = 0
    household_serial = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(TITLE + "\n" + COLUMNS + "\n")
        while written < rows:
            sizes = rng.integers(1, 6, CHUNK_HOUSEHOLDS)
            n = int(sizes.sum())
            county_of_household = rng.integers(0, len(counties), CHUNK_HOUSEHOLDS)
            county_index = np.repeat(county_of_household, sizes)
            codes = np.array([counties[i].code for i in county_index])
            born = rng.integers(np.datetime64("1950-01-01").astype(int), np.datetime64("2018-12-31").astype(int), n)
            ids = citizen_id.generate_many(rng, codes, born.astype("datetime64[D]"), rng.random(n) < 0.5).tolist()
            births = born.astype("datetime64[D]").astype(str).tolist()
            names = rng.integers(0, len(NAMES), n).tolist()
            skills = rng.integers(0, len(SKILLS), n).tolist()
            months = rng.integers(0, 13, n).tolist()
            places = rng.integers(0, len(PLACES), n).tolist()
            posts = rng.integers(0, len(POSTS), n).tolist()
            phones = rng.integers(13_000_000_000, 19_999_999_999, n).tolist()
            kinds = rng.integers(0, len(KINDS), CHUNK_HOUSEHOLDS).tolist()
            town_pick = rng.integers(0, 1_000, CHUNK_HOUSEHOLDS).tolist()
            lines = []
            person = 0
            for household, size in enumerate(sizes.tolist()):
                county = counties[county_of_household[household]]
                town_list = townships[county_of_household[household]]
                township = town_list[town_pick[household] % len(town_list)]
                household_serial += 1
                number = f"{township.code}{household_serial:07d}"
                head_id, head_name = ids[person], NAMES[names[person]]
                kind, category, removed = KINDS[kinds[household]]
                city = regions.name_of(county.code[:4])
                for member in range(size):
                    i = person + member
                    id_number = ids[i]
                    sex = "男" if int(id_number[16]) % 2 else "女"
                    relation = "户主" if member == 0 else RELATIONS[member % len(RELATIONS)]
                    name = head_name if member == 0 else NAMES[names[i]]
                    worked = months[i] if skills[i] < 3 else 0
                    place = PLACES[places[i]] if worked else ""
                    post = POSTS[posts[i]] if skills[i] == 2 else ""
                    lines.append(
                        f"山西省,{city},{county.name},{township.name},幸福村,{number},{number}{member + 1:02d},{name},"
                        f"{sex},{births[i]},居民身份证,{id_number},汉族,{phones[person]},{phones[i]},2024,{relation},"
                        f"初中,,{SKILLS[skills[i]]},{worked},健康,群众,{'某某公司' if place else ''},"
                        "否,否,是,是,是,,是,否,否,,"
                        f"否,否,{post},{12 if post else ''},{'有组织劳务输出' if place else ''},,{place},{head_name},"
                        f"{head_id},否,否,,国家标准,{kind},{category},{removed}\n"
                    )
                person += size
                written += size
                if written >= rows:
                    break
            out.write("".join(lines))
    return {
        "rows": written,
        "seed": seed,
        "layout": "national",
        "bytes": path.stat().st_size,
        "generate_s": round(time.perf_counter() - started, 1),
    }
