"""Files that hold personal data (exports, rejects files) are created new, readable by their owner only.

Created with ``O_CREAT | O_EXCL | O_NOFOLLOW`` and mode 0600: never through a symbolic link (a
link planted where the file will be written, even one pointing nowhere yet, would otherwise send
the personal data wherever it points), never over a file that is already there, and never readable
by other accounts on the server whatever the umask.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import IO, Any

PRIVATE_MODE = 0o600
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)

__all__ = ["PRIVATE_MODE", "SymlinkRefused", "create_private", "refuse_symlink"]


class SymlinkRefused(OSError):
    """The path to be written is a symbolic link; ``strerror`` says so in Chinese."""


def refuse_symlink(path: Path) -> None:
    if path.is_symlink():
        raise SymlinkRefused(
            errno.ELOOP,
            "该路径是符号链接，为防止个人信息被写到别处，拒绝跟随链接写入；请删除该链接或换一个文件名",
            str(path),
        )


def create_private(path: Path, mode: str = "w", **options: Any) -> IO[Any]:
    """A new file at ``path``, mode 0600, opened with ``open``'s ``mode`` and ``options``."""
    refuse_symlink(path)
    try:
        descriptor = os.open(path, _FLAGS, PRIVATE_MODE)
    except OSError:
        refuse_symlink(path)  # a link that appeared since the check above (O_NOFOLLOW refused it)
        raise
    try:
        return os.fdopen(descriptor, mode, **options)
    except BaseException:
        os.close(descriptor)
        raise
