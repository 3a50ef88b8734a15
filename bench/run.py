"""`make bench`: rank-bm25, bm25s and qabot side by side on the same passages and tokens.

    python -m bench [--sizes 1000,10000,30000,100000] [--out docs/PERFORMANCE.md] [--smoke]

1. Generates articles (`bench.corpus`, deterministic) into a temporary directory, reads and
   splits them with qabot's own ingest and passage code, and tokenises every passage once
   with qabot's analyzer (all cores; cached in bench/out/cache keyed by generator, seed and
   analyzer version). Every engine is then given these same tokens.
2. For each corpus size (a prefix of the passages) and each engine, a fresh process
   (`bench.worker`) builds the index, saves it, loads it back and answers the same questions
   (dev-set style, tokenised by qabot's analyzer), one at a time.
3. Prints one table (and writes it with the machine, the command, a latency plot and the cold
   start and bot measurements into docs/PERFORMANCE.md).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench import corpus as corpus_gen
from bench.engines import ENGINES, available

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SIZES = (1_000, 10_000, 30_000, 100_000)
SMOKE_SIZES = (300,)
PASSAGES_PER_ARTICLE = 14.5  # what the generator's articles average
MB = 1024 * 1024


# ---------------------------------------------------------------- corpus and tokens


def _read_chunk(job: tuple[str, list[tuple[int, str]]]) -> list[dict]:
    """Ingest, split, tokenise and tag some generated article files (in a worker process)."""
    from index.analyzer import normalize, word_tags
    from index.build import passage_tokens
    from index.ingest import read_article
    from index.passages import split_article

    directory, files = job
    out = []
    for number, name in files:
        path = Path(directory) / name
        article = read_article(path, Path(directory))
        passages = split_article(article, number)
        out.append(
            {
                "record": {
                    "path": name,
                    "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                    "title": article.title,
                    "date": article.date,
                    "source": article.source,
                    "author": article.author,
                },
                "passages": [
                    [p.article, p.position, p.text, p.heading, word_tags(normalize(p.text))]
                    for p in passages
                ],
                "tokens": [passage_tokens(p) for p in passages],
            }
        )
    return out


def prepare_corpus(passages: int, seed: int, cache_dir: Path, log=print) -> dict:
    """Articles, passages and tokens for at least `passages` passages (cached on disk)."""
    from index.analyzer import analyzer_version

    try:
        from index.build import pipeline_version  # analyzer + reading + splitting code
    except ImportError:
        pipeline_version = analyzer_version
    count = math.ceil(passages / PASSAGES_PER_ARTICLE * 1.1) + 2
    key = f"g{corpus_gen.GENERATOR_VERSION}-s{seed}-a{count}-{pipeline_version()}-tagged"
    cache = cache_dir / f"corpus-{key}.json"
    if cache.exists():
        log(f"corpus: {cache} (cached)")
        return json.loads(cache.read_text(encoding="utf-8"))
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="qabot-bench-articles-") as directory:
        generated = corpus_gen.write_corpus(Path(directory), count, seed)
        log(f"corpus: {count} articles generated in {time.perf_counter() - start:.1f}s; tokenising")
        files = [(i, a.filename) for i, a in enumerate(generated)]
        chunk = 40
        jobs = [(directory, files[i : i + chunk]) for i in range(0, len(files), chunk)]
        workers = max(1, min(os.cpu_count() or 1, len(jobs)))
        if workers > 1:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                parts = list(pool.map(_read_chunk, jobs))
        else:
            parts = [_read_chunk(job) for job in jobs]
    data: dict = {"analyzer": analyzer_version(), "articles": [], "facts": []}
    data["passages"], data["tokens"] = [], []
    for part in parts:
        for entry in part:
            data["articles"].append(entry["record"])
            data["passages"].extend(entry["passages"])
            data["tokens"].extend(entry["tokens"])
    data["facts"] = [[vars(f) for f in a.facts] for a in generated]
    data["tokenise_s"] = time.perf_counter() - start
    log(
        f"corpus: {len(data['passages'])} passages from {len(data['articles'])} articles, "
        f"tokenised in {data['tokenise_s']:.1f}s on {workers} processes"
    )
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return data


def corpus_prefix(data: dict, size: int) -> dict:
    """The first `size` passages and the articles they belong to."""
    passages = data["passages"][:size]
    last_article = passages[-1][0] if passages else -1
    return {
        "analyzer": data["analyzer"],
        "articles": data["articles"][: last_article + 1],
        "passages": passages,
        "tokens": data["tokens"][:size],
    }


def make_queries(data: dict, size: int, count: int, seed: int) -> tuple[list[str], list[list[str]]]:
    from index.analyzer import tokenize

    prefix = corpus_prefix(data, size)
    articles = [
        corpus_gen.GeneratedArticle("", "", [corpus_gen.Fact(**f) for f in facts])
        for facts in data["facts"][: len(prefix["articles"])]
    ]
    texts = corpus_gen.questions(articles, count, seed=seed + size)
    return texts, [tokenize(t) for t in texts]


# ---------------------------------------------------------------- running the engines


@dataclass
class Cell:
    """One engine at one size."""

    engine: str
    size: int
    result: dict | None = None
    error: str | None = None
    agreement: float | None = None
    identical: float | None = None
    max_score_diff: float | None = None
    extra: dict = field(default_factory=dict)

    def latency(self, quantile: float) -> float | None:
        if not self.result or not self.result["latencies_s"]:
            return None
        values = sorted(self.result["latencies_s"])
        position = min(len(values) - 1, max(0, math.ceil(quantile * len(values)) - 1))
        return values[position]


def _worker(args: list[str], out: Path) -> dict:
    out.unlink(missing_ok=True)
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, PYTHONPATH=path)
    command = [sys.executable, "-m", "bench.worker", *args, str(out)]
    completed = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    if completed.returncode != 0:
        tail = (completed.stderr or completed.stdout).strip().splitlines()[-1:] or ["failed"]
        raise RuntimeError(tail[0])
    return json.loads(out.read_text(encoding="utf-8"))


def run_answers(index_path: Path, questions: list[str], workdir: Path) -> dict:
    """qabot's answerer end to end on a saved index, in a fresh process."""
    questions_file = workdir / "questions.json"
    questions_file.write_text(json.dumps(questions, ensure_ascii=False), encoding="utf-8")
    return _worker(["answer", str(index_path), str(questions_file)], workdir / "answer.json")


