"""The rejects CSV of one import: created at the first refused row only, removed if the import fails."""

from __future__ import annotations

import datetime as dt
import itertools
import os
from pathlib import Path

from bangfu.core.private_files import refuse_symlink
from bangfu.registry.imports.rejects import RejectsWriter
from bangfu.registry.imports.rows import Rejection


def writable_folder(folder: Path) -> Path:
    """Create the folder now, so that an unwritable one fails before any row is read."""
    folder.mkdir(parents=True, exist_ok=True)
    if not os.access(folder, os.W_OK):
        raise PermissionError(13, "没有写入权限", str(folder))
    return folder


def new_report_path(folder: Path, source: Path, word: str) -> Path:
    """``<source stem>_<word>_<yyyymmdd-hhmmss>.csv`` in ``folder``, never an existing file's name."""
    # Never overwrite an earlier file: staff may still be correcting it.
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    for attempt in itertools.count(1):
        suffix = "" if attempt == 1 else f"-{attempt}"
        path = folder / f"{source.stem}_{word}_{stamp}{suffix}.csv"
        refuse_symlink(path)  # a link planted at the next name (dangling or not) is never followed
        if not path.exists():
            return path
    raise AssertionError("unreachable")


class RejectsFile:
    """``<source stem>_拒绝_<yyyymmdd-hhmmss>.csv`` in ``folder``; ``path`` is None until a row is written."""

    def __init__(self, folder: Path, source: Path, header: list[str]) -> None:
        self.folder = folder
        self.source = source
        self.header = header
        self.path: Path | None = None
        self._writer: RejectsWriter | None = None

    def write(self, rejection: Rejection) -> None:
        if self._writer is None:
            path = self._new_path()
            self._writer = RejectsWriter(path, self.header)
            self.path = path  # only once it is ours: ``discard`` must never remove a file it did not create
        self._writer.write(rejection)

    def _new_path(self) -> Path:
        return new_report_path(self.folder, self.source, "拒绝")

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()

    def discard(self) -> None:
        """The import failed and wrote nothing: a rejects file would describe an import that did not happen."""
        self.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None
