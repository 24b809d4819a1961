"""A pause used ONLY by the kill tests (tests/store/test_payments_kill.py), inert otherwise.

With ``BANGFU_TEST_STALL`` set to a step's name (``build``, ``export``, ``export_file``,
``import_return``, ``reconcile``), that step, once it has written inside its transaction, writes the
file named by ``BANGFU_TEST_STALL_FILE`` and sleeps, so the test can SIGKILL it right there.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def stall(step: str) -> None:
    if os.environ.get("BANGFU_TEST_STALL") == step:
        Path(os.environ["BANGFU_TEST_STALL_FILE"]).write_text(step, encoding="utf-8")
        time.sleep(120)
