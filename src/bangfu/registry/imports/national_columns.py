"""A national download in CSV checked column-wise by DuckDB; the rows it cannot vouch for, row by row.

A million-row download costs the row-by-row reader (``reading``, ``validate_national``) about sixty
microseconds of Python a row. Most of its cells repeat a few values (县, 乡, 户类型, 是/否 …) and the
rest, in a download as the system writes it, are in one plain form (an 18-digit ID number, a name
of Chinese characters, a code of digits). So, for a UTF-8 CSV whose lines are one record each:

1. DuckDB reads the lines (both cores) and splits them at commas, as the row reader does.
2. Each check that depends only on its own cells (``NationalPeopleValidator.cell_checks``) runs once
   per distinct combination of cells in the file, in Python, through the validator's own code: the
   same rules and the same messages. The many-valued cells are accepted in SQL only in the form whose
   value is the cell itself (an ID number of 17 digits and a check character that is right, of a
   real date and region; a name of Chinese characters; a code of digits; an 11-digit mobile number).
3. A row is *clean* when every check passes, it has the header's width and nothing the row reader
   would change (an apostrophe a Bangfu export put in front of a formula). A clean row's record is
   built from the columns; every other row goes through the row reader and validator, which say why.
4. The checks across rows (a repeated ID number, a household with two heads) run in file order in
   Python on the same state the validator keeps, so that a refusal names the same first line.

A file this path cannot read exactly as the row reader would (another encoding, a quoted cell, a
blank line, a lone carriage return, a line past a limit) goes the row-by-row way whole: ``open``
returns None. ``tests/registry/test_national_columns.py`` compares both paths row for row.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from bangfu.core import citizen_id
from bangfu.registry.imports.header_rows import PART_SEPARATOR
from bangfu.registry.imports.pipeline import ImportFile
from bangfu.registry.imports.rows import RawRow, Rejection
from bangfu.registry.imports.seen import text_key
from bangfu.registry.imports.validate import Cells, id_key
from bangfu.registry.imports.validate_national import HEAD, KEPT_AS_WRITTEN, NationalPeopleValidator

FAST_ENCODINGS = ("utf-8", "utf-8-sig")
MEMORY_LIMIT = "1GB"
# Rows joined and sorted at a time (about a hundred megabytes of a national download's rows).
SLICE_ROWS = 100_000
_SCAN_BYTES = 16 * 2**20
# Bytes that no line may hold for DuckDB to read it as the row reader does: a quote (a cell that
# may span lines or hold commas), the column separator DuckDB is given (none: a line is one value),
# and the unit separator the worker joins a row's cells with.
_FORBIDDEN = (b'"', b"\x01", b"\x1f")
_DUCKDB_DELIMITER = "\x01"
# Python's str.isspace, as an RE2 class: a kept cell of only these is left out of the original record.
_SPACES = "".join(f"\\x{{{code:x}}}" for code in range(sys.maxunicode + 1) if chr(code).isspace())
# The one form of each many-valued cell whose checked value is the cell as written.
_NAME = "[\\x{3400}-\\x{9fff}\\x{f900}-\\x{faff}·•.]{1,50}"
_ID = "[0-9]{17}[0-9X]"
_CODE = "[0-9]+"
_MOBILE = "1[3-9][0-9]{9}"
_WEIGHTS = citizen_id.WEIGHTS

# SQL types of the cell checks' values (text otherwise).
_VALUE_TYPES: dict[str, pa.DataType] = {
    "categories": pa.int32(),
    "risk_removed": pa.bool_(),
    "year": pa.int32(),
    "birth_date": pa.date32(),
    "minimum_living_allowance": pa.bool_(),
    "extreme_poverty_support": pa.bool_(),
    "work_months": pa.int32(),
    "welfare_post_months": pa.int32(),
}
# The national facts after the household's, in ``NationalFacts`` order, read from the cell checks.
_OWN_TEXTS = ("education", "schooling", "health", "disability")
_WORK_TEXTS = ("work_place", "employer_name", "employment_channel", "welfare_post_type")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _plain_lines(path: Path, header_line: int) -> int | None:
    """The number of lines in the file when every line after the header reads as one record of plain
    cells, the same in both readers; None otherwise."""
    lines = 0
    with path.open("rb") as stream:
        for _ in range(header_line):
            lines += stream.readline().endswith(b"\n")
        while block := stream.read(_SCAN_BYTES):
            # Blocks end on a line break (the header's, then each block's own), so none straddles two.
            block += stream.readline()
            if any(byte in block for byte in _FORBIDDEN):
                return None
            if b"\n\n" in block or block.startswith((b"\n", b"\r\n")) or b"\n\r\n" in block:
                return None  # a blank line: DuckDB may skip it, the row reader counts it
            if b"\r" in block and b"\r" in block.replace(b"\r\n", b""):
                return None  # a lone carriage return: DuckDB breaks the line there, the row reader does not
            lines += block.count(b"\n") + (not block.endswith(b"\n"))
    return lines


class ColumnwiseNational:
    """The records and refusals of a national CSV, in file order, as ``row_feed`` sends them.

    ``open`` returns None when the file must be read row by row. ``wire_batches`` yields lists of
    ``row_feed.Wire`` tuples and keeps ``source.counts`` and the table's blank rows up to date.
    """

    def __init__(self, source: ImportFile, connection: duckdb.DuckDBPyConnection) -> None:
        self.source = source
        self.table = source.table
        self.connection = connection
        self.validator = NationalPeopleValidator(
            source.columns, today=source.today, date_system=source.table.date_system
        )
        header = self.table.header
        # A label's cell is the last of that label (as ``dict(zip(header, cells))`` keeps it).
        self._position = {label: index for index, label in enumerate(header)}
        self._labels = source.columns.labels
        self._categories: list[tuple[str, ...]] = []

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, source: ImportFile) -> ColumnwiseNational | None:
        table = source.table
        columns = source.columns
        if columns.layout != "national" or table.format != "csv" or table.encoding not in FAST_ENCODINGS:
            return None
        kept = cls._kept_labels(source)
        names = [label.rsplit(PART_SEPARATOR, 1)[-1] for label in kept]
        if len(set(names)) != len(names) or any(orjson.dumps(name).decode() != f'"{name}"' for name in names):
            return None  # the original record's keys would need merging or escaping
        lines = _plain_lines(table.path, table.header_line)
        if lines is None:
            return None
        connection = duckdb.connect()
        try:
            reader = cls(source, connection)
            if not reader._load(lines):
                connection.close()
                return None
        except duckdb.Error:
            connection.close()  # not valid UTF-8, or a line DuckDB reads otherwise: the row reader says why
            return None
        return reader

    @staticmethod
    def _kept_labels(source: ImportFile) -> tuple[str, ...]:
        labels = source.columns.labels
        return (*(labels[field] for field in KEPT_AS_WRITTEN if field in labels), *source.columns.unused)

    def _cell(self, field: str) -> str:
        label = self._labels.get(field)
        return f"c[{self._position[label] + 1}]" if label is not None else "''"

    def _load(self, lines: int) -> bool:
        limits = self.table.limits
        con = self.connection
        con.execute("SET preserve_insertion_order = true")
        # The lines and their cells are held while the rows are sent; past this, DuckDB spills to disk.
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        con.execute(f"SET temp_directory = {_literal(tempfile.gettempdir())}")
        path = _literal(str(self.table.path))
        con.execute(
            f"CREATE TEMP TABLE lines AS SELECT line FROM read_csv({path}, columns = {{'line': 'VARCHAR'}}, "
            f"delim = {_literal(_DUCKDB_DELIMITER)}, quote = '', escape = '', header = false, auto_detect = false, "
            f"max_line_size = {limits.max_line_bytes + 2})"
        )
        [(read, rows, longest, widest)] = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE rowid >= {self.table.header_line}), "
            f"max(strlen(line)) FILTER (WHERE rowid >= {self.table.header_line}), "
            f"max(length(line)) FILTER (WHERE rowid >= {self.table.header_line}) FROM lines"
        ).fetchall()
        if read != lines:
            return False  # DuckDB saw the lines otherwise (a blank line above the header): line numbers would shift
        # Past a limit, or a line the row reader would refuse for its length: the row reader refuses it.
        self._rows = int(rows)
        if (
            rows > limits.max_rows
            or (longest or 0) + 1 > limits.max_line_bytes
            or (widest or 0) > limits.max_cell_chars
        ):
            return False
        fields = sorted({field for fields, _check in self.validator.cell_checks().values() for field in fields})
        many = ("name", "id_number", "head_name", "head_id_number", "household_number", "person_number")
        wanted = [*fields, *many, "member_phone", "household_phone", "township"]
        cells = ", ".join(f"{self._cell(field)} AS f_{field}" for field in dict.fromkeys(wanted))
        kept = ", ".join(f"c[{self._position[label] + 1}]" for label in self._kept_labels(self.source))
        width = len(self.table.header)
        # A view, not a table: its cells are split again by each of the two scans below rather than
        # held (a million rows' cells are a gigabyte in DuckDB; splitting them takes a second).
        con.execute(
            f"CREATE TEMP VIEW cells AS SELECT line_no, line, {cells}, [{kept}] AS kept, "
            f"len(c) = {width} AND NOT contains(line, '''') AS shaped "
            f"FROM (SELECT rowid + 1 AS line_no, line, string_split(line, ',') AS c FROM lines "
            f"WHERE rowid >= {self.table.header_line})"
        )
        self._map_checks()
        return True

    # ------------------------------------------------------------------ the cell checks, once per value

    def _map_checks(self) -> None:
        """Run each cell check once per distinct combination of its cells among the rows of the header's
        width, and keep the outcomes in a table ``m_<check>`` (keys, ``ok``, value ``v``) for the rows to join."""
        checks = self.validator.cell_checks()
        sets = {name: [f"f_{field}" for field in fields] for name, (fields, _check) in checks.items()}
        # The township's county is a check's outcome: its combinations are read with the county's cells.
        sets["township"] = ["f_province", "f_city", "f_county", "f_township"]
        sets["person_region"] = ["p_person"]
        sets["head_region"] = ["p_head"]
        columns = list(dict.fromkeys(column for keys in sets.values() for column in keys))
        grouping = ", ".join("(" + ", ".join(keys) + ")" for keys in sets.values())
        rows = self.connection.execute(
            f"SELECT {', '.join(columns)}, GROUPING({', '.join(columns)}) AS unused FROM "
            "(SELECT *, left(f_id_number, 6) AS p_person, left(f_head_id_number, 6) AS p_head "
            "FROM cells WHERE shaped) "
            f"GROUP BY GROUPING SETS ({grouping})"
        ).fetchall()
        # Each row is one combination of one set: the bits of GROUPING say which columns it leaves out.
        found: dict[str, list[tuple[Any, ...]]] = {name: [] for name in sets}
        by_columns = {frozenset(keys): name for name, keys in sets.items()}
        assert len(by_columns) == len(sets), "two checks read the same cells"
        for row in rows:
            unused = row[-1]
            used = frozenset(c for i, c in enumerate(columns) if not unused >> (len(columns) - 1 - i) & 1)
            name = by_columns[used]
            found[name].append(tuple(row[columns.index(key)] for key in sets[name]))
        labels = self._labels
        for name, (fields, check) in checks.items():
            outcomes = []
            for combination in found[name]:
                cells = Cells(
                    RawRow(0, {labels[f]: t for f, t in zip(fields, combination, strict=True) if f in labels}, []),
                    labels,
                )
                value = check(cells)
                outcomes.append((not cells.problems, self._stored(name, value)))
            self._register(name, sets[name], found[name], outcomes)
        self._map_townships(found["township"], checks["county"][1])
        # A region of issue, checked once on a number that is right otherwise.
        regions = sorted({row[0] for row in found["person_region"] + found["head_region"]})
        today = self.validator.today
        outcomes = []
        for region in regions:
            first17 = region + "19000101001"
            valid = len(region) == 6 and region.isascii() and region.isdigit()
            valid = valid and citizen_id.check(first17 + citizen_id.check_digit(first17), today).valid
            outcomes.append((valid, None))
        self._register("id_region", ["region"], [(region,) for region in regions], outcomes)

    def _map_townships(self, combinations: list[tuple[Any, ...]], county_check: Callable[[Cells], object]) -> None:
        labels = self._labels
        pairs: dict[tuple[str, str], tuple[bool, object]] = {}
        for province, city, county_text, text in combinations:
            texts = {"province": province, "city": city, "county": county_text}
            cells = Cells(RawRow(0, {labels[f]: t for f, t in texts.items() if f in labels}, []), labels)
            county = county_check(cells)
            if cells.problems or not isinstance(county, str) or (county, text) in pairs:
                continue
            cells = Cells(RawRow(0, {labels["township"]: text} if "township" in labels else {}, []), labels)
            value = self.validator._township(cells, county)
            pairs[(county, text)] = (not cells.problems, value)
        self._register("township", ["county_code", "f_township"], list(pairs), list(pairs.values()))

    def _stored(self, name: str, value: object) -> object:
        if name == "categories":
            if value is None:
                return None
            assert isinstance(value, tuple)
            self._categories.append(value)
            return len(self._categories) - 1
        return value

    def _register(
        self, name: str, keys: list[str], rows: list[tuple[Any, ...]], outcomes: list[tuple[bool, object]]
    ) -> None:
        columns: dict[str, pa.Array] = {
            key: pa.array([row[i] for row in rows], pa.string()) for i, key in enumerate(keys)
        }
        columns["ok"] = pa.array([ok for ok, _ in outcomes], pa.bool_())
        columns["v"] = pa.array([value for _, value in outcomes], _VALUE_TYPES.get(name, pa.string()))
        self.connection.register(f"arrow_{name}", pa.table(columns))
        self.connection.execute(f"CREATE TEMP TABLE m_{name} AS SELECT * FROM arrow_{name}")
        self.connection.unregister(f"arrow_{name}")

    # ------------------------------------------------------------------ the rows

    def _id_sql(self, cell: str) -> tuple[str, str]:
        """(whether ``cell`` is a valid ID number in its plain form, its birth date) as SQL."""
        digits = " + ".join(f"{w} * (ascii(substr({cell}, {i + 1}, 1)) - 48)" for i, w in enumerate(_WEIGHTS))
        born = (
            f"try(make_date(CAST(substr({cell}, 7, 4) AS INTEGER), CAST(substr({cell}, 11, 2) AS INTEGER), "
            f"CAST(substr({cell}, 13, 2) AS INTEGER)))"
        )
        today = self.validator.today.isoformat()
        valid = (
            f"(regexp_full_match({cell}, '{_ID}') "
            f"AND substr('{citizen_id.CHECK_CHARS}', (({digits}) % 11) + 1, 1) = substr({cell}, 18, 1) "
            f"AND {born} BETWEEN DATE '{citizen_id.EARLIEST_BIRTH.isoformat()}' AND DATE '{today}')"
        )
        return valid, born

    def _original_sql(self) -> str:
        """The original record's JSON (``NationalPeopleValidator._original``) from plain cells."""
        names = [label.rsplit(PART_SEPARATOR, 1)[-1] for label in self._kept_labels(self.source)]
        if not names:
            return "NULL"
        parts = ", ".join(
            f"CASE WHEN kept[{i}] = '' OR regexp_full_match(kept[{i}], '[{_SPACES}]+') THEN NULL "
            f"ELSE {_literal(orjson.dumps(name).decode() + ':')} || '\"' || kept[{i}] || '\"' END"
            for i, name in enumerate(names, 1)
        )
        return f"nullif('{{' || concat_ws(',', {parts}) || '}}', '{{}}')"

    def _query(self) -> str:
        """Each row in file order: its line, whether it is clean, the line as read, its cells joined by
        the unit separator (UTF-8), then a clean row's ``PersonRecord`` fields and ``NationalFacts``."""
        person_valid, person_born = self._id_sql("f_id_number")
        head_valid, _head_born = self._id_sql("f_head_id_number")
        sex = "CASE WHEN ascii(substr(f_id_number, 17, 1)) % 2 = 1 THEN 'male' ELSE 'female' END"
        checks = self.validator.cell_checks()
        joins = "\n".join(
            f"LEFT JOIN m_{name} AS {name} ON "
            + " AND ".join(f"{name}.f_{field} = cells.f_{field}" for field in fields)
            for name, (fields, _check) in checks.items()
        )
        clean = " AND ".join(
            [
                "shaped",
                *(f"regexp_full_match({cell}, '{_NAME}')" for cell in ("f_name", "f_head_name")),
                *(f"regexp_full_match({cell}, '{_CODE}')" for cell in ("f_household_number", "f_person_number")),
                *(
                    f"({cell} = '' OR regexp_full_match({cell}, '{_MOBILE}'))"
                    for cell in ("f_member_phone", "f_household_phone")
                ),
                person_valid,
                head_valid,
                *(f"coalesce({name}.ok, false)" for name in (*checks, "township", "person_region", "head_region")),
                f"NOT (relation_to_head.v = '{HEAD}' AND f_id_number <> f_head_id_number)",
                f"(birth_date.v IS NULL OR birth_date.v = {person_born})",
                f"(sex.v IS NULL OR sex.v = {sex})",
                # the original record's cells need no escaping in JSON
                "NOT regexp_matches(line, '[\\x00-\\x1f\\\\]')",
            ]
        )
        national = ", ".join(
            [
                "f_person_number",
                "township.v",
                "relation_to_head.v",
                "f_head_name",
                "f_head_id_number",
                "nullif(f_household_phone, '')",
                "risk_removed.v",
                *(f"{field}.v" for field in _OWN_TEXTS),
                "minimum_living_allowance.v",
                "extreme_poverty_support.v",
                "year.v",
                "work_months.v",
                *(f"{field}.v" for field in _WORK_TEXTS),
                "welfare_post_months.v",
                self._original_sql(),
            ]
        )
        return f"""
            SELECT line_no, coalesce({clean}, false), line, encode(replace(line, ',', chr(31))),
                f_name, f_id_number, county.v, categories.v, labor_skill.v,
                CASE WHEN f_member_phone = '' THEN nullif(f_household_phone, '') ELSE f_member_phone END,
                {sex}, {person_born}, f_household_number,
                {national}
            FROM cells
            {joins}
            LEFT JOIN m_township AS township
                ON township.county_code = county.v AND township.f_township = cells.f_township
            LEFT JOIN m_id_region AS person_region ON person_region.region = left(f_id_number, 6)
            LEFT JOIN m_id_region AS head_region ON head_region.region = left(f_head_id_number, 6)
            WHERE line_no BETWEEN $first AND $last
            ORDER BY line_no
        """

    def wire_batches(self, size: int, to_wire: Callable[[Any], Any]) -> Iterator[list[Any]]:
        """Lists of at most ``size`` wire tuples in file order (``to_wire`` makes one of a row-path result)."""
        query = self._query()
        validator = self.validator
        ids, heads = validator._ids, validator._heads
        counts = self.source.counts
        categories = self._categories
        # The household of the last clean row, once its head is known to be the number's first.
        last_household: tuple[str, str] | None = None
        for rows in self._rows_in_order(query, size):
            batch = []
            for row in rows:
                line = row[0]
                if row[1]:
                    number, head = row[12], row[17]
                    # The checks across rows, as ``_check_head`` and ``_check_person`` make them; a row that
                    # fails one goes to the validator, which finds it again and says why.
                    household = (number, head)
                    if household != last_household:
                        if heads.setdefault(text_key(number), (head, line))[0] != head:
                            batch.append(to_wire(self._row_result(line, row[2])))
                            continue
                        last_household = household
                    if ids.first_line(id_key(row[5]), line) is None:
                        counts.records += 1
                        fields = (line, row[4], row[5], row[6], categories[row[7]], *row[8:13], row[13:34])
                        batch.append((True, fields, row[3], None))
                        continue
                result_item = self._row_result(line, row[2])
                if result_item is not None:
                    batch.append(to_wire(result_item))
            if batch:
                yield batch
        self.connection.close()

    def _rows_in_order(self, query: str, size: int) -> Iterator[list[tuple[Any, ...]]]:
        """The query's rows in line order, ``size`` at a time: sorted a slice of lines at a time, as
        joins do not keep the order and sorting a million wide rows at once would hold them all."""
        first = self.table.header_line + 1
        last = first + self._rows - 1
        for start in range(first, last + 1, SLICE_ROWS):
            result = self.connection.execute(query, {"first": start, "last": start + SLICE_ROWS - 1})
            while rows := result.fetchmany(size):
                yield rows

    def _row_result(self, line: int, text: str) -> tuple[Any, list[str] | None, None] | None:
        """A row the columns do not vouch for, read and checked as the row reader does (None when blank)."""
        row = self.table.row(line, text.split(","))
        if row is None:
            return None
        if isinstance(row, Rejection):
            self.source.counts.rejected += 1
            return row, None, None
        result = self.validator(row)
        if isinstance(result, Rejection):
            self.source.counts.rejected += 1
            return result, None, None
        self.source.counts.records += 1
        return result, row.original, None
