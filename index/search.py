"""Rank passages for a query with BM25 (rank-bm25's Okapi scoring), returning only real matches.

The arithmetic lives in `index.bm25`: every term's contribution to every passage holding it,
computed exactly as rank-bm25 computes it, so scores are rank-bm25's bit for bit. A
`Searcher` adds up the contributions of a query's terms, in query order, from one of:

* the postings a saved index stores (`StoredIndex`, engine "stored"): nothing is computed
  when the index is opened, and a query reads only its own terms' postings;
* an in-memory `CorpusIndex`'s tokens: `BM25Postings` (plain Python) for small indexes,
  `BM25Matrix` (numpy) for large ones, or rank-bm25 itself (engine "rank-bm25"), which tests
  use to prove the rankings and scores identical.

An empty corpus (rank-bm25 divides by zero) gives no results; passages scoring 0 are never
returned; ties are broken by passage number.
"""

from __future__ import annotations

import heapq
import sys
from bisect import bisect_left
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from index.analyzer import tokenize
from index.bm25 import (
    SMALL_CORPUS_TOKENS,
    BM25Matrix,
    BM25Postings,
    reference_bm25,
    select_top,
)
from index.passages import Passage
from index.store import CorpusIndex, IndexReader, StoredIndex

if TYPE_CHECKING:
    import numpy as np

ENGINES = ("auto", "stored", "matrix", "postings", "rank-bm25")
SMALL_QUERY_POSTINGS = 2_000  # up to here a stored index's query is added up in Python
WITHOUT_NUMPY_POSTINGS = 300_000  # and up to here when numpy is not imported yet,
ONE_OFF_SEARCHES = 4  # by a process that has searched no more than this (a one-off `qabot ask`)
WITHIN_PASSAGES = 20_000  # a search within articles this small reads only their postings' slices


@dataclass(frozen=True)
class Hit:
    """A passage that matched, with its BM25 score and its number in the index."""

    passage_id: int
    passage: Passage
    score: float


