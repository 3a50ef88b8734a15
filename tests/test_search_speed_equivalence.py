"""The fast BM25 cores rank and score exactly as the straightforward rank-bm25 path (issue 5).

`Searcher` with its precomputed engines (`BM25Matrix`, numpy; `BM25Postings`, plain Python;
"auto" picks one by size; the postings a saved index stores, added up in Python or numpy)
against `Searcher(engine="rank-bm25")` (rank-bm25 scoring every
passage per query) and against the original implementation's full sort, on the seed corpus,
on generated benchmark articles and on hand-made corner cases: identical scores (to float
tolerance; in practice bit for bit), identical rankings, identical answers.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from rank_bm25 import BM25Okapi

from bot.qa.answerer import Answerer
from index.bm25 import MIN_IDF, BM25Matrix, BM25Postings, select_top
from index.build import build_index, passage_tokens
from index.ingest import parse_text
from index.passages import Passage, split_article
from index.search import Searcher
from index.store import ArticleRecord, CorpusIndex, StoredIndex, load_index, save_index

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `bench` is not an installed package; `pytest` may not add the root
    sys.path.insert(0, str(REPO))
from bench.corpus import generate  # noqa: E402

DEV = REPO / "data" / "eval" / "seeds" / "questions.jsonl"


def make_index(tokens: list[list[str]], passages_per_article: int = 3) -> CorpusIndex:
    articles = (len(tokens) + passages_per_article - 1) // passages_per_article
    index = CorpusIndex(analyzer="test")
    index.articles = [ArticleRecord(f"a{i}.txt", "0" * 64, f"title {i}") for i in range(articles)]
    for number, passage_tokens_ in enumerate(tokens):
        article = number // passages_per_article
        index.passages.append(
            Passage(article, number % passages_per_article, " ".join(passage_tokens_))
        )
    index.tokens = tokens
    return index


def original_search_tokens(reference: Searcher, query: list[str], top_k: int, articles=None):
    """The search_tokens of qabot before the fast core: a full Python sort of every score."""
    scored = [
        (score, i)
        for i, score in enumerate(reference.scores(query))
        if score > 0 and (articles is None or reference.index.passages[i].article in articles)
    ]
    scored.sort(key=lambda pair: (-pair[0], pair[1]))
    return [(i, score) for score, i in scored[:top_k]]


FAST_ENGINES = {"matrix": BM25Matrix, "postings": BM25Postings}


def stored_copy(index: CorpusIndex) -> StoredIndex:
    """`index` saved to a file and opened from it, as `qabot ask` opens its index."""
    path = Path(tempfile.mkdtemp(prefix="qabot-stored-")) / "index.sqlite"
    save_index(index, path)
    return load_index(path)


def fast_searchers(index: CorpusIndex) -> list[Searcher]:
    """Every fast engine over `index`: in memory, and from its saved file (the postings added
    up in plain Python, and in numpy as for a large query)."""
    searchers = []
    for engine, kind in FAST_ENGINES.items():
        searchers.append(Searcher(index, engine=engine))
        assert isinstance(searchers[-1].bm25, kind) or not any(index.tokens)
    stored = stored_copy(index)
    for small_query_postings, within_passages in ((10**9, 10**9), (10**9, 0), (0, 0)):
        searchers.append(Searcher(stored))
        assert searchers[-1].engine == "stored"
        searchers[-1].small_query_postings = small_query_postings
        searchers[-1].without_numpy_postings = small_query_postings
        # a search within a few articles reads only their slices of the postings, or not
        searchers[-1].within_passages = within_passages
    return searchers


def assert_same(index: CorpusIndex, queries: list[list[str]], top_ks=(1, 5, 10, 40)) -> None:
    for fast in fast_searchers(index):
        assert_engine_same(fast, index, queries, top_ks)


def assert_engine_same(fast: Searcher, index: CorpusIndex, queries, top_ks) -> None:
    reference = Searcher(index, engine="rank-bm25")
    assert isinstance(reference.bm25, BM25Okapi)
    vocabulary = {t for tokens in index.tokens for t in tokens}
    for term in vocabulary:
        assert fast.idf(term) == pytest.approx(reference.idf(term), rel=1e-12, abs=1e-15)
    assert fast.max_idf == pytest.approx(reference.max_idf, rel=1e-12)
    for query in queries:
        fast_scores, reference_scores = fast.scores(query), reference.scores(query)
        assert len(fast_scores) == len(reference_scores) == len(index.passages)
        for a, b in zip(fast_scores, reference_scores, strict=True):
            assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12), (query, a, b)
        for k in top_ks:
            expected = original_search_tokens(reference, query, k)
            for searcher in (fast, reference):
                got = [(h.passage_id, h.score) for h in searcher.search_tokens(query, k)]
                assert [i for i, _ in got] == [i for i, _ in expected], (query, k)
                for (_, a), (_, b) in zip(got, expected, strict=True):
                    assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
        every_other = set(range(0, len(index.articles), 2))
        for some in (every_other, {len(index.articles) - 1}, set()):
            expected = original_search_tokens(reference, query, 10, some)
            got = fast.search_tokens(query, 10, articles=some)
            assert [(h.passage_id, h.score) for h in got] == expected  # bit for bit
            assert all(h.passage == index.passages[h.passage_id] for h in got)


def random_queries(vocabulary: list[str], rng: random.Random, count: int) -> list[list[str]]:
    queries = []
    for number in range(count):
        query = [rng.choice(vocabulary) for _ in range(rng.randint(1, 9))]
        if number % 3 == 0:
            query.append(query[0])  # a repeated term counts twice, as in rank-bm25
        if number % 5 == 0:
            query.append("没有这个词")  # a term no passage has
        queries.append(query)
    return queries


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> CorpusIndex:
    data = tmp_path_factory.mktemp("seed-articles")
    for article in (REPO / "data" / "articles").iterdir():
        shutil.copy(article, data / article.name)
    index, _ = build_index(data, tmp_path_factory.mktemp("seed-index") / "index.sqlite")
    return index


def dev_questions() -> list[str]:
    return [
        json.loads(line)["question"]
        for line in DEV.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def test_seed_corpus_random_queries_identical(seed_index: CorpusIndex) -> None:
    vocabulary = sorted({t for tokens in seed_index.tokens for t in tokens})
    assert_same(seed_index, random_queries(vocabulary, random.Random(5), 300))


def test_seed_corpus_scores_bit_for_bit(seed_index: CorpusIndex) -> None:
    reference = Searcher(seed_index, engine="rank-bm25")
    vocabulary = sorted({t for tokens in seed_index.tokens for t in tokens})
    for fast in fast_searchers(seed_index):
        for query in random_queries(vocabulary, random.Random(11), 100):
            assert fast.scores(query) == reference.scores(query)
            assert [h.score for h in fast.search_tokens(query, 40)] == [
                h.score for h in reference.search_tokens(query, 40)
            ]


def test_auto_engine_picks_by_size(seed_index: CorpusIndex) -> None:
    from index import search

    assert isinstance(Searcher(seed_index).bm25, BM25Postings)  # the seeds: small
    big = make_index([[f"t{i % 997}", f"u{i % 13}"] for i in range(search.SMALL_CORPUS_TOKENS)])
    assert isinstance(Searcher(big).bm25, BM25Matrix)
    assert Searcher(stored_copy(big)).engine == "stored"  # a saved index: its own postings


def test_dev_questions_identical_rankings_and_answers(seed_index: CorpusIndex) -> None:
    from index.analyzer import tokenize

    reference = Answerer(seed_index, Searcher(seed_index, engine="rank-bm25"))
    fast = [Answerer(seed_index, Searcher(seed_index, engine=e)) for e in ("auto", *FAST_ENGINES)]
    stored = stored_copy(seed_index)
    fast.append(Answerer(stored))
    for question in dev_questions():
        tokens = tokenize(question)
        assert_same(seed_index, [tokens], top_ks=(5, 40))
        expected = reference.answer(question)
        for answerer in fast:
            assert answerer.answer(question) == expected, question


def test_generated_articles_identical() -> None:
    tokens: list[list[str]] = []
    for number, article in enumerate(generate(25, seed=3)):
        parsed = parse_text(article.text, article.filename)
        tokens.extend(passage_tokens(p) for p in split_article(parsed, number))
    index = make_index(tokens, passages_per_article=14)
    vocabulary = sorted({t for passage in tokens for t in passage})
    assert_same(index, random_queries(vocabulary, random.Random(2), 150))


def test_negative_and_zero_idfs_are_floored_as_before() -> None:
    # "a" is in 3 of 4 passages (negative IDF), "b" in exactly half (IDF 0), "c" in one;
    # the average IDF is negative here, so rank-bm25's own floor is negative too.
    tokens = [["a", "b"], ["a", "b", "c"], ["a"], ["d", "d"]]
    index = make_index(tokens, passages_per_article=2)
    for fast in fast_searchers(index):
        for term in "abcd":
            assert fast.idf(term) > 0
        assert fast.idf("a") >= MIN_IDF
        assert [h.passage_id for h in fast.search_tokens(["a"], 10)] == [2, 0, 1]
    assert_same(index, [["a"], ["b"], ["a", "b"], ["c", "a"], ["d"], ["a", "a", "x"]])


def test_ties_break_by_passage_number() -> None:
    tokens = [["x", "y"]] * 30 + [["x"]] * 7 + [["z"]]
    index = make_index(tokens)
    assert_same(index, [["x"], ["y"], ["x", "y"], ["z", "x"]], top_ks=(1, 3, 10, 29, 30, 31, 100))
    for fast in fast_searchers(index):
        hits = fast.search_tokens(["x"], 12)
        # the seven shorter passages score higher; then the tied longer ones, in passage order
        assert [h.passage_id for h in hits] == list(range(30, 37)) + list(range(5))


def test_empty_passages_and_empty_queries() -> None:
    index = make_index([["a"], [], ["b", "a"], []])
    assert_same(index, [["a"], ["b"], ["a", "b", "b"]])
    for searcher in [Searcher(index, engine="rank-bm25"), *fast_searchers(index)]:
        assert searcher.search_tokens([], 5) == []
        assert searcher.scores([]) == [0.0] * 4
        assert searcher.search_tokens(["nothing"], 5) == []
        assert searcher.search_tokens(["a"], 0) == []


def test_empty_index_has_no_bm25() -> None:
    for tokens in ([], [[], []]):
        index = make_index(tokens)
        for searcher in [Searcher(index, engine="rank-bm25"), *fast_searchers(index)]:
            assert searcher.bm25 is None
            assert searcher.search_tokens(["a"], 5) == []
            assert searcher.scores(["a"]) == [0.0] * len(tokens)
            assert searcher.idf("a") is None
            assert searcher.max_idf == 1.0


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError):
        Searcher(make_index([["a"]]), engine="bm25s")


def test_bm25_idf_dict_matches_rank_bm25() -> None:
    rng = random.Random(9)
    tokens = [[f"t{rng.randint(0, 40)}" for _ in range(rng.randint(0, 12))] for _ in range(200)]
    index = make_index(tokens)
    reference = Searcher(index, engine="rank-bm25")
    for engine in FAST_ENGINES:
        fast = Searcher(index, engine=engine)
        assert list(fast.bm25.idf) == list(reference.bm25.idf)  # same terms, same order
        assert list(fast.bm25.idf.values()) == list(reference.bm25.idf.values())
        assert fast.bm25.avgdl == reference.bm25.avgdl
        assert fast.bm25.average_idf == reference.bm25.average_idf
    queries = random_queries(sorted({t for p in tokens for t in p}), rng, 200)
    assert_same(index, queries)


def test_select_top_matches_a_full_sort() -> None:
    import numpy as np

    rng = random.Random(4)
    for _ in range(200):
        size = rng.randint(0, 60)
        scores = np.array([rng.choice([0.0, 0.5, 1.0, 1.5, rng.random()]) for _ in range(size)])
        k = rng.randint(0, 70)
        ids, values = select_top(scores, k)
        expected = sorted((i for i in range(size) if scores[i] > 0), key=lambda i: (-scores[i], i))[
            :k
        ]
        assert ids == expected
        assert values == [float(scores[i]) for i in expected]
