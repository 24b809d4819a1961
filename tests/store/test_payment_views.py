"""What the payment pages and API read and do, on SQLite and PostgreSQL: batches in scope only (a township
none), accounts masked, a return file applied within the reader's scope, reconciliation of one batch,
the XLSX bank file (text cells, no formula, refused after a change) and the XLSX / GBK return file."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from claims_support import CHECKER, MAKER, OTHER, add_person, approved_claim, exported_batch, return_file
from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped, unused-ignore]
from sqlalchemy import Engine, select, update

from bangfu.access.scope import Scope
from bangfu.claims import payments
from bangfu.claims.bank_files import BANK_COLUMNS, RETURN_COLUMNS, ReturnFileError, read_return_file
from bangfu.claims.payment_views import (
    BatchFilters,
    batch_lines,
    batch_summary,
    batch_tally,
    list_batches,
    reconciliation,
)
from bangfu.claims.payments import PAYMENTS, PaymentError
from bangfu.registry.queries import QueryError

# Two counties of 吕梁 (1411) and one of 太原 (1401), none used by the other payment tests' modules.
LIN, FANGSHAN, XIAODIAN = "141124", "141128", "140105"


def refs(engine: Engine, batch_id: int) -> list[str]:
    with engine.connect() as connection:
        return list(
            connection.scalars(
                select(PAYMENTS.c.reference).where(PAYMENTS.c.batch_id == batch_id).order_by(PAYMENTS.c.id)
            )
        )


@pytest.fixture(scope="module")
def batches(module_database: Engine, tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    folder = tmp_path_factory.mktemp("bank")
    made = {}
    for county, people in ((LIN, 2), (FANGSHAN, 1), (XIAODIAN, 1)):
        for _ in range(people):
            approved_claim(module_database, add_person(module_database, county=county), account="6217000010001234567")
        made[county], _ = exported_batch(module_database, county, folder)
    return made


def test_batches_are_read_within_the_scope_only(module_database: Engine, batches: dict[str, int]) -> None:
    with module_database.connect() as connection:
        city = list_batches(connection, Scope.for_region("1411"), BatchFilters())
        county = list_batches(connection, Scope.for_region(LIN), BatchFilters())
        township = list_batches(connection, Scope.for_region(f"{LIN}100"), BatchFilters())
        province = list_batches(connection, Scope.for_region("14"), BatchFilters(county=XIAODIAN), per_page=1)
        assert sorted(b.id for b in city.items) == sorted([batches[LIN], batches[FANGSHAN]])
        assert [(b.id, b.lines, b.total_fen, b.status) for b in county.items] == [
            (batches[LIN], 2, 160_000, "exported")
        ]
        assert township.total == 0 and township.items == []
        assert (province.total, [b.id for b in province.items]) == (1, [batches[XIAODIAN]])
        assert batch_summary(connection, Scope.for_region("1401"), batches[LIN]) is None
        assert batch_lines(connection, Scope.for_region(f"{LIN}100"), batches[LIN]) is None
        lines = batch_lines(connection, Scope.for_region(LIN), batches[LIN])
        assert lines is not None and {line.account_masked for line in lines} == {"****4567"}
        for bad, field in ((BatchFilters(fund="gold"), "fund"), (BatchFilters(county=XIAODIAN), "county")):
            with pytest.raises(QueryError) as refused:
                list_batches(connection, Scope.for_region("1411"), bad)
            assert refused.value.field == field
        rows = reconciliation(connection, Scope.for_region("1411"), BatchFilters())
        assert [(r.county, r.batches, r.tally.counts["pending"], r.tally.sums_fen["pending"]) for r in rows] == [
            (LIN, 1, 2, 160_000),
            (FANGSHAN, 1, 1, 80_000),
        ]


def test_a_return_touches_only_the_readers_batches(
    module_database: Engine, batches: dict[str, int], tmp_path: Path
) -> None:
    lin, xiaodian = refs(module_database, batches[LIN]), refs(module_database, batches[XIAODIAN])
    file = return_file(tmp_path, [(lin[0], "成功", 80_000), (lin[1], "失败", 80_000), (xiaodian[0], "成功", 80_000)])
    with module_database.begin() as connection:
        report = payments.import_return(connection, file, OTHER, within=Scope.for_region("1411"))
    assert report.applied == {"paid": 1, "failed": 1, "reversed": 0}
    assert report.problems == [f"第 4 行（{xiaodian[0]}）：没有这个支付流水号（或不在您的地区范围内），未处理"]
    with module_database.begin() as connection:
        done = payments.reconcile(connection, OTHER, batch_id=batches[FANGSHAN])
        assert (done.paid, done.failed) == (0, 0)  # another batch's results wait for their own reconcile
        done = payments.reconcile(connection, OTHER, batch_id=batches[LIN])
        assert (done.paid, done.failed) == (1, 1)
        tally = batch_tally(connection, batches[LIN])
        assert (tally.counts, tally.sums_fen["paid"]) == ({"paid": 1, "failed": 1, "reversed": 0, "pending": 0}, 80_000)
        assert connection.scalar(select(PAYMENTS.c.status).where(PAYMENTS.c.reference == xiaodian[0])) == "pending"
        lines = batch_lines(connection, Scope.for_region(LIN), batches[LIN])
        assert lines is not None and [line.needs_reissue for line in lines] == [False, True]


def test_the_xlsx_bank_file_keeps_text_as_text(module_database: Engine, tmp_path: Path) -> None:
    county = "141130"
    approved_claim(module_database, add_person(module_database, county=county), account="6217000010001234567")
    claim = approved_claim(module_database, add_person(module_database, county=county), account="0012345678901234")
    with module_database.begin() as connection:
        from bangfu.claims import decisions
        from bangfu.claims.drafting import Payee

        decisions.set_payee(connection, claim, MAKER, Payee("@SUM(A1:A9)", "0012345678901234", "=cmd|' /C calc'!A0"))
        built = payments.build_batch(
            connection, fund="revitalization", region=county, payer_bank="方山农商", actor=MAKER
        )
    assert built.batch_id is not None
    with module_database.begin() as connection:
        payments.approve_batch(connection, built.batch_id, CHECKER)
        payments.export_batch(connection, built.batch_id, tmp_path / "b.xlsx", OTHER, layout="xlsx")
    sheet = load_workbook(tmp_path / "b.xlsx").active
    rows = list(sheet.iter_rows())
    assert tuple(c.value for c in rows[0]) == BANK_COLUMNS
    assert [r[2].value for r in rows[1:]] == ["6217000010001234567", "0012345678901234"]  # leading zeros kept
    for row in rows[1:]:
        assert all(c.data_type != "f" for c in row)
        assert all(c.data_type == "s" for i, c in enumerate(row) if i != 5)
        assert row[5].data_type == "n" and row[5].value == 80_000
    assert (rows[2][1].value, rows[2][3].value) == ("'@SUM(A1:A9)", "'=cmd|' /C calc'!A0")
    # Changed after approval: no file, in either layout.
    with module_database.begin() as connection:
        connection.execute(update(PAYMENTS).where(PAYMENTS.c.batch_id == built.batch_id).values(amount_fen=1))
    for layout in ("xlsx", "csv"):
        with module_database.begin() as connection, pytest.raises(PaymentError, match="批准后已被改动"):
            payments.export_batch(connection, built.batch_id, tmp_path / f"changed.{layout}", OTHER, layout=layout)
        assert not (tmp_path / f"changed.{layout}").exists()


def test_return_files_in_xlsx_and_gbk_and_their_bad_lines(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(RETURN_COLUMNS))
    sheet.append(["BF00000001000001", "成功", 80000, "入账", dt.date(2024, 7, 5)])
    sheet.append(["BF00000001000002", "退汇", 80000.0, "'=账户冻结", "2024-07-06"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    (tmp_path / "r.xlsx").write_bytes(buffer.getvalue())
    lines = read_return_file(tmp_path / "r.xlsx")
    assert [(x.line, x.reference, x.result, x.amount_fen, x.message, x.date) for x in lines] == [
        (2, "BF00000001000001", "paid", 80_000, "入账", dt.date(2024, 7, 5)),
        (3, "BF00000001000002", "reversed", 80_000, "=账户冻结", dt.date(2024, 7, 6)),
    ]
    gbk = "，".join(RETURN_COLUMNS).replace("，", ",") + "\r\nBF00000001000001,失败,80000,账户已销户,2024-07-05\r\n"
    (tmp_path / "gbk.csv").write_bytes(gbk.encode("gbk"))
    assert [x.message for x in read_return_file(tmp_path / "gbk.csv")] == ["账户已销户"]
    header = ",".join(RETURN_COLUMNS)
    bad = {
        "流水号,结果\r\n": "第 1 行的表头为“流水号，结果”，应依次为：支付流水号，处理结果，金额（分），银行说明",
        f"{header}\r\nBF1,成功,80000,x,2024-07-05\r\nBF2,已到账,1,x,2024-07-05\r\n": "第 3 行的处理结果“已到账”",
        f"{header}\r\nBF1,成功,800.00,x,2024-07-05\r\n": "第 2 行的金额（分）“800.00”不是整数",
        f"{header}\r\nBF1,成功,80000,x,2024/7/5\r\n": "第 2 行的处理日期“2024/7/5”无效：应为 年-月-日",
        f"{header}\r\n,成功,80000,x,2024-07-05\r\n": "第 2 行没有支付流水号",
        f"{header}\r\nBF1,成功,80000,x,2024-07-05,多余\r\n": "第 2 行无法读取：列数超出表头",
    }
    for text, message in bad.items():
        (tmp_path / "bad.csv").write_text(text, encoding="utf-8")
        with pytest.raises(ReturnFileError, match=message.replace("(", r"\(")) as refused:
            read_return_file(tmp_path / "bad.csv")
        assert "重新导入" in str(refused.value)
