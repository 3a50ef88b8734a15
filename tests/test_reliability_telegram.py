"""Telegram faults and load: the bot keeps serving and loses no question it could answer.

tests/test_telegram_faults.py covers each Bot API fault on its own (500, persistent 502, 429
with retry_after, a slow API, a time-out, a blocked chat, failing polls, a failing callback
answer). Here: all of them at once while questions flow; a network drop (the fake server
stopped, its open connections cut, and restarted on the same port, twice); a burst of
questions at start-up; a /reindex that fails; the retry policy itself; and a reduced soak
(bench/soak.py runs the full one: `make soak`).
"""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from fake_bot_api import BotProcess, FakeBotAPI, _Handler, _Server, prepare_corpus
from telegram.error import NetworkError, TimedOut

import bot.telegram.retry as telegram_module
from bot.telegram import RetryingRateLimiter, not_sent

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `bench` is not an installed package
    sys.path.insert(0, str(REPO))
from bench import soak  # noqa: E402

ADMIN = 31337
QUESTION = "哈密有多少个服务站?"
ANSWER = "<b>285个服务站</b>"


class _TrackingServer(_Server):
    """The fake's HTTP server, remembering open connections so a drop can cut them."""

    def __init__(self, *args, **kwargs):
        self.open_connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request, client_address):
        with self.connections_lock:
            self.open_connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.connections_lock:
            self.open_connections.discard(request)
        super().shutdown_request(request)


class DroppableBotAPI(FakeBotAPI):
    """A fake Bot API whose network can go away (`drop`) and come back on the same port
    (`restore`); updates sent meanwhile wait for the bot, as Telegram keeps them."""

    def __init__(self):
        super().__init__()
        self._server.server_close()  # replaced by one that tracks its connections
        self._serve(0)

    def _serve(self, port: int) -> None:
        self._server = _TrackingServer(("127.0.0.1", port), _Handler)
        self._server.api = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def drop(self) -> None:
        server = self._server
        server.shutdown()
        server.server_close()  # new connections are refused
        with server.connections_lock:
            connections = list(server.open_connections)
        for connection in connections:  # open ones (a long poll, a send) are cut
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def restore(self) -> None:
        port = self.port
        self._serve(port)
        self._thread.start()


@pytest.fixture(scope="module")
def fake():
    api = DroppableBotAPI()
    with api:
        yield api


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("telegram-reliability")
    data_dir, index_path = prepare_corpus(root)
    return root, data_dir, index_path


@pytest.fixture(scope="module")
def bot(fake, corpus):
    root, data_dir, index_path = corpus
    env = {"QABOT_ADMIN_IDS": str(ADMIN), "QABOT_RATE_LIMIT_PER_MINUTE": "1000"}
    process = BotProcess(fake, root, data_dir, index_path, env=env).start()
    yield process
    process.stop()


@pytest.fixture(autouse=True)
def no_leftover_faults(fake):
    yield
    fake.clear_faults()


def ask(fake: FakeBotAPI, chat_id: int, text: str = QUESTION, timeout: float = 20.0):
    before = fake.count(chat_id)
    fake.send_text(chat_id, text)
    return fake.wait_for_messages(chat_id, after=before, timeout=timeout)[0]


# ---------------------------------------------------------------------- start-up burst (first!)


def test_a_burst_of_english_questions_at_start_up_loads_the_lexicon_once(fake, bot):
    """Before the fix each of these loaded CC-CEDICT in its own thread (6 at once here):
    8 s and +300 MB that the process kept. They now wait for the warm-up."""
    chats = range(40_000, 40_016)
    for chat in chats:
        fake.send_text(chat, "How many service stations does Hami have?")
    fake.wait_for(lambda: all(fake.count(c) for c in chats), 60, "16 answers")
    # each answered once, in English (the figure, or an English "the articles do not say")
    assert all(
        "<b>285" in fake.messages(c)[0].text or "Sorry" in fake.messages(c)[0].text for c in chats
    )
    peak = soak.memory_kb(bot.process.pid)["VmHWM"]
    print(f"\nbot peak RSS after a start-up burst of 16 English questions: {peak / 1024:.0f} MB")
    assert peak < 350 * 1024


