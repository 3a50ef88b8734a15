"""End to end: the bot survives Bot API failures (5xx, 429, time-outs, blocked chats).

The bot runs at DEBUG log level here, so the check that the token never appears in its
output covers everything it and python-telegram-bot log while things go wrong.
"""

from __future__ import annotations

import time

import pytest
from fake_bot_api import BotProcess, FakeBotAPI, prepare_corpus

ANSWER = "<b>285个服务站</b>"
QUESTION = "哈密有多少个服务站?"


@pytest.fixture(scope="module")
def bot(fake, tmp_path_factory):
    root = tmp_path_factory.mktemp("telegram-faults")
    data_dir, index_path = prepare_corpus(root)
    process = BotProcess(fake, root, data_dir, index_path, env={"QABOT_LOG_LEVEL": "DEBUG"})
    yield process.start()
    process.stop()


@pytest.fixture(autouse=True)
def no_leftover_faults(fake):
    yield
    fake.clear_faults()


def ask(fake: FakeBotAPI, chat_id: int, text: str = QUESTION, timeout: float = 15.0):
    before = fake.count(chat_id)
    fake.send_text(chat_id, text)
    return fake.wait_for_messages(chat_id, after=before, timeout=timeout)[0]


def sends(fake: FakeBotAPI, chat_id: int):
    return [c for c in fake.calls("sendMessage") if c.params.get("chat_id") == chat_id]


def test_a_500_answer_is_retried(fake, bot):
    fake.add_fault("sendMessage", 500, chat_id=8001)
    assert ANSWER in ask(fake, 8001).text
    assert [c.status for c in sends(fake, 8001)] == [500, 200]


def test_persistent_5xx_is_logged_and_the_next_question_answered(fake, bot):
    fault = fake.add_fault("sendMessage", 502, chat_id=8002, times=3)
    fake.send_text(8002, QUESTION)
    fake.wait_for(
        lambda: fault.hits == 3 and all(c.status for c in sends(fake, 8002)), 15, "3 tries"
    )
    assert fake.count(8002) == 0
    assert ANSWER in ask(fake, 8002).text  # the bot is still there
    fake.wait_for(lambda: "Bad Gateway" in bot.stderr(), 5, "the failure in the log")


def test_429_waits_retry_after_then_sends(fake, bot):
    fake.add_fault("sendMessage", 429, retry_after=1, chat_id=8003)
    assert ANSWER in ask(fake, 8003).text
    first, second = sends(fake, 8003)
    assert (first.status, second.status) == (429, 200)
    assert second.time - first.time >= 1.0  # honoured retry_after
    assert ANSWER in ask(fake, 8003).text


def test_slow_api_does_not_hold_up_other_chats(fake, bot):
    fault = fake.add_fault("sendMessage", None, delay=2.5, chat_id=8010)
    started = time.time()
    fake.send_text(8010, QUESTION)
    fake.wait_for(lambda: fault.hits == 1, 10, "the slow send")
    assert ANSWER in ask(fake, 8011).text
    assert time.time() - started < 2.3  # answered while chat 8010's send was still pending
    [slow] = fake.wait_for_messages(8010)
    assert ANSWER in slow.text and slow.time - started >= 2.5


def test_a_timed_out_send_is_survived(fake, bot):
    fault = fake.add_fault("sendMessage", None, delay=6.0, chat_id=8004)  # > PTB's 5 s read timeout
    fake.send_text(8004, QUESTION)
    fake.wait_for(lambda: fault.hits == 1, 10, "the slow send")
    assert ANSWER in ask(fake, 8005).text  # others are answered meanwhile
    fake.wait_for(lambda: "Timed out" in bot.stderr(), 15, "the time-out in the log")
    fake.wait_for(lambda: all(c.status for c in sends(fake, 8004)), 10, "the slow call to end")
    assert len(sends(fake, 8004)) == 1  # not retried: it may have been delivered
    assert ANSWER in ask(fake, 8004).text


def test_a_blocked_chat_is_logged_and_others_answered(fake, bot):
    fake.add_fault(
        "sendMessage",
        403,
        description="Forbidden: bot was blocked by the user",
        chat_id=8006,
        times=None,
    )
    fake.send_text(8006, QUESTION)
    fake.wait_for(lambda: [c.status for c in sends(fake, 8006)] == [403], 10, "the refused send")
    assert ANSWER in ask(fake, 8007).text
    fake.send_text(8006, QUESTION)
    fake.wait_for(lambda: [c.status for c in sends(fake, 8006)] == [403, 403], 10, "a second try")
    fake.wait_for(lambda: "cannot write to chat 8006" in bot.stderr(), 5, "the log line")
    assert fake.count(8006) == 0


def test_a_rejected_reply_is_reported_to_the_user(fake, bot):
    fake.add_fault("sendMessage", 400, description="Bad Request: something odd", chat_id=8009)
    fake.send_text(8009, QUESTION)
    [notice] = fake.wait_for_messages(8009)
    assert "出了点问题" in notice.text and notice.parse_mode is None
    assert ANSWER in ask(fake, 8009).text


def test_get_updates_failures_are_retried(fake, bot):
    fault_500 = fake.add_fault("getUpdates", 500)
    fault_429 = fake.add_fault("getUpdates", 429, retry_after=1)
    assert ANSWER in ask(fake, 8008).text  # returned by the poll already waiting
    fake.wait_for(lambda: fault_500.hits and fault_429.hits, 15, "the failing polls")
    assert ANSWER in ask(fake, 8008, timeout=20).text  # polling recovered


def test_callback_query_answer_failure_is_survived(fake, bot):
    answer = ask(fake, 8012)
    fake.add_fault("answerCallbackQuery", 500, times=3)
    fake.press_button(answer)
    fake.wait_for(lambda: len(fake.calls("answerCallbackQuery")) >= 3, 15, "3 tries")
    assert ANSWER in ask(fake, 8012).text


def test_clean_shutdown_and_token_never_printed(fake, bot):
    assert bot.stop() == 0
    output = bot.output()
    assert "DEBUG" in output  # the debug log was on
    assert "bot***" in output  # PTB logs the API URL; the token in it is redacted
    assert fake.token not in output and fake.token.split(":")[1] not in output
