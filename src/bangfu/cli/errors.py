"""The one way a command stops on bad input: a Chinese message on stderr and an exit code."""

from __future__ import annotations

from typing import NoReturn

import typer

from bangfu.cli import render


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``错误：message`` in red on stderr and exit with ``code`` (2 bad input, 3 policy conflict)."""
    # markup=False: a file name such as "案例[草稿].json" must be shown as it is, not read as a style
    render.console(stderr=True).print("错误：" + message, style="red", markup=False, highlight=False)
    raise typer.Exit(code)
