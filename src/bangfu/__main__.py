"""``python -m bangfu`` runs the same command as ``bangfu``."""

from bangfu.cli import app

app(prog_name="bangfu")
