"""A synthetic national person-table download (CSV) of any size, written by DuckDB in seconds.

Households of four (head, spouse, child, grandfather) with consistent, valid values; suspect rows
are planted at fixed small rates, so every run of every tool sees the same file. ID numbers are
unique and carry valid check characters except where a wrong one is planted.

Usage: python bench/national_synth.py FILE PERSONS
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

from bangfu.registry.national_layout import COLUMNS

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
DAY = "2024-06-30"


def _with_check(first17: str) -> str:
    total = " + ".join(f"(ASCII(SUBSTRING({first17}, {i + 1}, 1)) - 48) * {w}" for i, w in enumerate(WEIGHTS))
    return f"({first17} || SUBSTRING('10X98765432', CAST(({total}) % 11 AS INTEGER) + 1, 1))"


def _first17(pos: str, birth: str, sex: str) -> str:
    # region digits from the household, sequence from it too: (household, position) -> unique number
    return (
        f"('14' || LPAD(CAST(hh % 10000 AS VARCHAR), 4, '0') || STRFTIME({birth}, '%Y%m%d')"
        f" || LPAD(CAST((hh // 10000) % 100 AS VARCHAR), 2, '0') || (CASE WHEN {sex} = '男' THEN '1' ELSE '2' END))"
    )


SQL = f"""
WITH base AS (
  SELECT i, i // 4 AS hh, i % 4 AS pos FROM range(?) t(i)
), people AS (
  SELECT *,
    CASE pos WHEN 0 THEN 30 + hh % 30 WHEN 1 THEN 28 + hh % 30 WHEN 2 THEN 6 + hh % 12 ELSE 60 + hh % 25 END AS age,
    CASE pos WHEN 1 THEN '女' WHEN 2 THEN (CASE WHEN hh % 2 = 0 THEN '男' ELSE '女' END) ELSE '男' END AS sex
  FROM base
), dated AS (
  SELECT *, CAST(DATE '{DAY}' - INTERVAL (age) YEAR - INTERVAL (hh % 300) DAY AS DATE) AS birth,
    CAST(DATE '{DAY}' - INTERVAL (30 + hh % 30) YEAR - INTERVAL (hh % 300) DAY AS DATE) AS head_birth
  FROM people
), ids AS (
  SELECT *, {_with_check(_first17("pos", "birth", "sex"))} AS id_ok,
    {_with_check(_first17("0", "head_birth", "'男'"))} AS head_id
  FROM dated
)
SELECT
  '山西省' AS "省", '某市' AS "市", '县' || CAST(hh % 117 AS VARCHAR) AS "县", '某镇' AS "乡",
  '村' || CAST(hh % 3000 AS VARCHAR) AS "村",
  '14' || LPAD(CAST(hh AS VARCHAR), 14, '0') AS "户编号",
  '14' || LPAD(CAST(i AS VARCHAR), 16, '0') AS "人口编号",
  '某' || CAST(i AS VARCHAR) AS "姓名",
  sex AS "性别",
  STRFTIME(CASE WHEN hh % 2500 = 7 AND pos = 2 THEN birth + 1 ELSE birth END, '%Y-%m-%d') AS "出生日期",
  '居民身份证' AS "证件类型",
  CASE WHEN i % 1000 = 11 THEN SUBSTRING(id_ok, 1, 17) || (CASE WHEN id_ok[18] = '0' THEN '1' ELSE '0' END)
       ELSE id_ok END AS "证件号码",
  '汉族' AS "民族",
  '139' || LPAD(CAST(hh % 100000000 AS VARCHAR), 8, '0') AS "户联系电话",
  CASE WHEN i % 3000 = 5 THEN '138' || LPAD(CAST(i % 10000000 AS VARCHAR), 7, '0')
       ELSE '138' || LPAD(CAST(i % 100000000 AS VARCHAR), 8, '0') END AS "成员联系电话",
  '2024' AS "年度",
  CASE WHEN pos = 0 THEN '户主' WHEN pos = 1 THEN (CASE WHEN hh % 2000 = 1 THEN '户主' ELSE '配偶' END)
       WHEN pos = 2 THEN (CASE WHEN sex = '男' THEN '之子' ELSE '之女' END) ELSE '之父' END AS "与户主关系",
  CASE WHEN pos = 2 THEN NULL WHEN pos = 3 THEN '小学' ELSE '初中' END AS "文化程度",
  CASE WHEN pos <> 2 THEN NULL WHEN age < 12 THEN '小学' WHEN age < 15 THEN '初中' ELSE '高中' END AS "在校生状况",
  CASE pos WHEN 0 THEN '技能劳动力' WHEN 1 THEN '普通劳动力' WHEN 2 THEN '无劳动力' ELSE '丧失劳动力' END AS "劳动技能",
  CASE WHEN pos = 0 THEN '10' WHEN pos = 3 AND hh % 1500 = 2 THEN '3' ELSE '0' END AS "务工时间（月）",
  CASE WHEN pos = 3 THEN '长期慢性病' ELSE '健康' END AS "健康状况",
  '群众' AS "政治面貌",
  CASE WHEN pos = 0 THEN '某物流有限公司' END AS "务工企业名称",
  '否' AS "是否享受低保", '否' AS "是否参加城镇职工基本养老保险", '是' AS "是否参加大病保险",
  '是' AS "是否参加新型农村合作医疗（城乡居民基本医疗保险）", '是' AS "是否参加城乡居民基本养老保险",
  NULL AS "失学或辍学原因", '是' AS "是否会讲普通话", '否' AS "是否参加商业补充医疗保险", '否' AS "是否国外务工",
  NULL AS "产业分类", '否' AS "是否接受大病医疗救助", '否' AS "是否接受其他健康扶贫",
  CASE WHEN pos = 1 AND hh % 10 = 0 THEN '保洁员' END AS "公益性岗位类型",
  CASE WHEN pos = 1 AND hh % 10 = 0 THEN '12' END AS "公益性岗位(月数)",
  CASE WHEN pos = 0 THEN '有组织劳务输出' END AS "就业渠道",
  NULL AS "残疾类别",
  CASE WHEN pos = 0 AND hh % 1200 <> 3 THEN '浙江省杭州市' WHEN pos = 3 AND hh % 1500 = 2 THEN '北京市' END
    AS "务工所在地",
  '某' || CAST(hh * 4 AS VARCHAR) AS "户主姓名",
  head_id AS "户主证件号码",
  '否' AS "是否参加城镇职工基本医疗保险", '否' AS "是否特困供养人员", NULL AS "残疾证办证年度",
  '国家标准' AS "识别标准",
  CASE WHEN hh % 10 = 0 THEN '监测户' ELSE '脱贫户' END AS "户类型",
  CASE WHEN hh % 10 = 0 THEN '边缘易致贫户' END AS "监测对象类别",
  CASE WHEN hh % 10 = 0 THEN '否' END AS "风险是否已消除"
FROM ids
ORDER BY i
"""


def write_national_csv(path: Path, persons: int) -> Path:
    """``persons`` rows in the national layout (header row, no title), UTF-8 CSV."""
    connection = duckdb.connect()
    try:
        relation = connection.sql(SQL.replace("range(?)", f"range({int(persons)})"))
        expected = [c.label for c in COLUMNS if c.field != "risk_removed_on"]
        assert relation.columns == expected, "the synthetic file must follow the layout"
        relation.write_csv(str(path), header=True)
    finally:
        connection.close()
    return path


if __name__ == "__main__":
    write_national_csv(Path(sys.argv[1]), int(sys.argv[2]))
