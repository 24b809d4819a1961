"""The one ``bangfu`` command: policy, synth and demo sub-commands."""

from __future__ import annotations

from bangfu.cli.app import app

__all__ = ["app"]
