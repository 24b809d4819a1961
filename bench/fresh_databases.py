"""What the benchmarks share to prepare a database: ``bangfu init`` on a URL, in one transaction."""

from __future__ import annotations


def migrate(url: str) -> None:
    """Bring ``url``'s schema to the current migration (the benchmarks make their own databases)."""
    from bangfu.store.db import make_engine
    from bangfu.store.migrate import upgrade

    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            upgrade(connection)
    finally:
        engine.dispose()
