"""Benchmarks: wall time and peak memory per stage (not part of `make test`)."""
