"""Follow-up questions: `那张掖呢?` after `哈密划了多少地给部队?` is understood as
`张掖划了多少地给部队?`, from the previous question of the same conversation.

An elliptical question names only what changes (a place, a year, or the thing asked about,
`它的面积呢?`, `And Zhangye?`); the rest (the kind asked, the unit, the topic words) comes from
the previous question, rewritten as text so the user sees what was understood and everything
downstream reads an ordinary question. A question that stands on its own starts afresh, and a
conversation forgets after a few minutes. Shared by `qabot chat` and the Telegram bot.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from bot.qa.question import YEAR_RE, Question, clean_question

FOLLOW_UP_SECONDS = 300.0  # a conversation's memory
MAX_CONVERSATIONS = 10_000  # the least recently active are forgotten first
MAX_FRAGMENT_CHARS = 12  # 那张掖呢 names a place or a year, not a whole new question
MAX_FRAGMENT_WORDS = 4

ENDINGS = "?？!！。.，,~～ "
CHINESE_FOLLOW_UP_RE = re.compile(
    r"^(?:那么|那|还有|另外|换成|换个)?\s*(?P<what>.+?)\s*(?:的话)?\s*(?:呢|怎么样|咋样|如何)$"
)
ENGLISH_FOLLOW_UP_RE = re.compile(
    r"^(?:and|what about|how about|and what about|and how about|same for|what of)\s+(?P<what>.+)$",
    re.IGNORECASE,
)
# "它的面积", "its area": the thing asked about, of the place asked about before
POSSESSIVE_RE = re.compile(
    r"^(?:它的|它们的|其|该地的|那里的|那儿的|当地的|its|their|the)\s*", re.I
)
IN_YEAR_RE = re.compile(r"^(?:in|for|during)\s+", re.IGNORECASE)
YEAR_WORD_RE = re.compile(r"^(?P<year>(?:19|20)\d{2})\s*年?(?:度)?$")
CAPITALISED_RUN_RE = re.compile(r"[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")
LATIN_RE = re.compile(r"[A-Za-z]")


@dataclass(frozen=True)
class Understood:
    """The question to answer and whether it was completed from the conversation."""

    text: str
    follow_up: bool = False


class FollowUps:
    """Completes elliptical questions from each conversation's previous question.

    `read` reads a question against the index (places, years), `place_of` says which
    capitalised English words name a place; keys are whatever identifies a conversation
    (a chat, or a chat and a user in a group)."""

    def __init__(
        self,
        read: Callable[[str], Question],
        english_places: Callable[[str], bool],
        memory_seconds: float = FOLLOW_UP_SECONDS,
    ):
        self._read = read
        self._english_place = english_places
        self.memory_seconds = memory_seconds
        self._last: OrderedDict[Hashable, tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def understand(self, key: Hashable, text: str, now: float | None = None) -> Understood:
        """`text` as a question of its own, or completed from the conversation's last one."""
        now = time.monotonic() if now is None else now
        with self._lock:
            last = self._last.get(key)
        if last is None or now - last[1] > self.memory_seconds:
            return Understood(text)
        completed = self.complete(last[0], text)
        return Understood(completed, True) if completed else Understood(text)

    def remember(self, key: Hashable, understood: str, now: float | None = None) -> None:
        """The question just answered (as understood) becomes the conversation's context."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._last[key] = (understood, now)
            self._last.move_to_end(key)
            while len(self._last) > MAX_CONVERSATIONS:
                self._last.popitem(last=False)

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._last.pop(key, None)

    # ------------------------------------------------------------ rewriting

    def complete(self, previous: str, text: str) -> str | None:
        """`previous` with what `text` changes, or None when `text` is not a follow-up."""
        fragment, english = _fragment(clean_question(text))
        if fragment is None:
            return None
        topic = POSSESSIVE_RE.match(fragment)
        if topic:
            return self._with_topic(previous, fragment[topic.end() :], english)
        year = YEAR_WORD_RE.match(IN_YEAR_RE.sub("", fragment))
        if year:
            return _with_year(previous, year.group("year"))
        if self._names_place(fragment):
            return self._with_place(previous, fragment)
        return None

    def _names_place(self, fragment: str) -> bool:
        if LATIN_RE.search(fragment):
            return self._english_place(fragment)
        question = self._read(fragment)  # only a place: 那张掖有多少个呢 is a question of its own
        places = {p.text for p in question.places}
        if places and all(term.text in places for term in question.terms):
            return True
        unknown = sum(len(name) for name in question.unknown_names)  # a name no article writes
        return unknown > 0 and unknown >= len(question.normalized.strip(ENDINGS)) - 1

    def _places_in(self, previous: str) -> list[str]:
        """The places `previous` names, as written there, in order."""
        if LATIN_RE.search(previous):
            runs = CAPITALISED_RUN_RE.findall(previous)
            return [run for run in runs if self._english_place(run)]
        question = self._read(previous)
        written = [p.text for p in question.places if p.text in previous]
        return sorted(written, key=previous.index)

    def _with_place(self, previous: str, place: str) -> str:
        places = self._places_in(previous)
        if not places:
            return f"{place} {previous}" if LATIN_RE.search(place) else place + previous
        last = places[-1]  # 甘肃张掖: the most specific place is written last
        at = previous.rindex(last)
        return previous[:at] + place + previous[at + len(last) :]

    def _with_topic(self, previous: str, topic: str, english: bool) -> str | None:
        topic = topic.strip()
        if not topic:
            return None
        places = self._places_in(previous)
        if english:
            where = f" of {' '.join(places)}" if places else ""
            return f"What is the {topic}{where}?"
        return f"{''.join(places)}的{topic}是多少？" if places else f"{topic}是多少？"


def _fragment(text: str) -> tuple[str | None, bool]:
    """What an elliptical question names (`张掖` of `那张掖呢?`), and whether it is English."""
    stripped = text.strip(ENDINGS)
    english = ENGLISH_FOLLOW_UP_RE.match(stripped)
    if english:
        what = english.group("what").strip(ENDINGS)
        return (what, True) if 0 < len(what.split()) <= MAX_FRAGMENT_WORDS else (None, True)
    chinese = CHINESE_FOLLOW_UP_RE.match(stripped)
    if chinese:
        what = chinese.group("what").strip(ENDINGS).removesuffix("的")
        if 0 < len(what) <= MAX_FRAGMENT_CHARS:
            return what, False
    return None, False


def _with_year(previous: str, year: str) -> str:
    if YEAR_RE.search(previous):
        return YEAR_RE.sub(year, previous, count=1)
    if LATIN_RE.search(previous) and not re.search(r"[\u4e00-\u9fff]", previous):
        return f"{previous.rstrip(ENDINGS)} in {year}?"
    return f"{year}年{previous}"