class Searcher:
    """BM25 over an index's passages.

    `engine`: "auto" (default: "stored" for a `StoredIndex`; for a `CorpusIndex`,
    `BM25Postings` when small, else `BM25Matrix`), "stored", "matrix", "postings", or
    "rank-bm25" (rank-bm25 itself). All give identical scores and rankings.
    """

    def __init__(
        self,
        index: IndexReader,
        k1: float = 1.5,
        b: float = 0.75,
        epsilon: float = 0.25,
        engine: str = "auto",
    ):
        if engine not in ENGINES:
            raise ValueError(f"unknown BM25 engine {engine!r}; choose from {ENGINES}")
        self.index = index
        self.bm25: BM25Matrix | BM25Postings | Any | None = None
        stored = isinstance(index, StoredIndex)
        if engine == "auto":
            if stored:
                engine = "stored"
            else:
                small = sum(map(len, index.tokens)) <= SMALL_CORPUS_TOKENS
                engine = "postings" if small else "matrix"
        if stored != (engine == "stored"):
            raise ValueError(f"engine {engine!r} does not fit a {type(index).__name__}")
        self.engine = engine
        self.small_query_postings = SMALL_QUERY_POSTINGS
        self.without_numpy_postings = WITHOUT_NUMPY_POSTINGS
        self.within_passages = WITHIN_PASSAGES
        self.searches = 0
        if isinstance(index, CorpusIndex) and any(index.tokens):
            if engine == "matrix":
                self.bm25 = BM25Matrix(index.tokens, k1=k1, b=b, epsilon=epsilon)
            elif engine == "postings":
                self.bm25 = BM25Postings(index.tokens, k1=k1, b=b, epsilon=epsilon)
            else:
                self.bm25 = reference_bm25(index.tokens, k1, b, epsilon)

    @property
    def _stored(self) -> StoredIndex | None:
        return self.index if self.engine == "stored" else None  # type: ignore[return-value]

    def idf(self, term: str) -> float | None:
        """The term's IDF as scoring uses it (after flooring); None for a term no passage has."""
        if self._stored is not None:
            return self._stored.idf_of(term)
        if self.bm25 is None:
            return None
        if isinstance(self.bm25, BM25Matrix | BM25Postings):
            return self.bm25.idf_of(term)
        value = self.bm25.idf.get(term)
        return None if value is None else float(value)

    @property
    def max_idf(self) -> float:
        """The largest IDF in the index (the weight of the rarest term); 1.0 when empty."""
        if self._stored is not None:
            return self._stored.max_idf
        if self.bm25 is None:
            return 1.0
        if isinstance(self.bm25, BM25Matrix | BM25Postings):
            return self.bm25.max_idf
        return float(max(self.bm25.idf.values())) if self.bm25.idf else 1.0

    def _stored_postings(self, query_tokens: list[str]) -> list[tuple[Any, Any]]:
        """The stored postings (passages, contributions) of the query's terms, in query order."""
        assert self._stored is not None
        found = self._stored.postings_of(query_tokens)
        return [
            (docs, scores) for entry in found if entry is not None for _, docs, scores in [entry]
        ]

    def score_array(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every passage, in index order, as a float64 numpy array."""
        import numpy as np

        if self._stored is not None:
            scores = np.zeros(len(self.index.passages))
            for docs, contributions in self._stored_postings(query_tokens):
                scores[np.frombuffer(docs, dtype=np.int32)] += np.frombuffer(contributions)
            return scores
        if self.bm25 is None or not query_tokens:
            return np.zeros(len(self.index.passages))
        return np.asarray(self.bm25.get_scores(query_tokens), dtype=np.float64)

    def scores(self, query_tokens: list[str]) -> list[float]:
        """BM25 score of every passage, in index order."""
        if isinstance(self.bm25, BM25Postings):
            return self.bm25.get_scores(query_tokens)
        if self.bm25 is None and self._stored is None or not query_tokens:
            return [0.0] * len(self.index.passages)
        return self.score_array(query_tokens).tolist()

    def search_tokens(
        self,
        query_tokens: list[str],
        top_k: int = 5,
        articles: Collection[int] | None = None,
    ) -> list[Hit]:
        """The best `top_k` passages with a score above zero, optionally within `articles`.

        Order: score descending, then passage number ascending (as a full sort would give).
        """
        if top_k <= 0 or not query_tokens:
            return []
        self.searches += 1
        ranges = self._passage_ranges(articles) if articles is not None else None
        accumulated: dict[int, float] | None = None
        if self._stored is not None:
            postings = self._stored_postings(query_tokens)
            if (
                ranges is not None
                and sum(stop - start for start, stop in ranges) <= self.within_passages
            ):
                accumulated = _accumulate_within(postings, ranges)
                ranges = None  # every passage added up is one of theirs
            elif self._in_python(sum(len(docs) for docs, _ in postings)):
                accumulated = {}
                get = accumulated.get
                for docs, contributions in postings:
                    for doc, contribution in zip(docs, contributions):  # noqa: B905
                        accumulated[doc] = get(doc, 0.0) + contribution
        elif isinstance(self.bm25, BM25Postings):
            accumulated = self.bm25.accumulate(query_tokens)
        elif self.bm25 is None:
            return []
        if accumulated is not None:
            return self._hits(_best(accumulated, top_k, self._allowed(ranges)))
        import numpy as np

        scores = self.score_array(query_tokens)
        candidates = np.flatnonzero(scores > 0)
        allowed = self._allowed(ranges)
        if allowed is not None:
            candidates = candidates[np.frombuffer(allowed, dtype=np.uint8)[candidates] == 1]
        ids, values = select_top(scores, top_k, candidates)
        return self._hits(list(zip(ids, values, strict=True)))

    def _hits(self, best: list[tuple[int, float]]) -> list[Hit]:
        """Hits for (passage number, score) pairs, their passages read together."""
        numbers = [i for i, _ in best]
        if self._stored is not None:
            passages = self._stored.passages_at(numbers)
        else:
            passages = [self.index.passages[i] for i in numbers]
        return [Hit(i, p, s) for (i, s), p in zip(best, passages, strict=True)]

    def _in_python(self, postings: int) -> bool:
        """Add up a stored query in plain Python: for few postings, and, in a process that
        has not imported numpy and searched only a few times (a one-off `qabot ask`), for up
        to a few hundred thousand, where importing numpy would cost more than the additions.
        A process that goes on asking (`qabot chat`, the bot) imports it."""
        if postings <= self.small_query_postings:
            return True
        return (
            "numpy" not in sys.modules
            and postings <= self.without_numpy_postings
            and self.searches <= ONE_OFF_SEARCHES
        )

    def _passage_ranges(self, articles: Collection[int]) -> list[tuple[int, int]]:
        """The passage numbers of `articles`, as sorted [start, stop) ranges."""
        starts = self.index.article_starts()
        total = len(self.index.passages)
        return [
            (starts[number], starts[number + 1] if number + 1 < len(starts) else total)
            for number in sorted(articles)
            if 0 <= number < len(starts)
        ]

    def _allowed(self, ranges: list[tuple[int, int]] | None) -> bytearray | None:
        """A flag per passage, set for the passages in `ranges`; None for every passage."""
        if ranges is None:
            return None
        allowed = bytearray(len(self.index.passages))
        for start, stop in ranges:
            allowed[start:stop] = b"\x01" * (stop - start)
        return allowed

    def search(self, query: str, top_k: int = 5) -> list[Hit]:
        return self.search_tokens(tokenize(query), top_k)


def _accumulate_within(
    postings: list[tuple[Any, Any]], ranges: list[tuple[int, int]]
) -> dict[int, float]:
    """The query's score of each passage within `ranges` that holds one of its terms, added
    in query order (as over all passages): each term's postings are sorted by passage, so
    only the slices falling in the ranges are read."""
    accumulated: dict[int, float] = {}
    get = accumulated.get
    for docs, contributions in postings:
        for start, stop in ranges:
            first = bisect_left(docs, start)
            last = bisect_left(docs, stop, first)
            for doc, contribution in zip(docs[first:last], contributions[first:last]):  # noqa: B905
                accumulated[doc] = get(doc, 0.0) + contribution
    return accumulated


def _best(
    accumulated: dict[int, float], top_k: int, allowed: bytearray | None
) -> list[tuple[int, float]]:
    """The `top_k` (passage, score) pairs scoring above zero (and `allowed`), by score
    descending then passage number ascending: a full sort's first `top_k`, without the sort."""
    scored = (
        (i, score)
        for i, score in accumulated.items()
        if score > 0 and (allowed is None or allowed[i])
    )
    return heapq.nlargest(top_k, scored, key=lambda pair: (pair[1], -pair[0]))
