"""The SQL each rule compiles to finds the same rows as the policy interpreter, on random messy files."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from check_files import DAY, clean_file, write_csv

from bangfu.checks.interpret import suspects
from bangfu.checks.ruleset import load_rules
from bangfu.checks.run import check_file

RULES = load_rules()
# values a field may be given by a mutation: plausible, wrong, empty and garbage
VALUES: dict[str, list[object]] = {
    "relation_to_head": ["户主", "配偶", "之子", "之女", "儿子", None],
    "sex": ["男", "女", "未知", None],
    "birth_date": ["1980-01-01", "2020-02-29", "19891301", "不详", "2030-01-01", "1900-05-05", None],
    "id_number": ["140925198904218824", "140925198904218825", "14092519890421882x", "1409", "１４０９", None],
    "labor_skill": ["无劳动力", "丧失劳动力", "普通劳动力", "全劳力", None],
    "work_months": ["0", "3", "12", "13", "-1", "12.0", "半年", None],
    "work_place": ["北京市", None],
    "welfare_post_months": ["0", "6", "12", "13", "x", None],
    "welfare_post_type": ["保洁员", None],
    "education": ["小学", "初小", None],
    "schooling": ["小学", "五年级", None],
    "household_kind": ["脱贫户", "监测户", "普通户", None],
    "monitoring_category": ["边缘易致贫户", "其他", None],
    "risk_removed": ["是", "否", "不确定", None],
    "risk_removed_on": ["2024-01-01", None],
    "member_phone": ["13912345678", "1391234567", "0358-1234567", None],
    "household_phone": ["13912345678", "0358-1234567", "123", None],
    "head_name": ["张三", None],
    "village": ["西村", None],
    "county": ["兴县", "宁武县", None],
    "household_number": ["1409250000000000", None],
    "health": ["健康", "患有大病", None],
}


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_sql_and_interpreter_find_the_same_rows(seed: int, tmp_path: Path) -> None:
    generator = random.Random(seed)
    made = clean_file(households=8)
    for _ in range(60):
        field = generator.choice(sorted(VALUES))
        made.rows[generator.randrange(len(made.rows))][field] = generator.choice(VALUES[field])
    for _ in range(3):  # duplicated people, within and across households
        made.add_copy(generator.randrange(len(made.rows)), household_number=generator.choice(list(made.households)))
    with check_file(write_csv(made, tmp_path / "messy.csv"), RULES, DAY) as run:
        assert run.connection is not None
        cursor = run.connection.execute("SELECT * FROM rows")
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
        hits = run.connection.execute("SELECT rule, row_no FROM hits").fetchall()
    by_sql: dict[str, set[int]] = {rule.id: set() for rule in RULES.enabled()}
    for rule_id, line in hits:
        by_sql[rule_id].add(line)
    assert by_sql == suspects(rows, RULES, DAY)
    assert sum(map(len, by_sql.values())) > 20  # the mutations did make suspects
