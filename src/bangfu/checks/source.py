"""Load a national person-table download into DuckDB: one table of typed rows, computed once.

The import reading layer (``registry/imports/reading.py``) opens the file: it finds the header under
any title rows, tells UTF-8 from GBK, and reads XLSX. A CSV in UTF-8 whose records are one line
each is then handed whole to DuckDB's CSV reader, which is many times faster than Python for a
province's millions of rows; anything else (GBK, XLSX, a cell with a line break, a blank line) is
streamed through the reading layer into Arrow batches, so every row keeps its exact line number.

The cells land in ``source``, from which the table ``rows`` is made once and ``source`` dropped:
``row_no`` (the file line), one column per recognised field (trimmed, empty as NULL, typed) and,
for a typed field, ``<field>_text``: the cell as written. Thirty rules then read typed columns
instead of each trimming and parsing the text again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from bangfu.checks.schema import TEXT_SUFFIX
from bangfu.policy.sql import literal, quote
from bangfu.registry.imports.reading import RawRow, ReadError, open_table
from bangfu.registry.national_layout import (
    BY_FIELD,
    COLUMNS,
    TITLE,
    Column,
    ColumnKind,
    LayoutMatch,
    accepts,
    layout_listing,
    recognise,
)

BATCH_ROWS = 100_000
_SCAN_BYTES = 16 * 2**20
# cells read beyond the header's width, to notice a row that has more (a stray comma shifts a row)
_OVERFLOW_CELLS = 4
# Excel shows a long number as 1.40925E+17 and keeps only 15 significant digits: the rest is lost.
_SCIENTIFIC = "[0-9]+([.][0-9]+)?[eE][+]?[0-9]+"
_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日")


class CheckInputError(ValueError):
    """The file cannot be checked as it is; the message says what, where and how to fix it."""


@dataclass
class LoadedFile:
    path: Path
    match: LayoutMatch
    rows: int
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, reason) of unreadable rows
    warnings: list[str] = field(default_factory=list)

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(self.match.columns)


def load_file(connection: duckdb.DuckDBPyConnection, path: Path, wanted: frozenset[str] | None = None) -> LoadedFile:
    """Read ``path`` into ``connection`` (table ``rows``) or refuse it.

    ``wanted``: the fields to load (with the required ones); the others are only noted as present,
    which saves a province-size file a third of its loading time.
    """
    try:
        with open_table(path, header_accepts=accepts) as table:
            match = recognise(table.header)
            _refuse_unless_complete(path, match)
            assert match is not None
            loaded = LoadedFile(path, match, 0, warnings=list(table.warnings))
            required = {column.field for column in COLUMNS if column.required_for_checks}
            columns = {f: i for f, i in match.columns.items() if wanted is None or f in wanted or f in required}
            fast = (
                table.format == "csv"
                and table.encoding in ("utf-8", "utf-8-sig")
                and _one_line_records(path, table.header_line)
            )
            if not (fast and _load_csv(connection, path, table.header_line, len(table.header), columns)):
                _load_streamed(connection, table.rows(), columns, loaded)
    except ReadError as exc:
        raise CheckInputError(str(exc)) from exc
    [(count,)] = connection.execute("SELECT COUNT(*) FROM rows").fetchall()
    loaded.rows = int(count)
    _refuse_numeric_ids(connection, columns)
    return loaded


def _refuse_unless_complete(path: Path, match: LayoutMatch | None) -> None:
    if match is None:
        raise CheckInputError(
            f"“{path.name}”不像{TITLE}表：表头里认不出足够的列。请从系统下载人口信息表后直接核查；应有的列：\n"
            + layout_listing()
        )
    if not match.complete:
        missing = "、".join(column.label for column in match.missing_required)
        raise CheckInputError(
            f"“{path.name}”缺少必需的列：{missing}。请从系统重新下载完整的人口信息表（或补上这些列的表头）；应有的列：\n"
            + layout_listing()
        )


def _one_line_records(path: Path, header_line: int) -> bool:
    """Whether every line after the header is one record (so that line = header + position).

    A quote may open a cell that spans lines, and DuckDB skips an empty line: either one sends the
    file through the reading layer, which counts lines exactly. Scanned in large blocks.
    """
    with path.open("rb") as stream:
        for _ in range(header_line):
            stream.readline()
        previous = b"\n"  # the header line ended here
        while block := stream.read(_SCAN_BYTES):
            if b'"' in block or b"\n\n" in previous + block or b"\n\r\n" in previous + block:
                return False
            previous = block[-2:]
    return True


def _load_csv(
    connection: duckdb.DuckDBPyConnection, path: Path, header_line: int, width: int, columns: dict[str, int]
) -> bool:
    """Straight from DuckDB's CSV reader into ``rows``: the cells are never held twice.

    False (and nothing loaded) when some row has filled cells beyond the header: the reading
    layer then refuses those rows one by one, with their line numbers and why.
    """
    extra = [f"c{i}" for i in range(width, width + _OVERFLOW_CELLS)]
    cells = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width + _OVERFLOW_CELLS)) + "}"
    reader = (
        f"read_csv({literal(str(path))}, skip = {header_line}, header = false, columns = {cells}, "
        # no sniffing: the dialect is known, and the sniffer refuses more columns than it counted
        "auto_detect = false, delim = ',', quote = '\"', escape = '\"', null_padding = true, strict_mode = false)"
    )
    overflow = f"COALESCE({', '.join(_text(c) for c in extra)}) AS __overflow"
    try:
        create_rows(connection, columns, reader, None, overflow)
    except duckdb.Error as exc:
        raise CheckInputError(f"“{path.name}”无法按 CSV 读取：{exc}；请用 Excel 另存为“CSV UTF-8”后重试") from exc
    [(overflowing,)] = connection.execute("SELECT COUNT(*) FROM rows WHERE __overflow IS NOT NULL").fetchall()
    if overflowing:
        connection.execute("DROP TABLE rows")
        return False
    connection.execute("ALTER TABLE rows DROP COLUMN __overflow")
    # insertion order is file order, and each record is one line (checked above): line = header + rowid + 1
    connection.execute("ALTER TABLE rows ADD COLUMN row_no BIGINT")
    connection.execute(f"UPDATE rows SET row_no = rowid + {header_line + 1}")
    filled = " OR ".join(f"{quote(name)} IS NOT NULL" for name in columns)
    connection.execute(f"DELETE FROM rows WHERE NOT ({filled})")
    return True


def load_source(
    connection: duckdb.DuckDBPyConnection,
    indexes: Sequence[int],
    records: Iterable[tuple[int, Sequence[object]]],
    batch_rows: int = BATCH_ROWS,
) -> None:
    """Table ``source`` (``__line``, then text column ``c<index>`` per index) from ``(line, values)``
    records, in Arrow batches: a row at a time through DuckDB's Python API would cost far more."""
    names = ["__line", *(f"c{i}" for i in indexes)]
    schema = pa.schema([("__line", pa.int64()), *((name, pa.string()) for name in names[1:])])
    connection.execute("CREATE TABLE source (__line BIGINT, " + ", ".join(f"{n} VARCHAR" for n in names[1:]) + ")")
    batch: list[list[object]] = [[] for _ in names]

    def flush() -> None:
        if batch[0]:
            arrow = pa.Table.from_arrays([pa.array(values) for values in batch], schema=schema)  # noqa: F841
            connection.execute("INSERT INTO source SELECT * FROM arrow")
            for values in batch:
                values.clear()

    for line, values in records:
        batch[0].append(line)
        for column, value in zip(batch[1:], values, strict=True):
            column.append(value)
        if len(batch[0]) >= batch_rows:
            flush()
    flush()


