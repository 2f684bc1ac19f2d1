"""Benchmarks: ``make bench`` (python -m benchmarks). Each measures the public API
against a raw baseline in the same run, on the same server, and the ratios go to
docs/benchmarks.md."""
