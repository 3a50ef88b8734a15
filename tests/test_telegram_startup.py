"""End to end: starting the bot — `python -m bot`, and clean one-line errors without secrets."""

from __future__ import annotations

import socket
import sys

import pytest
from fake_bot_api import BotProcess, prepare_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("telegram-startup")
    data_dir, index_path = prepare_corpus(root)
    return root, data_dir, index_path


def test_python_m_bot_serves(fake, corpus):
    root, data_dir, index_path = corpus
    bot = BotProcess(
        fake, root, data_dir, index_path, command=[sys.executable, "-m", "bot"]
    ).start()
    try:
        fake.send_text(9501, "哈密有多少个服务站?")
        [reply] = fake.wait_for_messages(9501)
        assert "<b>285个服务站</b>" in reply.text
    finally:
        assert bot.stop() == 0
    assert fake.token not in bot.output()


def test_a_rejected_token_is_reported_without_the_token(fake, corpus):
    root, data_dir, index_path = corpus
    wrong = "654321:WRONG-tokenvalue-that-telegram-rejects"
    bot = BotProcess(fake, root, data_dir, index_path, token=wrong).start(ready=None)
    assert bot.wait(timeout=30) == 2
    output = bot.output()
    assert "error: Telegram rejected the bot token (QABOT_TELEGRAM_TOKEN)" in output
    assert wrong not in output and "WRONG-tokenvalue" not in output
    assert "Traceback" not in output


def test_an_unreachable_api_is_reported_without_the_token(fake, corpus):
    root, data_dir, index_path = corpus
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    bot = BotProcess(
        fake,
        root,
        data_dir,
        index_path,
        env={
            "QABOT_TELEGRAM_API_URL": f"http://127.0.0.1:{port}/bot",
            "QABOT_LOG_LEVEL": "WARNING",
        },
    ).start(ready=None)
    assert bot.wait(timeout=60) == 2
    output = bot.output()
    assert f"error: cannot run the bot at http://127.0.0.1:{port}/bot" in output
    assert fake.token not in output and fake.token.split(":")[1] not in output


def test_missing_token_and_missing_index(fake, corpus):
    root, data_dir, index_path = corpus
    no_token = BotProcess(fake, root, data_dir, index_path, env={"QABOT_TELEGRAM_TOKEN": ""})
    assert no_token.start(ready=None).wait(timeout=30) == 2
    assert "QABOT_TELEGRAM_TOKEN is not set" in no_token.output()

    no_index = BotProcess(fake, root, data_dir, root / "missing.json")
    assert no_index.start(ready=None).wait(timeout=30) == 2
    assert "error:" in no_index.stderr() and "missing.json" in no_index.stderr()
    assert fake.token not in no_index.output()
