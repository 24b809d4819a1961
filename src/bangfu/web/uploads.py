"""An uploaded file into a private temporary file: its safe name for messages, and the copy itself.

Shared by the pages that take a file (the suspect-data checks, the bank's return file). The body's size
is limited before it is read (``body_limit``); the copy stops past the limit too, for a body sent
without a length.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import UploadFile

from bangfu.core.private_files import create_private

_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')
COPY_CHUNK = 1024 * 1024


def safe_name(name: str | None) -> str:
    """The uploaded file's own name (messages name it), without any folder or character a path would read."""
    base = _UNSAFE_NAME.sub("_", Path((name or "").replace("\\", "/")).name).strip(" .")
    # the tail, suffix kept: 60 characters of Chinese are 180 bytes, under the 255 a file name may have
    return base[-60:] or "上传文件"


def copy_upload(upload: UploadFile, path: Path, limit: int) -> int:
    """The upload into a new private file; its size. Stops past ``limit`` (a body without a length)."""
    size = 0
    with create_private(path, "wb") as stream:
        while chunk := upload.file.read(COPY_CHUNK):
            size += len(chunk)
            if size > limit:
                break
            stream.write(chunk)
    return size