def _load_streamed(
    connection: duckdb.DuckDBPyConnection, rows: object, columns: dict[str, int], loaded: LoadedFile
) -> None:
    indexes = sorted(columns.values())

    def records() -> Iterator[tuple[int, list[object]]]:
        for item in rows:  # type: ignore[attr-defined]
            if not isinstance(item, RawRow):
                loaded.rejected.append((item.line, item.reason_zh))
                continue
            cells = item.original
            yield item.line, [cells[index] if index < len(cells) else None for index in indexes]

    load_source(connection, indexes, records())
    create_rows(connection, columns, "source", "__line")
    connection.execute("DROP TABLE source")


def _text(column: str) -> str:
    return f"NULLIF(TRIM({column}), '')"


def _typed(column: Column, text: str) -> str:
    if column.kind is ColumnKind.DATE:
        tries = ", ".join(f"TRY_STRPTIME({text}, '{f}')" for f in _DATE_FORMATS)
        return f"CAST(COALESCE({tries}) AS DATE)"
    if column.kind is ColumnKind.INTEGER:
        # "12" and Excel's "12.0"; anything else is not a whole number and stays unknown
        whole = f"REGEXP_FULL_MATCH({text}, '-?[0-9]{{1,9}}([.]0+)?')"
        return f"(CASE WHEN {whole} THEN CAST(SPLIT_PART({text}, '.', 1) AS BIGINT) END)"
    if column.kind is ColumnKind.YES_NO:
        return f"(CASE {text} WHEN '是' THEN TRUE WHEN '否' THEN FALSE END)"
    return text


