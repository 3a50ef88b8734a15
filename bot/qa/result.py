"""What the answerer returns: a reply of one tier (sure, likely, evidence, none), its citation,
alternatives and passages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Tier = Literal["sure", "likely", "evidence", "none"]
TIERS: tuple[Tier, ...] = ("sure", "likely", "evidence", "none")


@dataclass(frozen=True)
class Citation:
    """The passage an answer was taken from, and the article it belongs to.

    `url` is the article's address for people to open (an absolute http(s) URL), None when
    unknown. `answer_span` is where the answer lies in `text`, the quoted passage, as
    (start, end) character offsets: `text[start:end]` is the answer as the reply states it;
    None for a passage quoted without an answer, or an answer not written inside the quote.
    """

    text: str
    title: str
    source: str | None
    date: str | None
    path: str
    url: str | None = None
    answer_span: tuple[int, int] | None = None


@dataclass(frozen=True)
class Alternative:
    """Another span that also fits the question, with a little of its context."""

    answer: str
    context: str
    citation: Citation


@dataclass(frozen=True)
class Guess:
    """The model's best candidate: the span, its calibrated probability of being right, and
    the passage it lies in (`citation.answer_span` marks it)."""

    answer: str
    confidence: float
    citation: Citation


@dataclass(frozen=True)
class RankedPassage:
    """A retrieved passage with its BM25 score (for "more results")."""

    text: str
    score: float
    title: str
    citation: Citation
    on_topic: bool = True  # writes a key word of the question besides its places


@dataclass(frozen=True)
class Answer:
    """What the bot says, by `tier`, chosen by `confidence` (the calibrated probability that the
    best candidate is right):

    - **sure**: `answer` is stated, `citation` quotes its passage, `alternatives` its rivals;
    - **likely**: `answer` is None; `guess` (the best candidate) is offered with its passage
      (`citation`) and the same alternatives, to be checked;
    - **evidence**: no candidate is likely, but `citation` quotes the passage closest to the
      question (no span marked);
    - **none**: an abstention, `reason` says why (no citation).

    `best` is the model's best candidate whatever the tier (evaluation reads it: is the best
    candidate right, threshold aside); only a likely reply shows it.
    """

    question: str
    answer: str | None
    confidence: float
    kind: str
    citation: Citation | None
    lang: str = "zh"
    alternatives: list[Alternative] = field(default_factory=list)
    passages: list[RankedPassage] = field(default_factory=list)
    reason: str | None = None
    understood: str | None = None  # a follow-up (那张掖呢?) as completed from the conversation
    tier: Tier = "none"
    best: Guess | None = None

    @property
    def guess(self) -> Guess | None:
        """The answer a likely reply offers (None for the other tiers)."""
        return self.best if self.tier == "likely" else None

    @property
    def offered(self) -> str | None:
        """The answer the reply gives: the sure answer, or a likely reply's guess."""
        return self.answer if self.tier == "sure" else (self.guess.answer if self.guess else None)

    @property
    def quotes(self) -> bool:
        """The reply quotes a passage: a sure, likely or evidence reply."""
        return self.tier != "none" and self.citation is not None
