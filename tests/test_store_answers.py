"""The index file answers exactly as the index in memory did before it (issue 12).

On every evaluation set (the news splits and the seeds), each set's articles are built into an
index file; answering from that file (stored BM25 postings, part-of-speech tags and folded text
read on demand) must give the same answers, word for word, as answering from the same index
read whole into memory with nothing precomputed: BM25 computed from the tokens, every passage
tagged again at question time, as qabot did before the store changed. No answer is scored here.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.qa import candidates, reading
from bot.qa.answerer import Answerer
from bot.qa.datasets import SPLITS, index_of, news_split, seed_set
from index.search import Searcher

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "qabot"
SAMPLE = 100  # news questions, spread evenly over the three splits (all of the seeds')


@pytest.mark.parametrize("name", ["news", "seeds"])
def test_the_index_file_answers_as_the_index_in_memory(name):
    """The three news splits share one archive: one index, questions of all three."""
    splits = [news_split(split, REPO) for split in SPLITS] if name == "news" else [seed_set(REPO)]
    stored = index_of(splits[0], CACHE)
    in_memory = stored.in_memory()
    # nothing precomputed: every passage is tagged again when a question reads it
    in_memory.passages = [replace(p, tags=None) for p in in_memory.passages]
    from_file = Answerer(stored)
    from_memory = Answerer(in_memory, Searcher(in_memory, engine="rank-bm25"))
    assert from_file.searcher.engine == "stored"
    questions = [case.question for split in splits for case in split.cases]
    if name == "news":
        questions = questions[:: max(1, len(questions) // SAMPLE)]
    assert len(questions) > 30
    forget_read_passages()
    expected = [from_memory.answer(q) for q in questions]
    forget_read_passages()  # the file's answers read their passages from the file
    different = [q for q, e in zip(questions, expected, strict=True) if from_file.answer(q) != e]
    assert different == [], different[:5]


def forget_read_passages() -> None:
    """Passages read for answering are kept by text: forget them, so the next answerer reads
    (and tags) its passages its own way."""
    reading._READ.clear()
    candidates.spans_of.cache_clear()
