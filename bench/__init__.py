"""Benchmarks: `make bench` runs every one and prints its figures."""
