"""Benchmarks, one module per area: ``python -m ops.bench.<area>``."""
