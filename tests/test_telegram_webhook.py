"""End to end: webhook mode (QABOT_WEBHOOK_URL), long replies split under 4,096 characters."""

from __future__ import annotations

import json
import signal
import socket
import time

import httpx
import pytest
from fake_bot_api import BotProcess, FakeBotAPI, check_html, prepare_corpus, utf16_len, visible_text

SECRET = "hook-Secret_123"
ADMIN = 77
EXTRA_ARTICLES = 70


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def extra_articles() -> dict[str, str]:
    """Many small articles with long titles, so /sources needs more than one message."""
    articles = {}
    for number in range(1, EXTRA_ARTICLES + 1):
        title = f"第{number}号双拥示范县巡礼：军民同心共筑边疆长城 鱼水情深谱写时代新篇章 <{number}> & 更多"
        body = (
            f"{title}\n2024-03-{number % 28 + 1:02d} 来源：测试日报\n\n"
            f"示范县{number}号累计为驻军部队办理实事{number * 3}件，建成拥军服务站{number}个。"
            "军地双方携手推进共建共治，群众满意度持续提升。\n"
        )
        articles[f"extra-{number:03d}.txt"] = body
    return articles


@pytest.fixture(scope="module")
def webhook_port():
    return free_port()


@pytest.fixture(scope="module")
def health_port():
    return free_port()


@pytest.fixture(scope="module")
def bot(fake, webhook_port, health_port, tmp_path_factory):
    root = tmp_path_factory.mktemp("telegram-webhook")
    data_dir, index_path = prepare_corpus(root, extra_articles())
    env = {
        "QABOT_WEBHOOK_URL": f"http://127.0.0.1:{webhook_port}/tg-hook",
        "QABOT_WEBHOOK_LISTEN": "127.0.0.1",
        "QABOT_WEBHOOK_PORT": str(webhook_port),
        "QABOT_WEBHOOK_SECRET": SECRET,
        "QABOT_ADMIN_IDS": str(ADMIN),
        "QABOT_HEALTH_PORT": str(health_port),
    }
    process = BotProcess(fake, root, data_dir, index_path, env=env).start(
        ready="setWebhook", port=webhook_port
    )
    yield process
    process.stop()


ask = FakeBotAPI.ask  # ask(fake, chat_id, text): the bot's next message in that chat


def test_webhook_registered_with_secret_and_updates(fake, bot, webhook_port):
    assert fake.webhook["url"] == f"http://127.0.0.1:{webhook_port}/tg-hook"
    assert fake.webhook["secret_token"] == SECRET
    assert set(fake.webhook["allowed_updates"]) == {"message", "callback_query", "inline_query"}
    assert not fake.calls("getUpdates")  # no polling in webhook mode


def test_question_answered_through_the_webhook(fake, bot):
    reply = ask(fake, 9001, "哈密有多少个服务站?")
    assert "<b>285个服务站</b>" in reply.text and "<blockquote>" in reply.text
    assert fake.webhook_deliveries and all(status == 200 for _, status in fake.webhook_deliveries)

    money = ask(fake, 9001, "张掖投入了多少资金?")
    assert "<b>1.6亿元</b>" in money.text
    query = fake.press_button(money)  # a callback query ("more") through the webhook
    assert fake.callback_answer(query)["answered"]
    fake.wait_for(lambda: money.edits, 15, "the answer edited into a page")
    assert "相关段落" in money.text


def test_health_endpoint_answers_while_the_bot_runs(bot, health_port, webhook_port):
    # the webhook server is up; the health server starts in post_init, a moment before it
    url = f"http://127.0.0.1:{health_port}/healthz"
    with httpx.Client(trust_env=False, timeout=5) as client:
        for _ in range(100):
            try:
                response = client.get(url)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        body = response.json()
        assert body["status"] == "ok" and body["mode"] == "webhook"
        assert body["articles"] == EXTRA_ARTICLES + 2 and body["passages"] >= EXTRA_ARTICLES
        assert isinstance(body["uptime"], int) and body["uptime"] >= 0
        # the health check is not on the webhook's port, nor the webhook on the health port
        assert client.get(f"http://127.0.0.1:{webhook_port}/healthz").status_code == 404
        assert client.post(f"http://127.0.0.1:{health_port}/tg-hook").status_code == 405


def test_webhook_calls_without_the_secret_are_refused(fake, bot, webhook_port):
    update = {
        "update_id": 999999,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 9002, "type": "private", "first_name": "x"},
            "from": {"id": 9002, "is_bot": False, "first_name": "x"},
            "text": "哈密有多少个服务站?",
        },
    }
    url = f"http://127.0.0.1:{webhook_port}/tg-hook"
    with httpx.Client(trust_env=False, timeout=5) as client:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
            response = client.post(url, content=json.dumps(update), headers=headers)
            assert response.status_code == 403
    assert fake.count(9002) == 0


def test_long_reply_is_split_with_balanced_html(fake, bot):
    before = fake.count(9003)
    fake.send_text(9003, "/sources")
    fake.wait_for_messages(9003, 2, after=before)
    fake.wait_for(
        lambda: f"{EXTRA_ARTICLES}号" in visible_text(fake.messages(9003)[-1].text),
        10,
        "the last part",
    )
    parts = fake.messages(9003)[before:]
    assert len(parts) >= 2
    for part in parts:
        assert utf16_len(part.text) <= 4096
        assert check_html(part.text) is None
        assert part.text.count("<b>") == part.text.count("</b>")
    shown = "".join(visible_text(p.text) for p in parts)
    assert f"收录的文章（{EXTRA_ARTICLES + 2} 篇）" in shown
    positions = [shown.index(f"第{n}号双拥示范县巡礼") for n in range(1, EXTRA_ARTICLES + 1)]
    assert positions == sorted(positions)  # every title, in order, none cut away
    assert f"<{EXTRA_ARTICLES}> & 更多" in shown  # user-visible text escaped, not lost


def test_link_to_a_private_address_is_refused_by_default(fake, bot):
    url = fake.add_page("news/local.html", b"<html><body><p>x</p></body></html>")
    status = ask(fake, ADMIN, url)
    fake.wait_for(lambda: "内网地址" in fake.messages(ADMIN)[-1].text, 15, "the refusal")
    refusal = fake.messages(ADMIN)[-1].text
    assert "无法添加" in refusal and "QABOT_ALLOW_PRIVATE_FETCH=true" in refusal and status


def test_sigint_stops_cleanly_without_secrets_in_output(fake, bot):
    assert bot.stop(signal.SIGINT) == 0
    output = bot.output()
    assert "is answering (webhook)" in output
    assert fake.token not in output and SECRET not in output
    assert "Traceback" not in output
    assert "ERROR" not in output  # nothing went wrong on the way
