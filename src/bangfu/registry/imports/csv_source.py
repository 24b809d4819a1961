"""Stream a CSV file as records of cells, whatever encoding a county office saved it in.

Files arrive in UTF-8 (with or without the BOM Excel writes) or GBK/GB18030 (Excel's default
"CSV" on Chinese Windows), and sometimes in both at once when rows were pasted together from
different exports. The file is read as bytes, one record at a time, and each record is decoded
strictly: a record that does not decode in the file's encoding is refused with its line number
(编码错误), never repaired with replacement characters.

Record boundaries are found on bytes, which is safe for both encodings: the quote, comma, tab and
line-feed bytes never occur inside a multi-byte UTF-8 or GB18030 character.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from bangfu.registry.imports.limits import ImportLimits, refuse
from bangfu.registry.imports.rows import ReadError, Rejection

UTF8 = "utf-8"
UTF8_BOM = "utf-8-sig"
GB18030 = "gb18030"
ENCODING_LABELS = {UTF8: "UTF-8", UTF8_BOM: "UTF-8（带 BOM）", GB18030: "GBK/GB18030"}

# Enough Chinese text to tell UTF-8 from GBK with certainty, while staying a tiny part of a big file.
SAMPLE_BYTES = 64 * 1024
SAMPLE_LINES = 1000
# A quoted cell may hold line breaks; one that is still open after this much text is taken to be
# a stray quote, so that a single typo cannot swallow the rest of a large file into one cell.
MAX_RECORD_LINES = 100
MAX_RECORD_BYTES = 1024 * 1024

_QUOTE = 0x22
# Chinese characters, CJK punctuation and full-width forms: what Chinese text in UTF-8 contains.
_CJK = re.compile("[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
_NUL_PROBE_BYTES = 4096

Record = tuple[int, list[str]]

SAME_ENCODING_HINT = "；请把整个文件另存为同一种编码（建议“CSV UTF-8”）后重新导入本行"
UNCLOSED_QUOTE = "引号不配对：本行有一个以英文双引号开头的单元格没有结束引号，请删除多余的引号或补全后重新导入本行"


def bounded_lines(stream: BinaryIO, path: Path, max_bytes: int) -> Iterator[bytes]:
    """The file's lines, each read with a bound: a file with no line break is refused, not read whole."""
    number = 0
    while line := stream.readline(max_bytes + 1):
        number += 1
        if len(line) > max_bytes and not line.endswith(b"\n"):
            raise refuse(
                f"“{path.name}”第 {number:,} 行过长（读到 {max_bytes:,} 字节仍没有换行）",
                "max_line_bytes",
                max_bytes,
                "字节",
                "文件可能不是按行保存的表格，或某个单元格过大；请用 Excel 或 WPS 打开检查，另存为“CSV UTF-8”后重新导入",
            )
        yield line


def detect_encoding(path: Path, max_line_bytes: int | None = None) -> str:
    """UTF-8 (BOM or not) or GB18030, decided by strict UTF-8 decoding of the first non-ASCII lines.

    An all-ASCII start decides nothing, so the scan goes on (streaming) until non-ASCII text is
    found; the majority of the sampled lines wins, so that a few pasted rows in the other encoding
    do not flip the whole file (they are refused one by one when read).
    """
    with path.open("rb") as stream:
        head = stream.read(_NUL_PROBE_BYTES)
        if head.startswith(codecs.BOM_UTF8):
            return UTF8_BOM
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in head:
            raise ReadError(
                "文件是 UTF-16 编码（Excel“Unicode 文本”）或不是文本文件；请在 Excel 中另存为“CSV UTF-8”后重新导入"
            )
        stream.seek(0)
        good = bad = examined = 0
        for line in bounded_lines(stream, path, max_line_bytes or ImportLimits().max_line_bytes):
            if line.isascii():
                continue
            try:
                line.decode(UTF8)
                good += 1
            except UnicodeDecodeError:
                bad += 1
            examined += len(line)
            if examined >= SAMPLE_BYTES or good + bad >= SAMPLE_LINES:
                break
    return UTF8 if good >= bad else GB18030


def _ends_inside_quotes(line: bytes, inside: bool, delimiter: int) -> bool:
    """Whether a quoted cell is still open at the end of ``line`` (Excel's CSV dialect).

    Only a quote at the very start of a cell opens quoting; a quote elsewhere is a literal
    character, as Python's csv module and Excel read it.
    """
    position, length = 0, len(line)
    while position < length:
        if inside:
            quote = line.find(b'"', position)
            if quote < 0:
                return True
            if quote + 1 < length and line[quote + 1] == _QUOTE:
                position = quote + 2
                continue
            inside = False
            position = quote + 1
        elif line[position] == _QUOTE:
            inside = True
            position += 1
            continue
        separator = line.find(delimiter, position)
        if separator < 0:
            return False
        position = separator + 1
    return inside


