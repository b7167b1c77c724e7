"""Benchmarks for contract §6 (scale): `python -m bench` (or `make bench`). See bench/README.md."""
