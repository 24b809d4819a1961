"""``bangfu serve`` as a real process on loopback, for the tests that need a server that can be killed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx2 as httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(
    url: str, *extra: str, scheme: str = "http", verify: str | bool = False
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """(base URL, process) of ``bangfu serve`` on ``url``, ready to answer; killed on leaving."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bangfu", "serve", "--port", str(port), "--database", url, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"{scheme}://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                said = process.stdout.read() if process.stdout else ""
                raise AssertionError(f"bangfu serve 退出（{process.returncode}）：{said}")
            try:
                httpx.get(f"{base}/login", verify=verify, timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield base, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(10)
        if process.stdout:
            process.stdout.close()
