"""Candidates: every span of the retrieved passages that some kind's extractor finds.

All kinds are extracted, not only the kind the question seems to ask: the kind fit is a
feature the scorer weighs, so a question whose kind was misread can still be answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from bot.qa.kinds import Kind
from bot.qa.reading import ReadPassage, read_passage
from index.search import Hit

MAX_SPAN_CHARS = 40


@dataclass
class Candidate:
    """A span of one retrieved passage that could answer, and the kind that found it."""

    hit: Hit
    rank: int  # the passage's place in the retrieval (0 = best)
    passage: ReadPassage
    start: int
    end: int
    kind: Kind
    unit: str | None

    @property
    def text(self) -> str:
        """The span as the article writes it."""
        return self.passage.original[self.start : self.end]

    @property
    def normalized(self) -> str:
        return self.passage.text[self.start : self.end]


@lru_cache(maxsize=8192)
def spans_of(text: str) -> tuple[tuple[int, int, Kind, str | None], ...]:
    """Every (start, end, kind, unit) the kinds' extractors find in a passage, once each."""
    passage = read_passage(text)
    seen: set[tuple[int, int, Kind]] = set()
    spans = []
    for kind in Kind:
        for start, end, unit in kind.value.extractor(passage):
            key = (start, end, kind)
            if key in seen or not 0 < end - start <= MAX_SPAN_CHARS:
                continue
            if not passage.original[start:end].strip():
                continue
            seen.add(key)
            spans.append((start, end, kind, unit))
    return tuple(spans)


def generate(hits: list[Hit]) -> list[Candidate]:
    """The candidates of every retrieved passage, in retrieval order."""
    candidates = []
    for rank, hit in enumerate(hits):
        passage = read_passage(hit.passage.text, hit.passage.tags, hit.passage.normalized)
        for start, end, kind, unit in spans_of(hit.passage.text):
            candidates.append(Candidate(hit, rank, passage, start, end, kind, unit))
    return candidates
