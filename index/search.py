"""Rank passages for a query with BM25 (rank-bm25's Okapi scoring), returning only real matches.

Scoring is exactly rank-bm25's `BM25Okapi` (k1, b, epsilon, its IDF formula and its flooring of
negative IDFs to `epsilon * average_idf`), with one addition: rank-bm25's floor is itself <= 0
in a tiny or uniform corpus, so IDFs still <= 0 are raised to a small positive floor and a
matching passage always outranks a non-matching one. An empty corpus (rank-bm25 divides by
zero) gives no results; passages scoring 0 are never returned.

The fast engines compute every term's score contribution to every passage that holds it once,
at load time, with the same floating-point operations in the same order as rank-bm25, and
keep them term by term. A query adds up the contributions of its terms in query order, so
each passage's score is bit for bit the one rank-bm25 computes, in time proportional to the
postings of the query's terms instead of to the size of the corpus:

* `BM25Matrix`: the contributions as a CSC sparse matrix (term -> passages, scores) in three
  numpy arrays; top-k by `numpy.partition`, ties broken by passage number.
* `BM25Postings`: the same in plain Python lists, for small indexes (up to
  `SMALL_CORPUS_TOKENS` tokens), where importing numpy would cost more than the queries.
* `engine="rank-bm25"` keeps the straightforward path (rank-bm25 scores every passage in
  Python per query); tests use it to prove the rankings and scores identical.

`engine="auto"` (the default) picks `BM25Postings` or `BM25Matrix` by corpus size.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Any

from index.analyzer import tokenize
from index.passages import Passage
from index.store import CorpusIndex

if TYPE_CHECKING:
    import numpy as np

MIN_IDF = 1e-3
ENGINES = ("auto", "matrix", "postings", "rank-bm25")
SMALL_CORPUS_TOKENS = 20_000  # up to here BM25Postings (no numpy import: a faster cold start)


@dataclass(frozen=True)
class Hit:
    """A passage that matched, with its BM25 score and its number in the index."""

    passage_id: int
    passage: Passage
    score: float


def rank_bm25_idfs(
    corpus_size: int, doc_freqs: Sequence[int], epsilon: float
) -> tuple[list[float], float]:
    """rank-bm25's `BM25Okapi._calc_idf`, term by term in the same order, then qabot's floor.

    `doc_freqs` are the terms' document frequencies in order of first occurrence in the corpus
    (rank-bm25's dict order, which decides the order of its floating-point sums). Returns the
    IDFs as scoring uses them and the average IDF before flooring.
    """
    by_freq: dict[int, float] = {}
    idfs: list[float] = []
    idf_sum = 0.0
    for freq in doc_freqs:
        idf = by_freq.get(freq)
        if idf is None:
            idf = by_freq[freq] = math.log(corpus_size - freq + 0.5) - math.log(freq + 0.5)
        idfs.append(idf)
        idf_sum += idf
    average_idf = idf_sum / len(idfs)
    eps = epsilon * average_idf
    idfs = [eps if idf < 0 else idf for idf in idfs]
    return floor_idfs(idfs, epsilon), average_idf


def floor_idfs(idfs: list[float], epsilon: float) -> list[float]:
    """qabot's positive floor for IDFs rank-bm25 leaves at or below zero."""
    positive = [v for v in idfs if v > 0]
    floor = max(MIN_IDF, epsilon * sum(positive) / len(positive)) if positive else MIN_IDF
    return [floor if v <= 0 else v for v in idfs]


class BM25Matrix:
    """BM25Okapi scores precomputed per (term, passage) in a CSC matrix: query cost ~ postings.

    Quacks like the parts of `rank_bm25.BM25Okapi` callers use (`idf`, `get_scores`,
    `corpus_size`, `avgdl`, `doc_len`, `k1`, `b`, `epsilon`).
    """

    def __init__(
        self,
        corpus: Sequence[Sequence[str]],
        k1: float = 1.5,
        b: float = 0.75,
        epsilon: float = 0.25,
    ):
        import numpy as np

        self.k1, self.b, self.epsilon = k1, b, epsilon
        self.corpus_size = len(corpus)
        lengths = np.fromiter(map(len, corpus), dtype=np.int64, count=self.corpus_size)
        total = int(lengths.sum())
        if not self.corpus_size or not total:
            raise ValueError("BM25 needs at least one passage with tokens")
        self.doc_len = lengths
        self.avgdl = total / self.corpus_size  # int / int, as rank-bm25 computes it

        # Term ids in order of first occurrence: rank-bm25's dict order.
        vocabulary: dict[str, int] = dict.fromkeys(chain.from_iterable(corpus), 0)
        for number, term in enumerate(vocabulary):
            vocabulary[term] = number
        self.vocabulary = vocabulary
        id_type = np.int32 if len(vocabulary) < 2**31 else np.int64
        terms = np.fromiter(
            map(vocabulary.__getitem__, chain.from_iterable(corpus)), dtype=id_type, count=total
        )
        docs = np.repeat(np.arange(self.corpus_size, dtype=np.int32), lengths)
        # Stable sort by term: postings term-major, passages ascending (the CSC order); the
        # repeats of a term in a passage are then neighbours, and their count is its tf.
        order = np.argsort(terms, kind="stable")
        terms, docs = terms[order], docs[order]
        del order
        first = np.empty(total, dtype=bool)
        first[0] = True
        np.not_equal(terms[1:], terms[:-1], out=first[1:])
        first[1:] |= docs[1:] != docs[:-1]
        starts = np.flatnonzero(first)
        del first
        tf = np.diff(starts, append=total).astype(np.int64)  # int64, like rank-bm25's q_freq
        term_of, self.indices = terms[starts], docs[starts]
        del terms, docs, starts
        doc_freq = np.bincount(term_of, minlength=len(vocabulary))
        self.indptr = np.zeros(len(vocabulary) + 1, dtype=np.int64)
        np.cumsum(doc_freq, out=self.indptr[1:])

        idfs, self.average_idf = rank_bm25_idfs(self.corpus_size, doc_freq.tolist(), epsilon)
        self.idf_array = np.array(idfs, dtype=np.float64)
        # rank-bm25: idf * (q_freq * (k1 + 1) / (q_freq + k1 * (1 - b + b * doc_len / avgdl)))
        # with the same operations on the same int64/float64 operands, in place (x + y and
        # x * y are commutative in IEEE arithmetic, so the bits are rank-bm25's).
        norm = b * lengths[self.indices]
        norm /= self.avgdl
        norm += 1 - b
        norm *= k1
        norm += tf
        data = tf * (k1 + 1)
        data /= norm
        del norm
        data *= self.idf_array[term_of]
        self.data = data
        self._idf_dict: dict[str, float] | None = None

    @property
    def idf(self) -> dict[str, float]:
        """term -> IDF as scoring uses it (built on first use; `idf_of` is cheaper)."""
        if self._idf_dict is None:
            self._idf_dict = dict(zip(self.vocabulary, self.idf_array.tolist(), strict=True))
        return self._idf_dict

    def idf_of(self, term: str) -> float | None:
        number = self.vocabulary.get(term)
        return None if number is None else float(self.idf_array[number])

    @property
    def max_idf(self) -> float:
        return float(self.idf_array.max())

    def get_scores(self, query: Iterable[str]) -> np.ndarray:
        """Every passage's score, bit-for-bit rank-bm25's: columns added in query order."""
        import numpy as np

        scores = np.zeros(self.corpus_size)
        indptr, indices, data = self.indptr, self.indices, self.data
        for term in query:
            number = self.vocabulary.get(term)
            if number is None:
                continue  # rank-bm25 adds 0 * ... for a term no passage has
            start, end = indptr[number], indptr[number + 1]
            scores[indices[start:end]] += data[start:end]
        return scores

    def memory_bytes(self) -> int:
        """Bytes held by the numpy arrays (the vocabulary dict is extra)."""
        return sum(
            a.nbytes for a in (self.indptr, self.indices, self.data, self.idf_array, self.doc_len)
        )


class BM25Postings:
    """BM25Matrix's precomputed scores in plain Python: for small indexes, no numpy import.

    Python floats are the same IEEE doubles as numpy's, and every contribution is computed
    with the same operations in the same order, so the scores are rank-bm25's bit for bit.
    """

    def __init__(
        self,
        corpus: Sequence[Sequence[str]],
        k1: float = 1.5,
        b: float = 0.75,
        epsilon: float = 0.25,
    ):
        self.k1, self.b, self.epsilon = k1, b, epsilon
        self.corpus_size = len(corpus)
        self.doc_len = [len(tokens) for tokens in corpus]
        total = sum(self.doc_len)
        if not self.corpus_size or not total:
            raise ValueError("BM25 needs at least one passage with tokens")
        self.avgdl = total / self.corpus_size
        self.vocabulary: dict[str, int] = {}
        counted: list[list[tuple[int, int]]] = []  # term -> [(passage, tf)], passages ascending
        for doc, tokens in enumerate(corpus):
            for term, tf in Counter(tokens).items():  # first-occurrence order, as rank-bm25
                number = self.vocabulary.setdefault(term, len(counted))
                if number == len(counted):
                    counted.append([])
                counted[number].append((doc, tf))
        idfs, self.average_idf = rank_bm25_idfs(
            self.corpus_size, [len(p) for p in counted], epsilon
        )
        self.idf_list = idfs
        avgdl, doc_len = self.avgdl, self.doc_len
        # rank-bm25: idf * (q_freq * (k1 + 1) / (q_freq + k1 * (1 - b + b * doc_len / avgdl)))
        self.postings = [
            [
                (doc, idf * (tf * (k1 + 1) / (tf + k1 * (1 - b + b * doc_len[doc] / avgdl))))
                for doc, tf in postings
            ]
            for idf, postings in zip(idfs, counted, strict=True)
        ]

    @property
    def idf(self) -> dict[str, float]:
        return dict(zip(self.vocabulary, self.idf_list, strict=True))

    def idf_of(self, term: str) -> float | None:
        number = self.vocabulary.get(term)
        return None if number is None else self.idf_list[number]

    @property
    def max_idf(self) -> float:
        return max(self.idf_list)

    def accumulate(self, query: Iterable[str]) -> dict[int, float]:
        """Scores of the passages holding a query term, added up in query order."""
        scores: dict[int, float] = {}
        get = scores.get
        for term in query:
            number = self.vocabulary.get(term)
            if number is None:
                continue
            for doc, contribution in self.postings[number]:
                scores[doc] = get(doc, 0.0) + contribution
        return scores

    def get_scores(self, query: Iterable[str]) -> list[float]:
        scores = self.accumulate(query)
        return [scores.get(i, 0.0) for i in range(self.corpus_size)]


def select_top(
    scores: np.ndarray, k: int, candidates: np.ndarray | None = None
) -> tuple[list[int], list[float]]:
    """The `k` best of `candidates` (default: every positive score) as (ids, scores).

    Order: score descending, then passage number ascending, exactly as a full sort by
    (-score, id) gives; selection is O(n) (`numpy.partition`) and only the k best are sorted.
    """
    import numpy as np

    if candidates is None:
        candidates = np.flatnonzero(scores > 0)
    if k <= 0 or not len(candidates):
        return [], []
    if len(candidates) > k:
        values = scores[candidates]
        kth = np.partition(values, len(values) - k)[len(values) - k]
        candidates = candidates[values >= kth]  # every tie at the cut stays in
    values = scores[candidates]
    order = np.lexsort((candidates, -values))[:k]
    return candidates[order].tolist(), values[order].tolist()


def _reference_bm25(tokens: list[list[str]], k1: float, b: float, epsilon: float) -> Any:
    """rank-bm25's BM25Okapi with qabot's IDF floor patched in (the straightforward path)."""
    from rank_bm25 import BM25Okapi

    bm25 = BM25Okapi(tokens, k1=k1, b=b, epsilon=epsilon)
    for term, value in zip(bm25.idf, floor_idfs(list(bm25.idf.values()), epsilon), strict=True):
        bm25.idf[term] = value
    return bm25


class Searcher:
    """BM25 over an index's passage tokens.

    `engine`: "auto" (default: `BM25Postings` for small indexes, else `BM25Matrix`),
    "matrix", "postings", or "rank-bm25" (rank-bm25 itself). All give identical scores and
    rankings.
    """

    def __init__(
        self,
        index: CorpusIndex,
        k1: float = 1.5,
        b: float = 0.75,
        epsilon: float = 0.25,
        engine: str = "auto",
    ):
        if engine not in ENGINES:
            raise ValueError(f"unknown BM25 engine {engine!r}; choose from {ENGINES}")
        self.index = index
        self.bm25: BM25Matrix | BM25Postings | Any | None = None
        self._articles: Any = None
        if engine == "auto":
            small = sum(map(len, index.tokens)) <= SMALL_CORPUS_TOKENS
            engine = "postings" if small else "matrix"
        self.engine = engine
        if index.tokens and any(index.tokens):
            if engine == "matrix":
                self.bm25 = BM25Matrix(index.tokens, k1=k1, b=b, epsilon=epsilon)
            elif engine == "postings":
                self.bm25 = BM25Postings(index.tokens, k1=k1, b=b, epsilon=epsilon)
            else:
                self.bm25 = _reference_bm25(index.tokens, k1, b, epsilon)

    def idf(self, term: str) -> float | None:
        """The term's IDF as scoring uses it (after flooring); None for a term no passage has."""
        if self.bm25 is None:
            return None
        if isinstance(self.bm25, BM25Matrix | BM25Postings):
            return self.bm25.idf_of(term)
        value = self.bm25.idf.get(term)
        return None if value is None else float(value)

    @property
    def max_idf(self) -> float:
        """The largest IDF in the index (the weight of the rarest term); 1.0 when empty."""
        if self.bm25 is None:
            return 1.0
        if isinstance(self.bm25, BM25Matrix | BM25Postings):
            return self.bm25.max_idf
        return float(max(self.bm25.idf.values())) if self.bm25.idf else 1.0

    def score_array(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every passage, in index order, as a float64 numpy array."""
        import numpy as np

        if self.bm25 is None or not query_tokens:
            return np.zeros(len(self.index.passages))
        return np.asarray(self.bm25.get_scores(query_tokens), dtype=np.float64)

    def scores(self, query_tokens: list[str]) -> list[float]:
        """BM25 score of every passage, in index order."""
        if self.bm25 is None or not query_tokens:
            return [0.0] * len(self.index.passages)
        if isinstance(self.bm25, BM25Postings):
            return self.bm25.get_scores(query_tokens)
        return self.score_array(query_tokens).tolist()

    def _article_of(self) -> np.ndarray:
        import numpy as np

        if self._articles is None or len(self._articles) != len(self.index.passages):
            self._articles = np.fromiter(
                (p.article for p in self.index.passages),
                dtype=np.int64,
                count=len(self.index.passages),
            )
        return self._articles

    def search_tokens(
        self,
        query_tokens: list[str],
        top_k: int = 5,
        articles: Collection[int] | None = None,
    ) -> list[Hit]:
        """The best `top_k` passages with a score above zero, optionally within `articles`.

        Order: score descending, then passage number ascending (as a full sort would give).
        """
        if top_k <= 0 or self.bm25 is None or not query_tokens:
            return []
        passages = self.index.passages
        if isinstance(self.bm25, BM25Postings):
            scored = [
                (score, i)
                for i, score in self.bm25.accumulate(query_tokens).items()
                if score > 0 and (articles is None or passages[i].article in articles)
            ]
            scored.sort(key=lambda pair: (-pair[0], pair[1]))
            return [Hit(i, passages[i], score) for score, i in scored[:top_k]]
        import numpy as np

        scores = self.score_array(query_tokens)
        candidates = np.flatnonzero(scores > 0)
        if articles is not None and len(candidates):
            wanted = np.fromiter(articles, dtype=np.int64)
            candidates = candidates[np.isin(self._article_of()[candidates], wanted)]
        ids, values = select_top(scores, top_k, candidates)
        return [Hit(i, passages[i], s) for i, s in zip(ids, values, strict=True)]

    def search(self, query: str, top_k: int = 5) -> list[Hit]:
        return self.search_tokens(tokenize(query), top_k)
