"""One engine at one corpus size, in fresh processes; JSON out.

    python -m bench.worker build ENGINE CORPUS.json WORKDIR OUT.json   # build and save
    python -m bench.worker query ENGINE INDEX_PATH QUERIES.json OUT.json  # load and query
    python -m bench.worker answer INDEX_PATH QUESTIONS.json OUT.json  # qabot's answerer

Memory is measured with tracemalloc on a second, untimed run of the step (see `measured`).
"""

from __future__ import annotations

import gc
import json
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.engines import ENGINES, directory_size


def measured(step: Callable[[], Any]) -> tuple[Any, float, int, int]:
    """(result, seconds, peak bytes allocated during the step, bytes still held after it).

    The step runs twice: timed, then again under tracemalloc for its memory (Python objects
    and numpy buffers, free of allocator reuse and of the interpreter's own baseline).
    """
    gc.collect()
    start = time.perf_counter()
    result = step()
    seconds = time.perf_counter() - start
    gc.collect()
    tracemalloc.start()
    again = step()
    gc.collect()
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del again
    return result, seconds, peak, held


def build(engine_name: str, corpus_path: Path, workdir: Path) -> dict:
    """Build the index from the shared tokens and save it."""
    corpus = json.loads(corpus_path.read_text(encoding="utf-8"))
    engine = ENGINES[engine_name](corpus)
    engine.prepare()
    built, build_s, build_peak, build_held = measured(engine.build)
    start = time.perf_counter()
    path = engine.save(built, workdir)
    save_s = time.perf_counter() - start
    return {
        "engine": engine_name,
        "passages": len(corpus["tokens"]),
        "build_s": build_s,
        "build_peak_bytes": build_peak,
        "build_held_bytes": build_held,
        "save_s": save_s,
        "path": str(path),
        "disk_bytes": directory_size(path),
    }


def query(engine_name: str, index_path: Path, queries_path: Path) -> dict:
    """In a fresh process: load the saved index, then answer every question, one by one."""
    queries: list[list[str]] = json.loads(queries_path.read_text(encoding="utf-8"))
    engine = ENGINES[engine_name]()
    engine.prepare()
    loaded, load_s, load_peak, load_held = measured(lambda: engine.load(index_path))
    engine.query(loaded, queries[0] if queries else [])  # warm-up (first-call costs)
    latencies, results, ties = [], [], []
    for tokens in queries:
        start = time.perf_counter()
        ids, scores = engine.query(loaded, tokens)
        latencies.append(time.perf_counter() - start)
        results.append([ids, scores])
        if hasattr(engine, "ties"):
            ties.append(engine.ties())
    return {
        "load_s": load_s,
        "load_peak_bytes": load_peak,
        "load_held_bytes": load_held,
        "latencies_s": latencies,
        "results": results,
        "ties": ties or None,
    }


def answer(index_path: Path, questions_path: Path) -> dict:
    """qabot end to end in a fresh process: load, then answer questions one by one."""
    from bot.qa.answerer import Answerer
    from index.analyzer import get_tokenizer
    from index.store import load_index

    questions: list[str] = json.loads(questions_path.read_text(encoding="utf-8"))
    get_tokenizer()
    start = time.perf_counter()
    answerer = Answerer(load_index(index_path))
    load_s = time.perf_counter() - start
    latencies, answered = [], 0
    for question in questions:
        start = time.perf_counter()
        result = answerer.answer(question)
        latencies.append(time.perf_counter() - start)
        answered += result.answer is not None
    return {"load_s": load_s, "latencies_s": latencies, "answered": answered}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[0] == "build":
        _, engine, corpus, workdir, out = args
        result = build(engine, Path(corpus), Path(workdir))
    elif args[0] == "answer":
        _, index_path, questions, out = args
        result = answer(Path(index_path), Path(questions))
    else:
        _, engine, index_path, queries, out = args
        result = query(engine, Path(index_path), Path(queries))
    Path(out).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
