"""Make every append to the audit log fail, as a full disk or a broken grant would: a trigger that raises.

For the tests of "nothing is disclosed unless its audit entry is committed"; each test creates it in a
database of its own.
"""

from __future__ import annotations

from sqlalchemy import create_engine


def refuse_audit_appends(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql(
                    "CREATE TRIGGER audit_log_sabotaged BEFORE INSERT ON audit_log "
                    "BEGIN SELECT RAISE(ABORT, 'audit log sabotaged by the test'); END"
                )
            else:
                connection.exec_driver_sql(
                    "CREATE FUNCTION audit_log_sabotaged() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'audit log sabotaged by the test'; END $$"
                )
                connection.exec_driver_sql(
                    "CREATE TRIGGER audit_log_sabotaged BEFORE INSERT ON audit_log "
                    "FOR EACH ROW EXECUTE FUNCTION audit_log_sabotaged()"
                )
    finally:
        engine.dispose()
