"""Relational storage: engine and sessions, table definitions, Alembic migrations, unit of work.

SQLite (a file, for a demo or one county) and PostgreSQL (production) run the same models and
migrations; see docs/adr/0005-storage-sqlalchemy-alembic.md.
"""
