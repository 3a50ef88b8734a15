"""Rank passages for a query with BM25 (rank-bm25's Okapi scoring), returning only real matches.

rank-bm25 pitfalls handled here: an empty corpus (it divides by zero) gives no results; a term
in half or more of the passages gets an IDF of zero or below (negative IDFs are floored to
`epsilon * average_idf`, which is itself <= 0 in a tiny or uniform corpus), so such IDFs are
raised to a small positive floor and a matching passage still outranks a non-matching one;
passages scoring 0 are never returned as results.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from rank_bm25 import BM25Okapi

from index.analyzer import tokenize
from index.passages import Passage
from index.store import CorpusIndex

MIN_IDF = 1e-3


@dataclass(frozen=True)
class Hit:
    """A passage that matched, with its BM25 score and its number in the index."""

    passage_id: int
    passage: Passage
    score: float


class Searcher:
    """BM25 over an index's passage tokens."""

    def __init__(self, index: CorpusIndex, k1: float = 1.5, b: float = 0.75, epsilon: float = 0.25):
        self.index = index
        self.bm25: BM25Okapi | None = None
        if index.tokens and any(index.tokens):
            self.bm25 = BM25Okapi(index.tokens, k1=k1, b=b, epsilon=epsilon)
            positive = [v for v in self.bm25.idf.values() if v > 0]
            floor = max(MIN_IDF, epsilon * sum(positive) / len(positive)) if positive else MIN_IDF
            for term, value in self.bm25.idf.items():
                if value <= 0:
                    self.bm25.idf[term] = floor

    def idf(self, term: str) -> float | None:
        """The term's IDF as scoring uses it (after flooring); None for a term no passage has."""
        if self.bm25 is None:
            return None
        value = self.bm25.idf.get(term)
        return None if value is None else float(value)

    @property
    def max_idf(self) -> float:
        """The largest IDF in the index (the weight of the rarest term); 1.0 when empty."""
        if self.bm25 is None or not self.bm25.idf:
            return 1.0
        return float(max(self.bm25.idf.values()))

    def scores(self, query_tokens: list[str]) -> list[float]:
        """BM25 score of every passage, in index order."""
        if self.bm25 is None or not query_tokens:
            return [0.0] * len(self.index.passages)
        return [float(s) for s in self.bm25.get_scores(query_tokens)]

    def search_tokens(
        self,
        query_tokens: list[str],
        top_k: int = 5,
        articles: Collection[int] | None = None,
    ) -> list[Hit]:
        """The best `top_k` passages with a score above zero, optionally within `articles`."""
        scored = [
            (score, i)
            for i, score in enumerate(self.scores(query_tokens))
            if score > 0 and (articles is None or self.index.passages[i].article in articles)
        ]
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        return [Hit(i, self.index.passages[i], score) for score, i in scored[:top_k]]

    def search(self, query: str, top_k: int = 5) -> list[Hit]:
        return self.search_tokens(tokenize(query), top_k)
