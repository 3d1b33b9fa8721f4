"""Publication figures of runs (matplotlib, an optional extra)."""
