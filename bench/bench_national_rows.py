"""Per-row cost of the two halves of a national import, in one process, without a database.

The reading worker's half: read, check and build each row of a national download, and pickle the
batches as the worker sends them (``row_feed.wire_batches``: column-wise for a national CSV, or row by
row with ``--row-by-row``). The importer's half that does not touch
the database: unpickle and rebuild the records (``row_feed._from_wire``). CPU microseconds per row,
the best of ``--runs``; run it beside another checkout (``PYTHONPATH=<other>/src``) to compare.

    .venv/bin/python bench/bench_national_rows.py bench/out/import/national-50k.csv --runs 2 [--row-by-row]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import pickle
import time
from pathlib import Path

import bangfu
from bangfu.registry.imports import row_feed
from bangfu.registry.imports.pipeline import ImportFile

TODAY = dt.date(2026, 12, 1)


def worker_half(path: Path, columnwise: bool) -> tuple[bytes, int]:
    out = io.BytesIO()
    rows = 0
    with ImportFile(path, "people", today=TODAY) as source:
        for batch in row_feed.wire_batches(source, None, 5_000, columnwise=columnwise):
            rows += len(batch)
            row_feed._send(out, ("batch", batch))
    return out.getvalue(), rows


def importer_half(data: bytes) -> None:
    position = 0
    while position < len(data):
        size = int.from_bytes(data[position : position + 8], "little")
        position += 8
        _tag, payload = pickle.loads(data[position : position + size])
        position += size
        for item in payload:
            row_feed._from_wire(row_feed.PersonRecord, item)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--row-by-row", action="store_true", help="read as before ADR 19, one row at a time")
    args = parser.parse_args()
    best_worker = best_importer = float("inf")
    rows = 0
    for _ in range(args.runs):
        started = time.process_time()
        data, rows = worker_half(args.file, not args.row_by_row)
        best_worker = min(best_worker, time.process_time() - started)
        started = time.process_time()
        importer_half(data)
        best_importer = min(best_importer, time.process_time() - started)
    how = "row by row" if args.row_by_row else "column-wise"
    print(
        f"{Path(bangfu.__file__).parent} ({how}): {rows:,} rows; worker {best_worker / rows * 1e6:.1f} µs/row, "
        f"importer receiving {best_importer / rows * 1e6:.1f} µs/row (CPU, best of {args.runs})"
    )


if __name__ == "__main__":
    main()