COLD_RUNS = 5
ENGLISH_QUESTION = "How many service stations does Hami have?"


def cold_asks(index_path: Path, question: str) -> dict:
    """Median wall time of a one-off `qabot ask` on the index (Chinese and English), and of
    loading jieba's dictionary alone, from fresh processes, interleaved."""
    from bench.coldstart import _qabot, _wall

    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, PYTHONPATH=path)
    commands = {
        "cold_s": [*_qabot(), "ask", "--index", str(index_path), question],
        "cold_english_s": [*_qabot(), "ask", "--index", str(index_path), ENGLISH_QUESTION],
        "jieba_s": [sys.executable, "-c", "import jieba; jieba.initialize()"],
    }
    for command in commands.values():
        _wall(command, env, REPO)  # warm the file cache
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(COLD_RUNS):
        for name, command in commands.items():
            times[name].append(_wall(command, env, REPO))
    return {name: statistics.median(values) for name, values in times.items()}


def later_answer(result: dict, quantile: float) -> float:
    """A quantile of an answers run's latencies after its first question (which pays for
    one-off work), in seconds; the first question's when it is the only one."""
    first, *rest = result["latencies_s"] or [0.0]
    rest = sorted(rest) or [first]
    return rest[max(0, math.ceil(quantile * len(rest)) - 1)]


