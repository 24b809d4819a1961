"""Hand-written DuckDB SQL for the two Shanxi 2021 employment-assistance person benefits."""

from __future__ import annotations

import duckdb
import pyarrow as pa

TRANSPORT_CAP_FEN = 80_000
TRAINING_DAILY_RATE_FEN = 1_500

HANDWRITTEN_SQL = f"""
SELECT
    person_id,
    CAST(
        CASE WHEN poverty_alleviated AND cross_province_this_year
             THEN LEAST(travel_cost_fen, {TRANSPORT_CAP_FEN})
             ELSE 0 END
        AS BIGINT) AS transport_cross_province_fen,
    CAST(
        CASE WHEN poverty_alleviated AND training_days > 0
             THEN training_days * {TRAINING_DAILY_RATE_FEN}
             ELSE 0 END
        AS BIGINT) AS training_living_allowance_fen
FROM read_parquet($parquet_path)
ORDER BY person_id
"""


def run_handwritten_sql(con: duckdb.DuckDBPyConnection, parquet_path: str) -> pa.Table:
    """Run the hand-written query over the flat Parquet; returns an Arrow table ordered by person_id."""
    relation = con.sql(HANDWRITTEN_SQL, params={"parquet_path": str(parquet_path)})
    # Newer DuckDB names it to_arrow_table; older releases only have arrow().
    to_table = getattr(relation, "to_arrow_table", None) or relation.arrow
    return to_table()
