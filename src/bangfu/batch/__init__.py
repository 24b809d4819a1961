"""Columnar back ends for population-scale work: DuckDB by default, Apache Spark for national scale."""