def text_column(field: str) -> str:
    """The column of ``rows`` that holds ``field`` as the file wrote it."""
    column = BY_FIELD.get(field)
    if column is None:  # a fact the registry adds (schema.REGISTRY_FIELDS): text, kept as it is
        return field
    kind = column.kind
    return field if kind in (ColumnKind.TEXT, ColumnKind.ID_NUMBER, ColumnKind.PHONE) else field + TEXT_SUFFIX


def create_rows(
    connection: duckdb.DuckDBPyConnection,
    columns: dict[str, int],
    cells: str,
    row_no: str | None,
    extra: str = "",
    table: str = "rows",
) -> None:
    """``table`` from a table or reader of cells ``c<index>``; ``row_no`` the column of line numbers, if any.

    ``extra``: one more column computed from the cells and kept as it is.
    """
    numbered = [f"{row_no} AS row_no"] if row_no else []
    numbered += [extra] if extra else []
    trimmed = numbered + [f"{_text(f'c{index}')} AS {quote(name)}" for name, index in columns.items()]
    typed = ["row_no"] if row_no else []
    typed += [extra.rsplit(" AS ", 1)[1]] if extra else []
    for name in columns:
        typed.append(f"{_typed(BY_FIELD[name], quote(name))} AS {quote(name)}")
        if text_column(name) != name:
            typed.append(f"{quote(name)} AS {quote(text_column(name))}")
    where = ""
    if row_no:  # a row of empty cells is no row (the reading layer skips it too)
        where = " WHERE " + " OR ".join(f"{quote(name)} IS NOT NULL" for name in columns)
    connection.execute(
        f"CREATE TABLE {table} AS SELECT {', '.join(typed)} FROM (SELECT {', '.join(trimmed)} FROM {cells}){where}"
    )


def _refuse_numeric_ids(connection: duckdb.DuckDBPyConnection, columns: dict[str, int]) -> None:
    for name in ("id_number", "head_id_number"):
        if name not in columns:
            continue
        [found] = connection.execute(
            f"SELECT COUNT(*), MIN(row_no), MIN({quote(name)}) FROM rows WHERE REGEXP_FULL_MATCH({quote(name)}, ?)",
            [_SCIENTIFIC],
        ).fetchall()
        count, first_line, example = found
        if count:
            label = BY_FIELD[name].label
            raise CheckInputError(
                f"“{label}”列有 {count} 行以数字格式保存（如第 {first_line} 行的 {example}），"
                "后几位已经丢失，无法核查。"
                f"请重新从系统下载原始文件；若需在 Excel 中编辑，先把“{label}”列设置为“文本”格式再粘贴或录入，"
                "保存后重新核查（在已损坏的文件上改格式找不回丢失的数字）"
            )
