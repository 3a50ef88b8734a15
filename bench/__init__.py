"""Benchmarks: qabot's retrieval core against rank-bm25 and bm25s, cold start, bot latency.

`make bench` runs `python -m bench` (see `bench/run.py`); `make bench-smoke` runs it at a tiny
size. Nothing here is imported by qabot itself.
"""
