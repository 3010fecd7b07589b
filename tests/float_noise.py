"""Comparing marts of two builds of the same data."""


def comparable(value):
    """Floats to 10 significant digits: DuckDB sums doubles in parallel, so the last bits of an
    aggregate (and of statistics computed from it) may differ between two builds of the same data."""
    return float(f"{value:.10g}") if isinstance(value, float) else value
