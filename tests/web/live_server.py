"""A real ``bangfu serve`` process on a free loopback port, for tests that need real HTTP and real concurrency.

In-process test clients run the whole application before they hand back an answer, so they cannot show
a client acting on an answer sent before its transaction committed, nor the locking of parallel requests.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2

from bangfu.accounts import passwords
from bangfu.accounts.users import add_user
from bangfu.store.db import make_engine, make_sessionmaker, unit_of_work

START_TIMEOUT_S = 60


@dataclass(frozen=True)
class Live:
    """A ``bangfu serve`` process over the ``web_support`` registry, behind a trusted proxy (127.0.0.1).

    Each test poses as clients of its own addresses (X-Forwarded-For), so that the sign-in limits one
    test reaches per address never refuse another test's clients.
    """

    base: str
    url: str


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def add_accounts(url: str, usernames: list[str], password: str) -> None:
    """County accounts of 兴县; hashed cheaply here (the server rehashes each at its first sign-in)."""
    from argon2 import PasswordHasher, profiles

    production, passwords.HASHER = passwords.HASHER, PasswordHasher.from_parameters(profiles.CHEAPEST)
    engine = make_engine(url)
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            for username in usernames:
                add_user(
                    session,
                    username=username,
                    role="county",
                    region_code="141123",
                    password=password,
                    display_name=username,
                    actor="tests",
                )
    finally:
        passwords.HASHER = production
        engine.dispose()


@contextmanager
def running_server(database_url: str, log: Path, environment: dict[str, str]) -> Iterator[str]:
    """``bangfu serve`` on ``database_url``; yields its base URL and stops it afterwards."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "bangfu", "serve", "--database", database_url, "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env={**os.environ, **environment})
        try:
            _wait_until_up(process, base, log)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(process: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"bangfu serve exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if httpx2.get(f"{base}/login", timeout=2).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"bangfu serve did not answer within {START_TIMEOUT_S} s:\n{log.read_text(errors='replace')}")
