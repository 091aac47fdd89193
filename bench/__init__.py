"""Benchmarks at provincial scale (issue 9): `python -m bench.run`, see bench/README.md."""
