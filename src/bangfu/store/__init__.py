"""Relational storage: engine and sessions, table definitions, Alembic migrations, unit of work.

SQLite (a file, for a demo or one county) and PostgreSQL (production) run the same models and
migrations; see docs/adr/0005-storage-sqlalchemy-alembic.md.
"""

# The claims and payments tables (ADR 0031) live in a module of their own beside ``tables``; importing it
# with the package puts them on ``Base.metadata`` for every reader of the schema (the migrations'
# comparison test, ``empty_registry``) without ``tables`` importing it back.
from bangfu.store import claim_tables as _claim_tables  # noqa: F401