# ---------------------------------------------------------------------- many faults at once


def test_every_fault_at_once_while_questions_flow(fake, bot):
    kinds = {
        "500 once": dict(status=500),
        "502 twice": dict(status=502, times=2),
        "429 retry_after": dict(status=429, retry_after=1),
        "slow 1.5 s": dict(status=None, delay=1.5),
        "fine": None,
    }
    chats: dict[int, str] = {}
    for number in range(40):
        kind = list(kinds)[number % len(kinds)]
        chat = 41_000 + number
        chats[chat] = kind
        if kinds[kind]:
            fake.add_fault("sendMessage", chat_id=chat, **kinds[kind])
    blocked = 41_999
    fake.add_fault("sendMessage", 403, chat_id=blocked, times=None)
    fake.add_fault("getUpdates", 500)
    fake.add_fault("getUpdates", 429, retry_after=1)
    for chat in chats:
        fake.send_text(chat, QUESTION)
    fake.send_text(blocked, QUESTION)
    fake.wait_for(lambda: all(fake.count(c) for c in chats), 60, "an answer in every chat")
    time.sleep(1.0)
    for chat, kind in chats.items():
        replies = fake.messages(chat)
        assert len(replies) == 1 and ANSWER in replies[0].text, (kind, replies)
    assert fake.count(blocked) == 0
    assert ANSWER in ask(fake, 41_500).text  # and it goes on


# ---------------------------------------------------------------------- a network drop


def test_a_network_drop_loses_no_question(fake, bot):
    """Replies on the wire when the network goes (their connection cut; the fake had not
    taken them), and questions sent while it is away, are all answered once it is back."""
    duplicates = 0
    for round_, outage in enumerate((1.0, 3.0)):
        base = 42_100 + 100 * round_
        in_flight = range(base, base + 10)
        while_down = range(base + 10, base + 30)
        for chat in in_flight:  # the fake holds each reply 1 s (then refuses it: not taken)
            fake.add_fault("sendMessage", 500, delay=1.0, chat_id=chat)
            fake.send_text(chat, QUESTION)
        fake.wait_for(
            lambda chats=in_flight: all(
                any(c.params.get("chat_id") == chat for c in fake.calls("sendMessage"))
                for chat in chats
            ),
            20,
            "the replies on the wire",
        )
        fake.drop()
        for chat in while_down:
            fake.send_text(chat, QUESTION)
        time.sleep(outage)  # longer than the quick retries a failed send used to get
        fake.restore()
        chats = [*in_flight, *while_down]
        fake.wait_for(lambda chats=chats: all(fake.count(c) for c in chats), 60, "every answer")
        time.sleep(0.5)
        for chat in chats:
            replies = fake.messages(chat)
            assert all(ANSWER in reply.text for reply in replies), chat
            duplicates += len(replies) - 1
    print(f"\nnetwork drops of 1 s and 3 s: 60 questions answered, {duplicates} duplicates")
    assert duplicates == 0
    assert ANSWER in ask(fake, 42_999).text


# ---------------------------------------------------------------------- a failing /reindex


def test_a_failed_reindex_is_reported_and_the_old_index_keeps_answering(fake, bot, corpus):
    root, data_dir, _ = corpus
    moved = root / "articles-away"
    data_dir.rename(moved)
    try:
        before = fake.count(ADMIN)
        fake.send_text(ADMIN, "/reindex")
        [status] = fake.wait_for_messages(ADMIN, after=before)

        def outcome():
            current = next(m for m in fake.messages(ADMIN) if m.message_id == status.message_id)
            return current.text if "失败" in current.text else None

        text = fake.wait_for(outcome, 30, "the reindex outcome")
        assert text.startswith("重建索引失败：找不到 ") and str(data_dir) in text
        assert "does not exist" not in text  # all in the admin's language
        assert "\n" not in text and "Traceback" not in text
        assert ANSWER in ask(fake, 43_000).text
    finally:
        moved.rename(data_dir)
    status = ask(fake, ADMIN, "/reindex")
    fake.wait_for(
        lambda: any("索引已更新" in m.text for m in fake.messages(ADMIN)), 30, "a good reindex"
    )
    assert ANSWER in ask(fake, 43_001).text and status


