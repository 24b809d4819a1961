"""The validated rows of an import file, in batches, read in this process or in a worker process.

Reading and validating is pure Python and takes about as long as the database work; on a large file
a worker process does it (``python -m bangfu.registry.imports.row_feed``) while this one writes, so the two
run on two cores instead of one after the other (a thread would not: both halves need the GIL, and
sqlite3 releasing it at every row makes them convoy). Batches travel as length-prefixed pickles over
the worker's stdout; a bounded queue keeps the worker at most a few batches ahead. A small file is
read in process, where starting a second interpreter would cost more than it saves.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

import bangfu
from bangfu.registry.imports import values
from bangfu.registry.imports.national_columns import ColumnwiseNational
from bangfu.registry.imports.pipeline import ImportFile
from bangfu.registry.imports.records import (
    EmploymentRecord,
    HouseholdRecord,
    NationalFacts,
    OrganizationRecord,
    PersonRecord,
    Record,
    TrainingRecord,
)
from bangfu.registry.imports.rows import FileRefused, RawRow, ReadError, Rejection

T = TypeVar("T")

# From about 50,000 rows; below that a worker's start (a second interpreter) outweighs the overlap.
WORKER_MIN_BYTES = 4 * 1024 * 1024
# A national CSV from about 3,000 rows is checked column-wise (``national_columns``); below that,
# DuckDB's start and its dozen queries outweigh what they save.
COLUMNWISE_MIN_BYTES = 1024 * 1024

# Batches waiting, still pickled, beyond the one being written: a few MB.
QUEUED_MESSAGES = 4
_LENGTH = struct.Struct("<Q")
RECORD_TYPES: dict[str, type[Record]] = {
    "people": PersonRecord,
    "households": HouseholdRecord,
    "organizations": OrganizationRecord,
    "employment": EmploymentRecord,
    "training": TrainingRecord,
}

# A record's cells as read, kept only to write the row back out should the database refuse it (rare):
# from a worker they come joined by UNIT and encoded, which pickles as one byte string instead of fifty
# strings (a third of the worker's and the writer's time on a national download), and unpickles
# without decoding; ``original_cells`` decodes and splits them back.
Original = list[str] | bytes | None
UNIT = "\x1f"  # ASCII unit separator: a cell that holds one travels as a list instead

# (validated record or refusal, the row's cells as read for a record, the 姓名 written beside the ID)
Checked = tuple[Record | Rejection, Original, str | None]


def original_cells(original: Original) -> list[str]:
    """The cells of a row as read, however they travelled."""
    if original is None:
        return []
    return original.decode().split(UNIT) if isinstance(original, bytes) else original


def _as_cells(original: Original) -> Original:
    return original_cells(original) if isinstance(original, bytes) else original


@dataclass(frozen=True)
class FeedStats:
    """What the reading saw, known once every batch has been consumed."""

    records: int
    rejected: int
    blank_rows: int


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)  # itertools.batched arrived in Python 3.12
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _claimed_name(row: RawRow | None, label: str | None) -> str | None:
    if row is None or label is None:
        return None
    try:
        return values.parse_name(row.values.get(label, ""))
    except ValueError:
        return None  # an empty or over-long check column checks nothing


def checked_rows(source: ImportFile, name_label: str | None) -> Iterator[Checked]:
    for result, row in source.results_with_rows():
        original = row.original if row is not None and not isinstance(result, Rejection) else None
        yield result, original, _claimed_name(row, name_label)


class InProcessFeed:
    def __init__(self, source: ImportFile, name_label: str | None, batch_size: int) -> None:
        self.source = source
        self.name_label = name_label
        self.batch_size = batch_size
        self.stats: FeedStats | None = None

    def batches(self) -> Iterator[list[Checked]]:
        record_type = RECORD_TYPES[self.source.kind]
        for batch in wire_batches(self.source, self.name_label, self.batch_size):
            # In process, a row's cells stay a list, as the row reader gives them.
            checked = (_from_wire(record_type, item) for item in batch)
            yield [(result, _as_cells(original), name) for result, original, name in checked]
        counts = self.source.counts
        self.stats = FeedStats(counts.records, counts.rejected, self.source.table.blank_rows)

    def close(self) -> None:
        pass


def _worker_environment() -> dict[str, str]:
    """This environment, with the folder this copy of bangfu is imported from first on the path."""
    package_root = str(Path(bangfu.__file__).resolve().parent.parent)
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, (package_root, environment.get("PYTHONPATH"))))
    return environment


def worker_available() -> bool:
    return bool(sys.executable)


class WorkerFeedError(RuntimeError):
    """The worker process failed; the message says why (with its traceback when unexpected)."""


class WorkerFeed:
    """Runs the reading in ``python -m bangfu.registry.imports.row_feed``; ``close`` stops it if still running.

    A thread here drains the pipe into a short queue of still-pickled messages, so that the worker
    is never held up while this process writes to the database (the pipe itself holds only 64 KB).
    """

    def __init__(
        self, path: Path, kind: str, sheet: str | None, today: dt.date, name_label: str | None, batch_size: int
    ) -> None:
        self._record_type = RECORD_TYPES[kind]
        arguments = [str(path), kind, sheet or "", today.isoformat(), name_label or "", str(batch_size)]
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bangfu.registry.imports.row_feed", *arguments],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            env=_worker_environment(),
        )
        self._messages: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUED_MESSAGES)
        self._reader = threading.Thread(target=self._drain, name="bangfu-row-feed", daemon=True)
        self._reader.start()
        self.stats: FeedStats | None = None

    def _drain(self) -> None:
        stream = self._process.stdout
        assert stream is not None
        try:
            while header := stream.read(_LENGTH.size):
                if len(header) < _LENGTH.size:
                    break
                self._messages.put(stream.read(_LENGTH.unpack(header)[0]))
        except (OSError, ValueError):
            pass  # the stream was closed by ``close``
        finally:
            self._messages.put(None)

    def batches(self) -> Iterator[list[Checked]]:
        while True:
            message = self._messages.get()
            if message is None:
                code = self._process.wait()
                raise WorkerFeedError(f"读取进程意外退出（退出码 {code}）")
            tag, payload = pickle.loads(message)
            if tag == "batch":
                yield [_from_wire(self._record_type, item) for item in payload]
            elif tag == "done":
                self.stats = FeedStats(*payload)
                return
            elif tag == "refused":
                raise FileRefused(payload)
            else:
                raise WorkerFeedError(f"读取进程出错：{payload}")

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        # Unblock the reader if it waits on a full queue, then let it finish.
        while self._reader.is_alive():
            try:
                self._messages.get(timeout=0.1)
            except queue.Empty:
                continue
        if self._process.stdout is not None:
            self._process.stdout.close()


# Records travel as plain tuples of their fields: pickling a named tuple names its class and
# rebuilds it through ``__reduce__``, four times the cost of a tuple rebuilt with ``_make``.
Wire = tuple[bool, tuple[Any, ...], Original, str | None]


def _to_wire(item: Checked) -> Wire:
    result, original, name = item
    if isinstance(result, Rejection):
        return False, (result.line, result.original, result.reason_zh), None, None
    fields: tuple[Any, ...] = tuple(result)
    if isinstance(result, PersonRecord) and result.national is not None:
        # The national part, last of a person's fields, travels as a tuple too.
        fields = (*fields[:-1], tuple(result.national))
    if isinstance(original, list) and original:
        joined = UNIT.join(original)
        if joined.count(UNIT) == len(original) - 1:  # no cell holds the separator: it splits back exactly
            return True, fields, joined.encode(), name
    return True, fields, original, name


def _from_wire(record_type: type[Record], item: Wire) -> Checked:
    is_record, values, original, name = item
    if not is_record:
        return Rejection(*values), original, name
    # ``tuple.__new__`` is ``_make`` without its Python frame and length check: the worker built these
    # tuples from records of the same types, a million times on a national download.
    if record_type is PersonRecord and values[-1] is not None:
        values = (*values[:-1], _new_tuple(NationalFacts, values[-1]))
    return _new_tuple(record_type, values), original, name


_new_tuple = tuple.__new__


def wire_batches(
    source: ImportFile, name_label: str | None, size: int, *, columnwise: bool | None = None
) -> Iterator[list[Wire]]:
    """The file's results in batches of wire tuples: column-wise where the file allows it (a national
    CSV of ``COLUMNWISE_MIN_BYTES`` or more, unless ``columnwise`` says), else row by row."""
    if columnwise is None:
        columnwise = source.table.path.stat().st_size >= COLUMNWISE_MIN_BYTES
    reader = ColumnwiseNational.open(source) if columnwise and name_label is None else None
    if reader is not None:
        yield from reader.wire_batches(size, _to_wire)
        return
    for batch in _batches(checked_rows(source, name_label), size):
        yield [_to_wire(item) for item in batch]


def _send(stream: IO[bytes], message: tuple[str, Any]) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)))
    stream.write(data)
    stream.flush()


def _work(arguments: list[str], stream: IO[bytes]) -> int:
    path, kind, sheet, today, name_label, batch_size = arguments
    try:
        with ImportFile(Path(path), kind, sheet=sheet or None, today=dt.date.fromisoformat(today)) as source:
            for batch in wire_batches(source, name_label or None, int(batch_size)):
                _send(stream, ("batch", batch))
            counts = source.counts
            _send(stream, ("done", (counts.records, counts.rejected, source.table.blank_rows)))
    except (BrokenPipeError, KeyboardInterrupt):
        return 1  # the importer stopped reading (it failed, or was interrupted): nothing to report
    except FileRefused as error:
        # Past a limit or damaged part-way (imports.limits): the importer refuses the file as if read here.
        _send(stream, ("refused", str(error)))
        return 1
    except (ReadError, ValueError, OSError) as error:
        # The file changed or vanished since the importer read its header: the reason is enough.
        _send(stream, ("error", str(error)))
        return 1
    except Exception:
        _send(stream, ("error", traceback.format_exc()))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_work(sys.argv[1:], sys.stdout.buffer))