def render_answers(answers: dict[int, dict]) -> str:
    lines = [
        "| passages | load index + answerer s | first answer s | later answers p50 ms | p99 ms "
        "| answered | cold `qabot ask` s (x jieba load) | English s (x jieba load) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for size, result in sorted(answers.items()):
        first = (result["latencies_s"] or [0.0])[0]
        p50, p99 = later_answer(result, 0.5), later_answer(result, 0.99)
        cold = result.get("cold")
        if cold:
            jieba = cold["jieba_s"]
            colds = (
                f"{cold['cold_s']:.2f} ({cold['cold_s'] / jieba:.2f}x) | "
                f"{cold['cold_english_s']:.2f} ({cold['cold_english_s'] / jieba:.2f}x)"
            )
        else:
            colds = "— | —"
        lines.append(
            f"| {size:,} | {result['load_s']:.2f} | {first:.2f} | {p50 * 1000:.1f} | {p99 * 1000:.1f} | "
            f"{result['answered']}/{len(result['latencies_s'])} | {colds} |"
        )
    return "\n".join(lines)


def run_worker(engine: str, corpus_file: Path, queries_file: Path, workdir: Path) -> dict:
    """Build and save in one fresh process, load and query in another."""
    built = _worker(["build", engine, str(corpus_file), str(workdir)], workdir / "build.json")
    queried = _worker(["query", engine, built["path"], str(queries_file)], workdir / "query.json")
    return built | queried


def compare(cell: Cell, reference: Cell) -> None:
    """Top-10 agreement of `cell` with rank-bm25's top 10, and exact-ranking share."""
    if not cell.result or not reference.result:
        return
    overlaps, identical, worst = [], 0, 0.0
    ties = reference.result.get("ties") or [[] for _ in reference.result["results"]]
    pairs = zip(cell.result["results"], reference.result["results"], ties, strict=True)
    for (ids, scores), (ref_ids, ref_scores), tied in pairs:
        if not ref_ids:
            overlaps.append(1.0 if not ids else 0.0)
        else:
            # a passage tied with rank-bm25's 10th best is as correct a 10th as its own pick
            overlaps.append(len(set(ids) & (set(ref_ids) | set(tied))) / len(ref_ids))
        same = ids == ref_ids and all(
            math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
            for a, b in zip(scores, ref_scores, strict=True)
        )
        identical += same
        for a, b in zip(scores, ref_scores, strict=False):
            worst = max(worst, abs(a - b))
    cell.agreement = statistics.fmean(overlaps) if overlaps else None
    cell.identical = identical / len(overlaps) if overlaps else None
    cell.max_score_diff = worst


# ---------------------------------------------------------------- rendering


def _size_label(size: int) -> str:
    return f"{size / 1000:g}k" if size >= 1000 else str(size)


def _fmt(value: float | None, digits: int = 2, unit: str = "") -> str:
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:,.0f}{unit}"
    if value >= 10:
        return f"{value:.1f}{unit}"
    return f"{value:.{digits}f}{unit}"


