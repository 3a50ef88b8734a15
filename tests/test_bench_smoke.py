"""`make bench` at a tiny size: the table and the report come out (no timing assertions).

Runs without the bench extra: an engine that is not installed (bm25s) shows as n/a.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `bench` is not an installed package; `pytest` may not add the root
    sys.path.insert(0, str(REPO))
from bench import corpus  # noqa: E402
from bench.engines import available as bench_available  # noqa: E402
from bench.run import main  # noqa: E402

ROWS = (
    "build s",
    "build peak MB",
    "index on disk MB",
    "load s",
    "query p50 ms",
    "query p99 ms",
    "top-10 agreement with rank-bm25",
)


def test_bench_smoke_writes_the_table(tmp_path: Path, capsys) -> None:
    out = tmp_path / "PERFORMANCE.md"
    assert (
        main(
            [
                "--smoke",
                "--sizes",
                "120",
                "--queries",
                "8",
                "--answers",
                "3",
                "--workdir",
                str(tmp_path),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    report = out.read_text(encoding="utf-8")
    for text in (printed, report):
        assert "| 120 rank-bm25 | 120 bm25s" in text
        for row in ROWS:
            assert f"| {row}" in text
    assert "100.0% (100% same)" in report  # qabot agrees with rank-bm25 exactly
    assert "## Machine" in report and "make bench" in report
    if not bench_available("bm25s"):
        assert "n/a" in report
    assert "-latency.png)" in report or "```" in report  # the plot, or its ASCII stand-in
    assert list((tmp_path / "cache").glob("corpus-*.json"))  # tokens are cached for reruns


def test_generator_is_deterministic_and_distinct(tmp_path: Path) -> None:
    first = list(corpus.generate(30, seed=1))
    again = list(corpus.generate(30, seed=1))
    assert [a.text for a in first] == [a.text for a in again]
    assert len({a.text for a in first}) == 30
    assert [a.text for a in corpus.generate(5, seed=1)] == [a.text for a in first[:5]]
    assert first[0].text != next(corpus.generate(1, seed=2)).text
    written = corpus.write_corpus(tmp_path, 3, seed=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(a.filename for a in written)
    questions = corpus.questions(first, 10)
    assert len(questions) == 10 and all(q.endswith("?") for q in questions)


def test_bench_smoke_without_the_bench_extra(tmp_path: Path, monkeypatch) -> None:
    import bench.run

    monkeypatch.setattr(bench.run, "available", lambda engine: engine != "bm25s")
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails: ASCII plot
    out = tmp_path / "PERFORMANCE.md"
    args = ["--smoke", "--sizes", "100", "--queries", "5", "--answers", "0"]
    assert main([*args, "--workdir", str(tmp_path), "--out", str(out)]) == 0
    report = out.read_text(encoding="utf-8")
    assert "| 100 bm25s" in report and "n/a" in report
    assert "```\np50 ms (log)" in report
