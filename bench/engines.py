"""The three engines the benchmark compares, behind one small interface.

Every engine gets the same passages' tokens (tokenised once by qabot's analyzer) and the same
query tokens, and answers a query with its 10 best passages (ids and scores).

* `rank-bm25`: rank-bm25's `BM25Okapi`, used naively: `get_scores` over every passage per
  query (with qabot's IDF floor, so its scores are the reference qabot must reproduce).
  rank-bm25 has no on-disk format: what it needs to rebuild (the tokens) is saved as JSON
  and "load" rebuilds it.
* `bm25s`: bm25s (PyPI) with rank-bm25's formula (`method="atire"`, Robertson IDF), numpy
  backend, its own `save`/`load`, with the passage texts (its corpus.jsonl) as qabot keeps
  them; a query returns the passages (with their ids), as qabot's returns `Hit`s.
* `qabot`: `index.search.Searcher` over a real qabot index (`index.store`, JSON with passage
  text, metadata and tokens); load = `load_index` + `Searcher`.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

K1, B, EPSILON = 1.5, 0.75, 0.25
TOP = 10


def available(engine: str) -> bool:
    module = {"rank-bm25": "rank_bm25", "bm25s": "bm25s", "qabot": "index.search"}[engine]
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # e.g. a module set to None in sys.modules
        return False


def directory_size(path: Path) -> int:
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class Engine:
    name = ""

    def __init__(self, corpus: dict | None = None):
        self.corpus = corpus  # {"tokens": [...], "passages": [...], "articles": [...]}

    def prepare(self) -> None:
        """Untimed set-up before `build` or `load`: imports (qabot: the `CorpusIndex`)."""

    def build(self) -> Any:
        raise NotImplementedError

    def save(self, built: Any, directory: Path) -> Path:
        raise NotImplementedError

    def load(self, path: Path) -> Any:
        raise NotImplementedError

    def query(self, loaded: Any, tokens: list[str]) -> tuple[list[int], list[float]]:
        raise NotImplementedError


class RankBM25(Engine):
    name = "rank-bm25"

    def prepare(self) -> None:
        import rank_bm25  # noqa: F401

        import index.search  # noqa: F401

    def ties(self, limit: int = 5000) -> list[int]:
        """Passages scoring exactly the last query's 10th best (any is as correct a 10th).

        Uses the scores `query` kept, so it costs no second scoring and runs untimed."""
        scores = self._last_scores
        positive = scores[scores > 0]
        if len(positive) <= TOP:
            return []
        tenth = np.partition(positive, len(positive) - TOP)[len(positive) - TOP]
        return np.flatnonzero(scores == tenth)[:limit].tolist()

    def build(self) -> Any:
        from index.bm25 import reference_bm25

        return reference_bm25(self.corpus["tokens"], K1, B, EPSILON)

    def save(self, built: Any, directory: Path) -> Path:
        path = directory / "rank-bm25-tokens.json"
        path.write_text(json.dumps(self.corpus["tokens"], ensure_ascii=False), encoding="utf-8")
        return path

    def load(self, path: Path) -> Any:
        from index.bm25 import reference_bm25

        tokens = json.loads(path.read_text(encoding="utf-8"))
        return reference_bm25(tokens, K1, B, EPSILON)

    def query(self, loaded: Any, tokens: list[str]) -> tuple[list[int], list[float]]:
        from index.bm25 import select_top

        self._last_scores = np.asarray(loaded.get_scores(tokens))
        return select_top(self._last_scores, TOP)


class BM25S(Engine):
    name = "bm25s"

    def prepare(self) -> None:
        import bm25s  # noqa: F401

    def build(self) -> Any:
        import bm25s

        retriever = bm25s.BM25(method="atire", idf_method="robertson", k1=K1, b=B)
        retriever.index(self.corpus["tokens"], show_progress=False)
        return retriever

    def save(self, built: Any, directory: Path) -> Path:
        """The index and, like qabot's, the passage texts (a QA index must quote them)."""
        path = directory / "bm25s"
        shutil.rmtree(path, ignore_errors=True)
        texts = [{"id": i, "text": p[2]} for i, p in enumerate(self.corpus["passages"])]
        built.save(str(path), corpus=texts)
        return path

    def load(self, path: Path) -> Any:
        import bm25s

        return bm25s.BM25.load(str(path), load_corpus=True)

    def query(self, loaded: Any, tokens: list[str]) -> tuple[list[int], list[float]]:
        k = min(TOP, loaded.scores["num_docs"])
        if not tokens:
            return [], []
        documents, scores = loaded.retrieve([tokens], k=k, show_progress=False, n_threads=0)
        pairs = [
            (int(d["id"]), float(s)) for d, s in zip(documents[0], scores[0], strict=True) if s > 0
        ]
        return [d for d, _ in pairs], [s for _, s in pairs]


class Qabot(Engine):
    name = "qabot"

    def prepare(self) -> None:
        from index.passages import Passage
        from index.search import Searcher  # noqa: F401
        from index.store import ArticleRecord, CorpusIndex

        if self.corpus is None:
            return
        index = CorpusIndex(analyzer=self.corpus.get("analyzer", ""))
        index.articles = [ArticleRecord(**a) for a in self.corpus["articles"]]
        index.passages = [Passage(*p) for p in self.corpus["passages"]]
        index.tokens = self.corpus["tokens"]
        self.index = index

    def build(self) -> Any:
        from index.search import Searcher

        return Searcher(self.index)

    def save(self, built: Any, directory: Path) -> Path:
        from index.store import save_index

        path = directory / "qabot-index.sqlite"
        save_index(built.index, path)
        return path

    def load(self, path: Path) -> Any:
        from index.search import Searcher
        from index.store import load_index

        return Searcher(load_index(path))

    def query(self, loaded: Any, tokens: list[str]) -> tuple[list[int], list[float]]:
        hits = loaded.search_tokens(tokens, TOP)
        return [h.passage_id for h in hits], [h.score for h in hits]


ENGINES: dict[str, type[Engine]] = {e.name: e for e in (RankBM25, BM25S, Qabot)}
