"""The question-answering service the CLI and the bot share: load, answer, rebuild and swap.

A rebuild builds a complete new index on the side and swaps it in with one assignment, so
questions being answered keep the old `Answerer` until they finish and nothing is dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from bot.conversation import FollowUps
from bot.qa.answerer import Answerer
from bot.qa.dictionaries import prepare_dictionaries
from bot.qa.result import Answer
from index.search import Hit
from index.store import ArticleRecord, IndexUnavailable, StoredIndex, load_index

if TYPE_CHECKING:  # the build (ingest, HTML, encodings) is imported when one is asked for
    from index.build import BuildProgress, BuildReport


@dataclass(frozen=True)
class SourceInfo:
    """An indexed article as listed by `/sources` and `qabot sources`."""

    title: str
    date: str | None
    source: str | None
    path: str
    passages: int


class QAService:
    """Holds the current answerer; `rebuild()` replaces it atomically."""

    def __init__(self, data_dir: Path, index_path: Path):
        self.data_dir = Path(data_dir)
        self.index_path = Path(index_path)
        self._answerer: Answerer | None = None
        self._build_lock = threading.Lock()
        self._follow_ups: FollowUps | None = None

    @property
    def answerer(self) -> Answerer:
        """The current answerer, loading the index on first use (raises IndexUnavailable)."""
        answerer = self._answerer
        if answerer is None:
            answerer = Answerer(load_index(self.index_path))
            self._answerer = answerer
        return answerer

    def load(self, verify: bool = False) -> None:
        """Open the index now, so a missing or corrupt one is reported before any question;
        `verify` also reads it through once (for long-running processes: the bot, a chat)."""
        index = self.answerer.index
        if verify and isinstance(index, StoredIndex):
            index.verify()

    def ask(self, question: str, top_k: int = 5) -> Answer:
        return self.answerer.answer(question, top_k=top_k)

    @property
    def follow_ups(self) -> FollowUps:
        """Each conversation's previous question (created on first use)."""
        if self._follow_ups is None:
            self._follow_ups = FollowUps(
                read=lambda text: self.answerer.reader.read(text),
                english_places=lambda words: bool(
                    self.answerer.lexicon.read(words, within_chinese=True).names
                ),
            )
        return self._follow_ups

    def ask_in(self, conversation: Hashable, question: str, top_k: int = 5) -> Answer:
        """Answer `question` as part of a conversation: an elliptical follow-up (`那张掖呢?`)
        is completed from the conversation's previous question, and the answer says so."""
        understood = self.follow_ups.understand(conversation, question)
        answer = self.ask(understood.text, top_k=top_k)
        if answer.reason in {"empty", "small_talk"}:
            return answer  # no question: the conversation's context stays as it was
        self.follow_ups.remember(conversation, understood.text)
        if understood.follow_up:
            answer = replace(answer, understood=understood.text)
        return answer

    def search(self, query: str, top_k: int = 5) -> list[Hit]:
        return self.answerer.searcher.search(query, top_k=top_k)

    def sources(self) -> list[SourceInfo]:
        index = self.answerer.index
        counts = index.passage_counts()
        return [_source(record, counts[i]) for i, record in enumerate(index.articles)]

    def indexed(self) -> list[ArticleRecord] | None:
        """The indexed articles (to tell an article being added from those there), or None
        when there is no usable index."""
        try:
            return list(self.answerer.index.articles)
        except IndexUnavailable:
            return None

    def remove(
        self, names: list[str], progress: Callable[[BuildProgress], None] | None = None
    ) -> tuple[list[str], BuildReport]:
        """Delete the articles `names` mean from the data folder (all checked first; see
        `index.remove`), then rebuild, so they no longer answer. Returns their paths relative
        to the data folder and the build's report; raises `RemoveError`."""
        from index.remove import remove_articles

        with self._build_lock:  # not while a rebuild reads the folder
            removed = remove_articles(names, self.data_dir)
        return removed, self.rebuild(progress)

    def rebuild(self, progress: Callable[[BuildProgress], None] | None = None) -> BuildReport:
        """Build (incrementally) and swap the new index in; one rebuild at a time."""
        from index.build import build_index

        with self._build_lock:
            _, report = build_index(self.data_dir, self.index_path, progress)
            self._answerer = Answerer(load_index(self.index_path))  # served from the file
        prepare_dictionaries()  # once per machine: the first question need not wait
        return report


def _source(record: ArticleRecord, passages: int) -> SourceInfo:
    return SourceInfo(record.title, record.date, record.source, record.path, passages)
