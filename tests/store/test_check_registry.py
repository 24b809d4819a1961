"""``bangfu check`` without a file: the registry's persons checked with the download's rules, on both back ends.

The national sample goes through the real importer, then the registry is checked: what the file's check
finds, the registry's finds too (the same rows, exported), a planted fault is found and nothing else, a
county sees only its persons, and bad input exits 2 with a message that says what to fix.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

from national_support import DATA_ROWS, SAMPLE, edited, write_national_xlsx
from openpyxl import load_workbook  # type: ignore[import-untyped, unused-ignore]
from sqlalchemy import Engine, func, insert, select, update
from typer.testing import CliRunner, Result

from bangfu.checks.registry_source import NOT_STORED
from bangfu.cli import app
from bangfu.core.disclosure import masked_id_number
from bangfu.registry.imports.importer import import_file
from bangfu.registry.national_layout import BY_FIELD
from bangfu.store.tables import AuditEntry, BenefitLedgerEntry, Person

TODAY = dt.date(2024, 6, 30)
LOST_COUNTY = "141123"  # 兴县: 高勇 and his household; the rest of the sample is in 140925
PLANTED_ID = "140925198904218824"  # 高永红, head of 1409254110000100
SPOUSE_ID = "140925197707179729"  # 徐斌, of the same household


def imported(engine: Engine, tmp_path: Path) -> Path:
    path = Path(shutil.copy(SAMPLE, tmp_path / "人口信息.xlsx"))
    report = import_file(engine, "people", path, tmp_path / "imported", today=TODAY)
    assert (report.inserted, report.rejected) == (DATA_ROWS, 0)
    return path


def check(*args: str | Path) -> Result:
    return CliRunner().invoke(app, ["check", *map(str, args), "--date", TODAY.isoformat(), "--json"])


def ok(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, f"exit {result.exit_code}\n{result.stdout}\n{result.stderr}"
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def failed(result: Result) -> str:
    assert result.exit_code == 2, f"exit {result.exit_code}\n{result.stdout}\n{result.stderr}"
    return "".join(result.stderr.split())


def url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def counts(data: dict[str, Any]) -> dict[str, int | None]:
    return {rule["id"]: rule["count"] for rule in data["rules"]}


def rows_of(path: str) -> list[tuple[Any, ...]]:
    workbook = load_workbook(path, read_only=True)
    try:
        return [tuple(row) for row in workbook.worksheets[0].iter_rows(min_row=2, values_only=True)]
    finally:
        workbook.close()


def test_the_registry_check_finds_what_the_download_check_finds(registry: Engine, tmp_path: Path) -> None:
    sample = imported(registry, tmp_path)
    from_file = counts(ok(check(sample, "--out", tmp_path / "file")))
    data = ok(check("--database", url(registry), "--out", tmp_path / "registry"))
    assert data["rows"] == DATA_ROWS and data["file"] == "登记库（山西省）"
    from_registry = counts(data)
    not_checked = {rule["id"]: rule["not_checked"] for rule in data["rules"] if rule["count"] is None}
    # only the rules reading a column the registry does not keep are left unchecked, and say which
    missing = {BY_FIELD[field].label for field in NOT_STORED}
    assert not_checked and all(any(label in why for label in missing) for why in not_checked.values())
    assert all(why.startswith("未核查：登记库缺少列") for why in not_checked.values())
    assert {k: v for k, v in from_file.items() if k not in not_checked} == {
        k: v for k, v in from_registry.items() if k not in not_checked
    }
    assert from_registry["HU04"]  # the sample's own suspects are found in the registry too


def test_a_fault_planted_in_the_registry_is_found_and_nothing_else(registry: Engine, tmp_path: Path) -> None:
    imported(registry, tmp_path)
    before = counts(ok(check("--database", url(registry), "--out", tmp_path / "before")))
    with registry.begin() as connection:
        connection.execute(update(Person).where(Person.id_number == PLANTED_ID).values(education="博士后"))
    data = ok(check("--database", url(registry), "--out", tmp_path / "after"))
    after = counts(data)
    assert after["JY05"] == (before["JY05"] or 0) + 1
    assert {k: v for k, v in after.items() if k != "JY05"} == {k: v for k, v in before.items() if k != "JY05"}
    [file] = [rule["file"] for rule in data["rules"] if rule["id"] == "JY05"]
    found = rows_of(file)
    assert any(masked_id_number(PLANTED_ID) in row and "博士后" in row for row in found)
    assert not any(PLANTED_ID in row for row in found)  # masked, as in the file mode


def test_a_county_sees_only_its_own_persons(registry: Engine, tmp_path: Path) -> None:
    imported(registry, tmp_path)
    with registry.connect() as connection:
        in_county = connection.execute(
            select(func.count()).select_from(Person).where(Person.hukou_region == LOST_COUNTY)
        ).scalar_one()
    assert 0 < in_county < DATA_ROWS
    data = ok(check("--database", url(registry), "--region", LOST_COUNTY, "--out", tmp_path / "county"))
    assert data["rows"] == in_county and data["file"] == "登记库（山西省吕梁市兴县）"
    for rule in data["rules"]:
        if rule["file"]:
            assert {row[2] for row in rows_of(rule["file"])} == {"兴县"}  # 疑点说明, 行号, 县 …


def test_the_check_is_on_the_audit_log_before_its_results(registry: Engine, tmp_path: Path) -> None:
    imported(registry, tmp_path)
    ok(check("--database", url(registry), "--region", LOST_COUNTY, "--out", tmp_path / "audited"))
    with registry.connect() as connection:
        entry = connection.execute(
            select(AuditEntry).where(AuditEntry.action == "checks.registry").order_by(AuditEntry.id.desc()).limit(1)
        ).one()
    assert (entry.region_code, json.loads(entry.after)["masked"]) == (LOST_COUNTY, True)


def test_bad_input_exits_2_and_says_what_to_fix(registry: Engine, tmp_path: Path) -> None:
    sample = imported(registry, tmp_path)
    assert "地区代码“999999”不存在" in failed(check("--database", url(registry), "--region", "999999"))
    assert "不是有效年度" in failed(check("--database", url(registry), "--year", "24"))
    assert "只用于核查登记库" in failed(check(sample, "--year", "2024"))
    empty = tmp_path / "empty.db"
    empty.touch()
    assert "尚未初始化" in failed(check("--database", f"sqlite:///{empty.as_posix()}"))
    assert "不存在" in failed(check("--database", f"sqlite:///{(tmp_path / 'absent.db').as_posix()}"))
    assert not (tmp_path / "absent.db").exists()


def test_a_download_row_registered_in_another_county_is_found_with_database(registry: Engine, tmp_path: Path) -> None:
    imported(registry, tmp_path)

    def moved(row: dict[str, Any]) -> dict[str, Any]:
        return {**row, "县": "兴县"} if row["证件号码"] == PLANTED_ID else row

    download = write_national_xlsx(tmp_path / "下载.xlsx", edited(moved))
    alone = counts(ok(check(download, "--out", tmp_path / "alone")))
    assert "DJ01" not in alone  # the registry's rules run only when there is a registry to compare with
    data = ok(check(download, "--database", url(registry), "--out", tmp_path / "compared"))
    compared = counts(data)
    assert compared["DJ01"] == 1
    assert compared["DJ02"] == 0  # nobody is paid from the ledger here
    assert {k: v for k, v in compared.items() if not k.startswith("DJ")} == alone
    [file] = [rule["file"] for rule in data["rules"] if rule["id"] == "DJ01"]
    [row] = rows_of(file)
    assert masked_id_number(PLANTED_ID) in row and row[-1] == "宁武县"  # the registry's county, last
    # a county's scope does not see persons of other counties: nothing to compare with there
    scoped = counts(ok(check(download, "--database", url(registry), "--region", LOST_COUNTY, "--out", tmp_path / "s")))
    assert scoped["DJ01"] == 0


def paid(engine: Engine, id_number: str, *amounts_fen: int) -> None:
    with engine.begin() as connection:
        person_id = connection.execute(select(Person.id).where(Person.id_number == id_number)).scalar_one()
        for number, fen in enumerate(amounts_fen):
            connection.execute(
                insert(BenefitLedgerEntry).values(
                    person_id=person_id, benefit_id="transport_subsidy", date=TODAY, amount_fen=fen, source=f"t{number}"
                )
            )


def test_a_person_paid_from_the_ledger_but_not_in_the_download_is_found(registry: Engine, tmp_path: Path) -> None:
    imported(registry, tmp_path)
    paid(registry, PLANTED_ID, 50_000, 30_050)  # absent from the download below
    paid(registry, SPOUSE_ID, 20_000)  # in it
    download = write_national_xlsx(
        tmp_path / "下载.xlsx", edited(lambda row: None if row["证件号码"] == PLANTED_ID else row)
    )
    data = ok(check(download, "--database", url(registry), "--out", tmp_path / "ledger"))
    assert counts(data)["DJ02"] == 1
    [file] = [rule["file"] for rule in data["rules"] if rule["id"] == "DJ02"]
    workbook = load_workbook(file, read_only=True)
    try:
        header, row = (tuple(r) for r in workbook.worksheets[0].iter_rows(values_only=True))
    finally:
        workbook.close()
    shown = dict(zip(header, row, strict=True))
    assert header[:2] == ("疑点说明", "登记库序号")
    assert (shown["证件号码"], shown["台账发放笔数"], shown["台账发放金额"]) == (
        masked_id_number(PLANTED_ID),
        2,
        "800.50 元",
    )
    assert PLANTED_ID not in row
    # the same download with that person in it finds nobody; so does a county the person is not of
    complete = counts(ok(check(tmp_path / "人口信息.xlsx", "--database", url(registry), "--out", tmp_path / "all")))
    assert complete["DJ02"] == 0
    other = ok(check(download, "--database", url(registry), "--region", LOST_COUNTY, "--out", tmp_path / "other"))
    assert counts(other)["DJ02"] == 0
    # the registry's own check has no download to compare with: the rule is not loaded there
    alone = ok(check("--database", url(registry), "--out", tmp_path / "registry"))
    assert "DJ02" not in counts(alone)
