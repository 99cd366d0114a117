"""Benchmarks: each writes JSON with the machine and the commit to bench/results/."""