def _byte_records(stream: Iterator[bytes], delimiter: int) -> Iterator[tuple[int, bytes, bool]]:
    """(first line number, the record's bytes, whether its quotes are closed) for each record."""
    source = enumerate(stream, 1)
    pushed_back: deque[tuple[int, bytes]] = deque()

    def next_line() -> tuple[int, bytes] | None:
        return pushed_back.popleft() if pushed_back else next(source, None)

    while (item := next_line()) is not None:
        number, line = item
        if b'"' not in line or not _ends_inside_quotes(line, False, delimiter):
            yield number, line, True
            continue
        parts = [item]
        size = len(line)
        inside = True
        while inside and len(parts) < MAX_RECORD_LINES and size < MAX_RECORD_BYTES:
            following = next_line()
            if following is None:
                break
            parts.append(following)
            size += len(following[1])
            inside = _ends_inside_quotes(following[1], True, delimiter)
        if not inside:
            yield number, b"".join(part for _, part in parts), True
            continue
        # Refuse only the line that opened the quote and read the lines after it again on their own.
        yield number, line, False
        pushed_back.extendleft(reversed(parts[1:]))


def _is_utf8_chinese(data: bytes) -> bool:
    """Valid UTF-8 containing Chinese text: GBK text almost never is both.

    About 0.3% of two- and three-character GBK names are valid UTF-8 by accident, but none of
    them decodes to Chinese text (checked over 200,000 common names and 600,000 random pairs and
    triples of common characters), while any row actually written in UTF-8 with Chinese does.
    """
    try:
        text = data.decode(UTF8)
    except UnicodeDecodeError:
        return False
    return _CJK.search(text) is not None


def _cells(text: str, delimiter: str) -> list[str]:
    text = text.rstrip("\r\n")
    if '"' not in text:
        return text.split(delimiter)
    return next(csv.reader([text], delimiter=delimiter), [""])


def _for_display(data: bytes, *encodings: str) -> str:
    """Best readable form of bytes that are being refused: shown to staff, never imported."""
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode(UTF8, errors="backslashreplace")


class CsvRecords:
    """Iterates a CSV file as ``(line, cells)`` records or ``Rejection``s, holding one record at a time."""

    def __init__(self, path: Path, encoding: str | None = None, limits: ImportLimits | None = None) -> None:
        self.path = path
        self.limits = limits or ImportLimits.from_env()
        self.encoding = encoding or detect_encoding(path, self.limits.max_line_bytes)
        self.delimiter = self._detect_delimiter()

    def _lines(self, stream: BinaryIO) -> Iterator[bytes]:
        return bounded_lines(stream, self.path, self.limits.max_line_bytes)

    def _detect_delimiter(self) -> str:
        # Tab-separated text is what Excel writes as "文本文件（制表符分隔）"; commas are the norm.
        with self.path.open("rb") as stream:
            for line in self._lines(stream):
                if line.strip():
                    return "\t" if b"\t" in line and b"," not in line else ","
        return ","

    def _decode(self, data: bytes) -> tuple[str | None, str]:
        """(text, "") when the record decodes in the file's encoding, else (None, reason)."""
        if self.encoding != GB18030:
            try:
                return data.decode(UTF8), ""
            except UnicodeDecodeError:
                return None, "编码错误：本行不是 UTF-8 编码（文件其余部分是 UTF-8），可能是从 GBK 编码的文件粘贴而来"
        if data.isascii():
            return data.decode("ascii"), ""
        # A UTF-8 row pasted into a GBK file decodes in GB18030 without any error, as
        # plausible-looking nonsense, so it has to be recognised as UTF-8 instead.
        if _is_utf8_chinese(data):
            return None, "编码错误：本行是 UTF-8 编码，而文件其余部分是 GBK/GB18030 编码"
        try:
            return data.decode(GB18030), ""
        except UnicodeDecodeError:
            return None, "编码错误：本行含有 GBK/GB18030 无法识别的字节"

    def __iter__(self) -> Iterator[Record | Rejection]:
        delimiter = self.delimiter
        decode = self._decode
        with self.path.open("rb") as stream:
            for number, data, closed in _byte_records(self._lines(stream), ord(delimiter)):
                if number == 1 and data.startswith(codecs.BOM_UTF8):
                    data = data[len(codecs.BOM_UTF8) :]
                text, problem = decode(data)
                if text is None:
                    shown = _for_display(data, GB18030 if self.encoding != GB18030 else UTF8, UTF8)
                    yield Rejection(number, _cells(shown, delimiter), problem + SAME_ENCODING_HINT)
                elif not closed:
                    yield Rejection(number, _cells(text, delimiter), UNCLOSED_QUOTE)
                else:
                    yield number, _cells(text, delimiter)
