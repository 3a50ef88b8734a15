"""Run one piece of work over many items on forked processes that inherit a prepared object (an
answerer with its index open), in order; in this process when one worker, few items or no fork."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

Context = TypeVar("Context")
Item = TypeVar("Item")
Result = TypeVar("Result")

_WORK: tuple[Any, Callable[[Any, list], list]] | None = None  # what the forked workers run


def _run(chunk: list) -> list:
    assert _WORK is not None
    context, work = _WORK
    return work(context, chunk)


def forked_map(
    context: Context,
    work: Callable[[Context, list[Item]], list[Result]],
    items: list[Item],
    workers: int,
    chunk: int,
) -> list[Result]:
    """`work(context, items)`, done `chunk` items at a time on `workers` forked processes (each
    inherits `context` as it is at the call; nothing is pickled but the items and results)."""
    global _WORK
    if workers < 2 or len(items) < 2 * chunk or not hasattr(os, "fork"):
        return work(context, items)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    _WORK = (context, work)
    chunks = [items[i : i + chunk] for i in range(0, len(items), chunk)]
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            return [result for part in pool.map(_run, chunks) for result in part]
    finally:
        _WORK = None
