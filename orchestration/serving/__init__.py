"""Serving the published marts to BI tools that need a database server (PostgreSQL)."""
