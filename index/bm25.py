"""BM25 arithmetic exactly as rank-bm25's `BM25Okapi`, precomputed per (term, passage).

Scoring is rank-bm25's Okapi formula (k1, b, epsilon, its IDF and its flooring of negative
IDFs to `epsilon * average_idf`), with one addition: rank-bm25's floor is itself <= 0 in a
tiny or uniform corpus, so IDFs still <= 0 are raised to a small positive floor and a
matching passage always outranks a non-matching one.

Every term's score contribution to every passage that holds it is computed once, with the
same floating-point operations in the same order as rank-bm25, and kept term by term. A
query adds up the contributions of its terms in query order, so each passage's score is bit
for bit the one rank-bm25 computes, in time proportional to the postings of the query's
terms instead of to the size of the corpus:

* `BM25Matrix`: the contributions as a CSC sparse matrix (term -> passages, scores) in three
  numpy arrays; top-k by `numpy.partition`, ties broken by passage number.
* `BM25Postings`: the same in plain Python lists, for small corpora, where importing numpy
  would cost more than the arithmetic.
* `term_postings` gives either's contributions term by term, as the index file stores them
  (`index.store`), so a saved index is scored without computing anything at load.
* `reference_bm25` is rank-bm25 itself with the floor patched in: the straightforward path
  tests compare against.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

MIN_IDF = 1e-3
SMALL_CORPUS_TOKENS = 20_000  # up to here BM25Postings (no numpy import: a faster cold start)


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


def reference_bm25(tokens: list[list[str]], k1: float, b: float, epsilon: float) -> Any:
    """rank-bm25's BM25Okapi with qabot's IDF floor patched in (the straightforward path)."""
    from rank_bm25 import BM25Okapi

    bm25 = BM25Okapi(tokens, k1=k1, b=b, epsilon=epsilon)
    for term, value in zip(bm25.idf, floor_idfs(list(bm25.idf.values()), epsilon), strict=True):
        bm25.idf[term] = value
    return bm25


def term_postings(
    corpus: Sequence[Sequence[str]], k1: float = 1.5, b: float = 0.75, epsilon: float = 0.25
) -> tuple[float, Iterator[tuple[str, float, bytes, bytes]]]:
    """The average IDF, and every term in rank-bm25's order with its IDF (as scoring uses it),
    the passages holding it (int32, ascending) and its contribution to each (float64)."""
    if sum(map(len, corpus)) <= SMALL_CORPUS_TOKENS:
        small = BM25Postings(corpus, k1=k1, b=b, epsilon=epsilon)

        def from_lists() -> Iterator[tuple[str, float, bytes, bytes]]:
            for term, idf, postings in zip(
                small.vocabulary, small.idf_list, small.postings, strict=True
            ):
                docs = array("i", (doc for doc, _ in postings))
                scores = array("d", (score for _, score in postings))
                yield term, idf, docs.tobytes(), scores.tobytes()

        return small.average_idf, from_lists()
    matrix = BM25Matrix(corpus, k1=k1, b=b, epsilon=epsilon)

    def from_matrix() -> Iterator[tuple[str, float, bytes, bytes]]:
        import numpy as np

        indices = matrix.indices.astype(np.int32, copy=False)
        bounds = matrix.indptr.tolist()
        for number, (term, idf) in enumerate(
            zip(matrix.vocabulary, matrix.idf_array.tolist(), strict=True)
        ):
            start, end = bounds[number], bounds[number + 1]
            yield term, idf, indices[start:end].tobytes(), matrix.data[start:end].tobytes()

    return matrix.average_idf, from_matrix()
