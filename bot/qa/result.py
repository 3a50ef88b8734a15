"""What the answerer returns: an answer (or an abstention), its citation, alternatives, passages."""

from __future__ import annotations

from dataclasses import dataclass, field


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
class RankedPassage:
    """A retrieved passage with its BM25 score (for "more results")."""

    text: str
    score: float
    title: str
    citation: Citation
    on_topic: bool = True  # writes a key word of the question besides its places


@dataclass(frozen=True)
class Answer:
    """What the bot says: `answer` is None when it abstains; `confidence` is the calibrated
    probability that the answer is right."""

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