def render_table(cells: dict[tuple[int, str], Cell], sizes: list[int], engines: list[str]) -> str:
    columns = [(s, e) for s in sizes for e in engines]
    header = ["", *[f"{_size_label(s)} {e}" for s, e in columns]]

    def row(label: str, get) -> list[str]:
        values = []
        for key in columns:
            cell = cells[key]
            if cell.error:
                values.append("n/a")
            else:
                values.append(get(cell))
        return [label, *values]

    def ms(cell: Cell, q: float) -> str:
        value = cell.latency(q)
        return _fmt(value * 1000 if value is not None else None, 3)

    def speedup(cell: Cell, q: float) -> str:
        ref = cells.get((cell.size, "rank-bm25"))
        if not ref or ref.error or cell.latency(q) in (None, 0) or ref.latency(q) is None:
            return "—"
        return f"{ref.latency(q) / cell.latency(q):.1f}x"

    def agreement(cell: Cell) -> str:
        if cell.agreement is None:
            return "—"
        text = f"{cell.agreement * 100:.1f}%"
        if cell.identical is not None:
            text += f" ({cell.identical * 100:.0f}% same)"
        return text

    rows = [
        header,
        row(
            "passages (queries)",
            lambda c: f"{c.result['passages']:,} ({len(c.result['latencies_s'])})",
        ),
        row("build s", lambda c: _fmt(c.result["build_s"], 3)),
        row("build peak MB", lambda c: _fmt(c.result["build_peak_bytes"] / MB, 1)),
        row("index on disk MB", lambda c: _fmt(c.result["disk_bytes"] / MB, 2)),
        row("load s", lambda c: _fmt(c.result["load_s"], 3)),
        row("memory after load MB", lambda c: _fmt(c.result["load_held_bytes"] / MB, 1)),
        row("query p50 ms", lambda c: ms(c, 0.50)),
        row("query p99 ms", lambda c: ms(c, 0.99)),
        row("p50 speed-up vs rank-bm25", lambda c: speedup(c, 0.50)),
        row("p99 speed-up vs rank-bm25", lambda c: speedup(c, 0.99)),
        row("top-10 agreement with rank-bm25", agreement),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = []
    for number, r in enumerate(rows):
        lines.append("| " + " | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) + " |")
        if number == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def render_ratios(cells: dict[tuple[int, str], Cell], sizes: list[int]) -> str:
    lines = [
        "| passages | qabot vs rank-bm25 p50 | p99 | qabot vs bm25s p50 | p99 | qabot build vs bm25s |",
        "|---|---|---|---|---|---|",
    ]
    for size in sizes:
        q, r, s = (cells.get((size, e)) for e in ("qabot", "rank-bm25", "bm25s"))

        def ratio(a: Cell | None, b: Cell | None, quantile: float) -> str:
            if (
                not a
                or not b
                or a.error
                or b.error
                or not a.latency(quantile)
                or b.latency(quantile) is None
            ):
                return "—"
            return f"{b.latency(quantile) / a.latency(quantile):.1f}x"

        build = "—"
        if q and s and not q.error and not s.error and q.result["build_s"]:
            build = f"{s.result['build_s'] / q.result['build_s']:.1f}x"
        lines.append(
            f"| {size:,} | {ratio(q, r, 0.5)} | {ratio(q, r, 0.99)} | {ratio(q, s, 0.5)} | {ratio(q, s, 0.99)} | {build} |"
        )
    return "\n".join(lines)


def growth(cells: dict[tuple[int, str], Cell], sizes: list[int], engine: str = "qabot") -> str:
    lines = [
        f"| passages | {engine} build s per 1k passages | build peak MB per 1k | memory after load MB per 1k | disk MB per 1k |",
        "|---|---|---|---|---|",
    ]
    for size in sizes:
        cell = cells.get((size, engine))
        if not cell or cell.error:
            continue
        r, per = cell.result, size / 1000
        lines.append(
            f"| {size:,} | {r['build_s'] / per:.4f} | {r['build_peak_bytes'] / MB / per:.2f} | "
            f"{r['load_held_bytes'] / MB / per:.2f} | {r['disk_bytes'] / MB / per:.2f} |"
        )
    return "\n".join(lines)


def plot(
    cells: dict[tuple[int, str], Cell], sizes: list[int], engines: list[str], path: Path
) -> str:
    """A PNG (matplotlib) of p50/p99 latency against corpus size; else an ASCII plot."""
    series = {}
    for engine in engines:
        points = [
            (s, cells[(s, engine)].latency(0.5), cells[(s, engine)].latency(0.99))
            for s in sizes
            if not cells[(s, engine)].error
        ]
        if points:
            series[engine] = points
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return ascii_plot(series)
    figure, axis = plt.subplots(figsize=(7, 4.5), dpi=110)
    for engine, points in series.items():
        xs = [p[0] for p in points]
        line = axis.plot(xs, [p[1] * 1000 for p in points], marker="o", label=f"{engine} p50")[0]
        axis.plot(
            xs,
            [p[2] * 1000 for p in points],
            marker="x",
            linestyle="--",
            color=line.get_color(),
            label=f"{engine} p99",
        )
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("passages")
    axis.set_ylabel("query latency (ms)")
    axis.set_title("BM25 top-10 query latency against corpus size")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return ""


def ascii_plot(
    series: dict[str, list[tuple[int, float, float]]], width: int = 60, height: int = 16
) -> str:
    points = [(s, p50) for pts in series.values() for s, p50, _ in pts if p50]
    if not points:
        return ""
    xs = [math.log10(s) for s, _ in points]
    ys = [math.log10(v * 1000) for _, v in points]
    x0, x1 = min(xs), max(xs) or 1
    y0, y1 = min(ys), max(ys)
    grid = [[" "] * width for _ in range(height)]
    marks = {}
    for mark, (engine, pts) in zip("rsq*+o", series.items(), strict=False):
        marks[engine] = mark
        for s, p50, _ in pts:
            if not p50:
                continue
            x = int((math.log10(s) - x0) / ((x1 - x0) or 1) * (width - 1))
            y = int((math.log10(p50 * 1000) - y0) / ((y1 - y0) or 1) * (height - 1))
            grid[height - 1 - y][x] = mark
    lines = [f"p50 ms (log) {10**y1:.3g} ┐"]
    lines += ["│" + "".join(r) for r in grid]
    lines.append(f"{10**y0:.3g} └" + "─" * width + "> passages (log)")
    lines.append("   " + "  ".join(f"{m} = {e}" for e, m in marks.items()))
    return "\n".join(lines)


def machine() -> dict:
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    from importlib.metadata import PackageNotFoundError, version

    for package in ("numpy", "rank-bm25", "bm25s", "jieba"):
        try:
            info[package] = version(package)
        except PackageNotFoundError:
            info[package] = "not installed"
    return info


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default=None,
        help="comma-separated passage counts (default 1000,10000,30000,100000)",
    )
    parser.add_argument(
        "--queries",
        type=int,
        default=None,
        help="questions per size (default: 300, fewer at large sizes)",
    )
    parser.add_argument("--engines", default="rank-bm25,bm25s,qabot")
    parser.add_argument("--seed", type=int, default=20241122)
    parser.add_argument(
        "--out", type=Path, default=None, help="Markdown report (default docs/PERFORMANCE.md)"
    )
    parser.add_argument("--workdir", type=Path, default=REPO / "bench" / "out")
    parser.add_argument(
        "--smoke", action="store_true", help="tiny run: 300 passages, 20 questions, no cold start"
    )
    parser.add_argument("--no-coldstart", action="store_true")
    parser.add_argument("--no-bot", action="store_true")
    parser.add_argument(
        "--answers",
        type=int,
        default=30,
        help="questions through qabot's answerer per size (0: skip)",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes = args.sizes or ",".join(map(str, SMOKE_SIZES))
        args.queries = args.queries or 20
        args.no_coldstart = args.no_bot = True
        args.out = args.out or args.workdir / "PERFORMANCE-smoke.md"
    args.sizes = [int(s) for s in (args.sizes or ",".join(map(str, DEFAULT_SIZES))).split(",")]
    args.out = args.out or REPO / "docs" / "PERFORMANCE.md"
    return args


def queries_for(size: int, requested: int | None) -> int:
    """Enough questions for a p99, few enough that naive rank-bm25 stays within the budget."""
    if requested:
        return requested
    return 300 if size <= 30_000 else 200


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    engines = [e for e in args.engines.split(",") if e]
    for engine in engines:
        if engine not in ENGINES:
            raise SystemExit(f"unknown engine {engine}; choose from {', '.join(ENGINES)}")
    missing = [e for e in engines if not available(e)]
    for engine in missing:
        print(f"{engine}: not installed (pip install -e '.[bench]'); its column is n/a", flush=True)
    args.workdir.mkdir(parents=True, exist_ok=True)
    data = prepare_corpus(
        max(args.sizes), args.seed, args.workdir / "cache", log=lambda m: print(m, flush=True)
    )
    sizes = [s for s in args.sizes if s <= len(data["passages"])]
    cells: dict[tuple[int, str], Cell] = {}
    answers: dict[int, dict] = {}
    with tempfile.TemporaryDirectory(prefix="qabot-bench-", dir=args.workdir) as scratch:
        scratch_dir = Path(scratch)
        for size in sizes:
            corpus_file = scratch_dir / f"corpus-{size}.json"
            corpus_file.write_text(
                json.dumps(corpus_prefix(data, size), ensure_ascii=False), encoding="utf-8"
            )
            texts, query_tokens = make_queries(
                data, size, queries_for(size, args.queries), args.seed
            )
            queries_file = scratch_dir / f"queries-{size}.json"
            queries_file.write_text(json.dumps(query_tokens, ensure_ascii=False), encoding="utf-8")
            for engine in engines:
                cell = Cell(engine, size)
                cells[(size, engine)] = cell
                if engine in missing:
                    cell.error = "not installed"
                    continue
                work = scratch_dir / f"{engine}-{size}"
                work.mkdir()
                t = time.perf_counter()
                try:
                    cell.result = run_worker(engine, corpus_file, queries_file, work)
                except RuntimeError as exc:
                    cell.error = str(exc)
                    print(f"{_size_label(size)} {engine}: failed: {exc}", flush=True)
                    continue
                print(
                    f"{_size_label(size)} {engine}: p50 {cell.latency(0.5) * 1000:.3f} ms, "
                    f"build {cell.result['build_s']:.2f}s ({time.perf_counter() - t:.0f}s in all)",
                    flush=True,
                )
            qabot = cells.get((size, "qabot"))
            if args.answers and qabot and qabot.result:
                t = time.perf_counter()
                try:
                    answers[size] = run_answers(
                        Path(qabot.result["path"]),
                        texts[: args.answers],
                        scratch_dir / f"qabot-{size}",
                    )
                    if not args.no_coldstart:
                        answers[size]["cold"] = cold_asks(Path(qabot.result["path"]), texts[0])
                    print(
                        f"{_size_label(size)} answers: {time.perf_counter() - t:.0f}s", flush=True
                    )
                except RuntimeError as exc:
                    print(f"{_size_label(size)} answers: failed: {exc}", flush=True)
            reference = cells.get((size, "rank-bm25"))
            for engine in engines:
                if reference and engine != "rank-bm25":
                    compare(cells[(size, engine)], reference)
    table = render_table(cells, sizes, engines)
    ratios = render_ratios(cells, sizes)
    print()
    print(table)
    print()
    print(ratios)
    answer_table = render_answers(answers) if answers else ""
    if answer_table:
        print()
        print(answer_table)
    coldstart = None
    if not args.no_coldstart:
        from bench import coldstart as cold

        coldstart = cold.measure(log=lambda m: print(m, flush=True))
        print()
        print(cold.render(coldstart))
    bot = None
    if not args.no_bot:
        from bench import bot_latency

        bot = bot_latency.measure(log=lambda m: print(m, flush=True))
        print()
        print(bot_latency.render(bot))
    plot_path = args.out.parent / (args.out.stem + "-latency.png")
    ascii_art = plot(cells, sizes, engines, plot_path)
    from bench import report

    report.write(
        args.out,
        argv=sys.argv[1:] if argv is None else argv,
        smoke=args.smoke,
        seed=args.seed,
        machine=machine(),
        data=data,
        sizes=sizes,
        engines=engines,
        cells=cells,
        table=table,
        ratios=ratios,
        growth=growth(cells, sizes),
        answers=answers,
        answer_table=answer_table,
        plot_path=plot_path if not ascii_art else None,
        ascii_plot=ascii_art,
        coldstart=coldstart,
        bot=bot,
        elapsed=time.perf_counter() - started,
        when=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    print(f"\nwrote {args.out} in {time.perf_counter() - started:.0f}s", flush=True)
    return 0
