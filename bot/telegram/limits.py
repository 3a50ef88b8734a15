"""Per-user limits and bounded state: the sliding-window `RateLimit` and the `QuestionCache` LRU
behind "more" buttons."""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict, deque

QUESTION_CACHE_SIZE = 4096


class RateLimit:
    """At most `per_minute` actions per user in any 60 seconds (sliding window).

    `check` answers (allowed, warn): `warn` is True for the first refusal in a window, so the
    user is told once instead of being answered with a flood of refusals.
    """

    def __init__(self, per_minute: int, window: float = 60.0, max_users: int = 10_000):
        self.per_minute = per_minute
        self.window = window
        self.max_users = max_users
        self._hits: OrderedDict[int, deque[float]] = OrderedDict()
        self._warned: dict[int, float] = {}

    def check(self, user_id: int, now: float | None = None) -> tuple[bool, bool]:
        now = time.monotonic() if now is None else now
        hits = self._hits.pop(user_id, None) or deque()
        self._hits[user_id] = hits  # most recent last
        while len(self._hits) > self.max_users:
            old, _ = self._hits.popitem(last=False)
            self._warned.pop(old, None)
        while hits and now - hits[0] >= self.window:
            hits.popleft()
        if len(hits) < self.per_minute:
            hits.append(now)
            return True, False
        warned = self._warned.get(user_id)
        if warned is not None and now - warned < self.window:
            return False, False
        self._warned[user_id] = now
        return False, True


class QuestionCache:
    """A bounded LRU of questions under short random keys, for "more" buttons.

    Keys are random, so a button from before a restart is reported as expired instead of
    showing another question's passages.
    """

    def __init__(self, size: int = QUESTION_CACHE_SIZE):
        self.size = size
        self._items: OrderedDict[str, str] = OrderedDict()

    def put(self, question: str) -> str:
        key = secrets.token_urlsafe(6)
        while key in self._items:
            key = secrets.token_urlsafe(6)
        self._items[key] = question
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return key

    def get(self, key: str) -> str | None:
        question = self._items.get(key)
        if question is not None:
            self._items.move_to_end(key)
        return question

    def __len__(self) -> int:
        return len(self._items)
