"""Reading an import file in a worker process gives exactly what reading it in process gives."""

from __future__ import annotations

from pathlib import Path

import pytest
from import_support import PEOPLE_HEADER, TODAY, make_id

from bangfu.registry.imports.pipeline import ImportFile
from bangfu.registry.imports.row_feed import Checked, InProcessFeed, WorkerFeed, WorkerFeedError, original_cells


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join([PEOPLE_HEADER + ",备注", *lines]) + "\n", encoding="utf-8")
    return path


def read_in_process(path: Path, kind: str, name_label: str | None) -> tuple[list[Checked], object]:
    with ImportFile(path, kind, today=TODAY) as source:
        feed = InProcessFeed(source, name_label, batch_size=2)
        items = [item for batch in feed.batches() for item in batch]
        return items, feed.stats


def read_in_worker(path: Path, kind: str, name_label: str | None) -> tuple[list[Checked], object]:
    """The worker's items, with each record's cells as the writer sees them (``original_cells``)."""
    feed = WorkerFeed(path, kind, None, TODAY, name_label, batch_size=2)
    try:
        items: list[Checked] = [
            (result, original_cells(original) if original is not None else None, name)
            for batch in feed.batches()
            for result, original, name in batch
        ]
        return items, feed.stats
    finally:
        feed.close()


def test_worker_and_in_process_agree(tmp_path: Path) -> None:
    person = make_id()
    source = write(
        tmp_path / "people.csv",
        [
            f"张三,{person},小店区,脱贫人口,全劳力,13912345678,",
            "",
            f"张三,{person},小店区,脱贫人口,全劳力,,重复",
            "李四,123,小店区,脱贫人口,全劳力,,号码错",
        ],
    )
    in_process = read_in_process(source, "people", None)
    in_worker = read_in_worker(source, "people", None)
    assert in_worker == in_process
    items, stats = in_worker
    assert [type(result).__name__ for result, _, _ in items] == ["PersonRecord", "Rejection", "Rejection"]
    assert items[0][1] == ["张三", person, "小店区", "脱贫人口", "全劳力", "13912345678", ""]
    assert (stats.records, stats.rejected, stats.blank_rows) == (1, 2, 1)  # type: ignore[attr-defined]


def test_a_cell_holding_the_unit_separator_comes_back_whole(tmp_path: Path) -> None:
    # Cells travel joined by the ASCII unit separator; a row with one in a cell must not be split there.
    person = make_id()
    source = write(
        tmp_path / "people.csv",
        [f"张三,{person},小店区,脱贫人口,全劳力,,备\x1f注", f"李四,{make_id()},小店区,脱贫人口,全劳力,,"],
    )
    in_worker = read_in_worker(source, "people", None)
    assert in_worker == read_in_process(source, "people", None)
    assert in_worker[0][0][1] == ["张三", person, "小店区", "脱贫人口", "全劳力", "", "备\x1f注"]


def test_the_name_beside_an_id_number_travels_with_the_record(tmp_path: Path) -> None:
    source = tmp_path / "training.csv"
    source.write_text(
        f"身份证号,姓名,培训机构,培训项目,开始日期,天数\n{make_id()},张  三,职校,电工,2024-04-01,10\n", encoding="utf-8"
    )
    items, _ = read_in_worker(source, "training", "姓名")
    assert items[0][2] == "张三"  # padded names are squeezed, as in the people file


def test_a_worker_failure_is_raised_with_its_reason(tmp_path: Path) -> None:
    with pytest.raises(WorkerFeedError, match="找不到文件"):
        read_in_worker(tmp_path / "gone.csv", "people", None)
