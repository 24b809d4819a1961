"""Write refused rows to a CSV that county staff open in Excel, correct, and import again.

UTF-8 with a BOM, because Excel on Chinese Windows reads a BOM-less CSV as GBK and garbles it.
Every field is quoted and text that would start a formula gets an apostrophe
(``core.spreadsheet_safety``; the import removes it again), because the cells come from a file
anyone may have written. The file is created new with mode 0600 (``core.private_files``).
The first two columns are 行号 (the row's line in the source file) and 拒绝原因; the source
header and cells follow unchanged, so that the corrected file maps onto the same columns
(行号 and 拒绝原因 are simply ignored on re-import). Rows are written as they come: nothing is
held in memory.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from bangfu.core.private_files import create_private
from bangfu.core.spreadsheet_safety import neutralize
from bangfu.registry.imports.rows import Rejection

LINE_COLUMN = "行号"
REASON_COLUMN = "拒绝原因"


class RejectsWriter:
    """``with RejectsWriter(path, header) as out: out.write(rejection)``; ``count`` rows written."""

    def __init__(self, path: Path | str, header: Sequence[str]) -> None:
        self.path = Path(path)
        # newline="" lets the csv module write \r\n itself and keep line breaks inside cells intact.
        self._file = create_private(self.path, "w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._file, quoting=csv.QUOTE_ALL)
        self._writer.writerow([LINE_COLUMN, REASON_COLUMN, *map(neutralize, header)])
        self.count = 0

    def write(self, rejection: Rejection) -> None:
        # The reason quotes cells too (劳动能力“…”无法识别), so it is neutralized with them.
        self._writer.writerow([rejection.line, *map(neutralize, [rejection.reason_zh, *rejection.original])])
        self.count += 1

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> RejectsWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