def test_clean_shutdown_after_all_that(fake, bot):
    assert bot.stop() == 0
    output = bot.output()
    assert "Traceback" not in output
    assert fake.token not in output and fake.token.split(":")[1] not in output


# ---------------------------------------------------------------------- the retry policy


def connect_error() -> NetworkError:
    error = NetworkError("httpx.ConnectError: All connection attempts failed")
    error.__cause__ = httpx.ConnectError("All connection attempts failed")
    return error


def read_timeout() -> TimedOut:
    error = TimedOut()
    error.__cause__ = httpx.ReadTimeout("timed out")
    return error


def connect_timeout() -> TimedOut:
    error = TimedOut()
    error.__cause__ = httpx.ConnectTimeout("timed out")
    return error


def server_error() -> NetworkError:
    return NetworkError("Internal Server Error")


@pytest.fixture
def pauses(monkeypatch):
    taken: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(delay, result=None):
        taken.append(delay)
        await real_sleep(0)
        return result

    monkeypatch.setattr(telegram_module.asyncio, "sleep", sleep)
    return taken


async def attempt(errors: list[Exception], endpoint: str = "sendMessage"):
    """Calls through the limiter; the first len(errors) calls fail with these errors."""
    calls = []

    async def callback(*args, **kwargs):
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return "sent"

    limiter = RetryingRateLimiter(max_retries=3)
    try:
        result = await limiter.process_request(callback, (), {}, endpoint, {"chat_id": 1}, None)
    except Exception as exc:  # noqa: BLE001 - returned for the assertions
        result = exc
    return result, len(calls)


def test_which_failures_were_not_sent():
    assert not_sent(connect_error()) and not_sent(connect_timeout())
    assert not not_sent(read_timeout()) and not not_sent(server_error())


async def test_an_unreachable_api_is_retried_until_it_is_back(pauses):
    result, calls = await attempt([connect_error()] * 8)
    assert (result, calls) == ("sent", 9)
    assert pauses == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0, 5.0]  # backs off, up to 5 s


async def test_an_unreachable_api_is_given_up_after_the_patience(pauses, monkeypatch):
    monkeypatch.setattr(telegram_module, "UNSENT_PATIENCE", 0.0)
    result, calls = await attempt([connect_error()] * 8)
    assert isinstance(result, NetworkError) and calls == 1


async def test_a_5xx_is_retried_twice_and_a_connect_time_out_like_a_drop(pauses):
    result, calls = await attempt([server_error()] * 5)
    assert isinstance(result, NetworkError) and calls == 3
    result, calls = await attempt([server_error(), connect_error(), server_error()])
    assert (result, calls) == ("sent", 4)
    result, calls = await attempt([connect_timeout()] * 3)
    assert (result, calls) == ("sent", 4)


async def test_a_read_time_out_and_start_up_calls_are_not_retried(pauses):
    result, calls = await attempt([read_timeout()])
    assert isinstance(result, TimedOut) and calls == 1  # it may have been delivered
    result, calls = await attempt([connect_error()], endpoint="getMe")
    assert isinstance(result, NetworkError) and calls == 1  # PTB's bootstrap retries these


# ---------------------------------------------------------------------- a reduced soak


@pytest.mark.slow  # ~30 s: `make test-slow` (and `make soak`, the full one)
def test_reduced_soak_every_message_answered_exactly_once():
    """500 messages from 50 chats (the full 5,000 from 200: `make soak`, docs/RELIABILITY.md)."""
    result = soak.run(messages=500, chats=50, window=100, log=lambda line: None)
    print(f"\n{soak.render(result)}")
    assert result["answered"] == result["replies_expected"] >= 500
    assert (result["lost"], result["duplicated"], result["wrong"]) == (0, 0, 0)
    assert result["exit_status"] == 0 and result["errors_logged"] == 0
    assert result["rss_end_kb"] < result["rss_start_kb"] + 50 * 1024  # no growth to speak of
