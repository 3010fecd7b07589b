"""How the warehouse runs on another engine than DuckDB (docs/spark.md)."""
