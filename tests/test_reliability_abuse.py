"""Abuse: nobody is let in who should not be, and nothing gets out that should not.

Already covered elsewhere (see docs/RELIABILITY.md for the full map): non-admins refused for
/reindex, files and links, the allow-list (tests/test_telegram_admin.py); safe file names,
http(s) only, loopback and private addresses, redirects, page size, type and time-out
(tests/test_add.py); the per-user rate limit on questions (tests/test_telegram_chat.py);
the token kept out of logs at DEBUG level and of start-up errors (tests/test_telegram_*.py).

Here: the same through the bot with hostile names and lying sizes, refusals in groups, a
failing download, the rate limit on "more" buttons, a page that drips one byte at a time,
a host name that resolves to a public address and then connects to a loopback one (DNS
rebinding), and network errors logged in one line.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fake_bot_api import BotProcess, FakeBotAPI, check_html, prepare_corpus
from telegram.error import BadRequest, NetworkError

from bot.telegram import RedactSecrets
from index.add import AddError, fetch_url

ADMIN = 4242
STRANGER = 4343
ARTICLE = (
    "玉门：石油城里的拥军情\n2024-07-01 来源：玉门日报\n\n"
    "玉门市共建成拥军服务站37个，累计投入资金8600万元，军民共建成果丰硕。\n"
)
OUTCOMES = ("已添加", "无法添加")


class BrokenDownloads(FakeBotAPI):
    """getFile hands out a path the file server does not have, for files named 'broken*';
    downloading it is a 404 with Telegram's JSON error."""

    def _handle(self, verb, raw_path, headers, body):
        if raw_path.endswith("/documents/gone"):
            error = {"ok": False, "error_code": 404, "description": "Not Found"}
            return 404, "application/json", json.dumps(error).encode()
        return super()._handle(verb, raw_path, headers, body)

    def _api_getfile(self, params, headers):
        result = super()._api_getfile(params, headers)
        if any(
            doc["file_name"].startswith("broken") and doc["file_id"] == params.get("file_id")
            for _, _, doc in self._files.values()
        ):
            result["file_path"] = "documents/gone"
        return result


@pytest.fixture(scope="module")
def fake():
    with BrokenDownloads() as api:
        yield api


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("abuse")
    data_dir, index_path = prepare_corpus(root)
    return root, data_dir, index_path


@pytest.fixture(scope="module")
def bot(fake, corpus):
    root, data_dir, index_path = corpus
    env = {
        "QABOT_ADMIN_IDS": str(ADMIN),
        "QABOT_MAX_UPLOAD_BYTES": "20000",
        "QABOT_RATE_LIMIT_PER_MINUTE": "5",
        "QABOT_LOG_LEVEL": "DEBUG",
    }
    process = BotProcess(fake, root, data_dir, index_path, env=env).start()
    yield process
    process.stop()


def outcome(fake: FakeBotAPI, status, timeout: float = 30) -> str:
    def done():
        current = next(
            m for m in fake.messages(status.chat_id) if m.message_id == status.message_id
        )
        return current.text if any(word in current.text for word in OUTCOMES) else None

    return fake.wait_for(done, timeout, f"the outcome of {status.text!r}")


def upload(fake: FakeBotAPI, chat: int, name: str, content: bytes, **kwargs):
    before = fake.count(chat)
    fake.send_document(chat, name, content, **kwargs)
    return fake.wait_for_messages(chat, after=before)[0]


def files_under(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_an_uploaded_name_cannot_escape_the_data_folder(fake, bot, corpus):
    root, data_dir, _ = corpus
    before = files_under(root)
    status = upload(fake, ADMIN, "../../../escape.txt", ARTICLE.encode())
    assert "已添加《玉门：石油城里的拥军情》" in outcome(fake, status)
    added = sorted(set(files_under(root)) - set(before))
    assert added == ["articles/escape.txt"]  # inside the data folder, nowhere else


def test_a_lying_file_size_does_not_get_a_large_file_in(fake, bot, corpus):
    _, data_dir, _ = corpus
    before = files_under(data_dir)
    big = (ARTICLE * 400).encode()  # 60 KB, limit 20 KB, but the message says 100 bytes
    status = upload(fake, ADMIN, "big.txt", big, file_size=100)
    assert "无法添加 big.txt：文件太大（67200 字节，上限 20000 字节）" in outcome(fake, status)
    assert files_under(data_dir) == before


def test_a_failed_download_is_reported_without_the_token(fake, bot):
    status = upload(fake, ADMIN, "broken.txt", ARTICLE.encode())
    text = outcome(fake, status)
    assert text.startswith("无法添加 broken.txt：") and fake.token not in text


def test_strangers_are_refused_in_groups_too(fake, bot, corpus):
    _, data_dir, _ = corpus
    before = files_under(data_dir)
    group = -4400
    for text in ("/reindex", "/reindex@QabotTestBot"):
        count = fake.count(group)
        fake.send_text(group, text, user_id=STRANGER)
        [reply] = fake.wait_for_messages(group, after=count)
        assert "只有管理员可以重建索引" in reply.text
    url = fake.add_page("news/yumen.html", b"<html><body><p>x</p></body></html>")
    count = fake.count(group)
    fake.send_text(group, f"@QabotTestBot {url}", user_id=STRANGER)
    [reply] = fake.wait_for_messages(group, after=count)
    assert "只有管理员可以添加文章" in reply.text
    fake.send_document(group, "x.txt", ARTICLE.encode(), user_id=STRANGER)  # ignored in groups
    time.sleep(0.5)
    assert fake.count(group) == count + 1 and files_under(data_dir) == before
    assert not [c for c in fake.calls("getFile") if c.params["file_id"].endswith(str(group))]


def test_other_schemes_are_never_fetched(fake, bot, corpus):
    _, data_dir, _ = corpus
    before = files_under(data_dir)
    for text in ("file:///etc/passwd", "ftp://example.com/a.html", "gopher://127.0.0.1:70/"):
        count = fake.count(ADMIN)
        fake.send_text(ADMIN, text)
        [reply] = fake.wait_for_messages(ADMIN, after=count)
        assert "正在添加" not in reply.text and check_html(reply.text) is None
    assert files_under(data_dir) == before


def test_more_buttons_count_against_the_rate_limit(fake, bot):
    chat = 4500
    fake.send_text(chat, "哈密有多少个服务站?")
    [answer] = fake.wait_for_messages(chat)
    queries = [fake.press_button(answer) for _ in range(8)]
    answers = [fake.callback_answer(query)["text"] for query in queries]
    assert sum(text == "你提问太快了，请稍等一分钟再问。" for text in answers) == 4  # 1 + 4 = 5
    time.sleep(0.5)
    assert fake.count(chat) == 1  # pages are shown by editing the answer, never as new messages
    assert answer.edits and "相关段落" in answer.text


def test_the_token_never_appears(fake, bot):
    assert bot.stop() == 0
    output = bot.output()
    assert "DEBUG" in output and "Traceback" not in output
    assert fake.token not in output and fake.token.split(":")[1] not in output
    for message in fake.messages():
        assert fake.token.split(":")[1] not in message.text


# ---------------------------------------------------------------------- fetching pages


class Pages(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        body = b"<html><body><p>" + "很慢的页面".encode() * 40 + b"</p></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            if self.path == "/drip.html":  # one byte every 0.1 s: each read is quick
                for byte in body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.1)
            else:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def pages():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_a_page_dripping_one_byte_at_a_time_is_cut_off(pages, tmp_path):
    started = time.monotonic()
    with pytest.raises(AddError, match="took longer than"):
        fetch_url(f"http://127.0.0.1:{pages}/drip.html", tmp_path, timeout=0.5, allow_private=True)
    assert time.monotonic() - started < 5  # not the 40+ s the whole page would take
    assert not list(tmp_path.iterdir())


def test_a_name_that_rebinds_to_loopback_is_refused(pages, tmp_path, monkeypatch):
    real = socket.getaddrinfo
    answers = iter(["93.184.216.34"])  # public when the link is checked, loopback after

    def rebinding(host, port, *args, **kwargs):
        if host != "news.example.com":
            return real(host, port, *args, **kwargs)
        address = next(answers, "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with pytest.raises(AddError, match="127.0.0.1 is a local or private address"):
        fetch_url(f"http://news.example.com:{pages}/page.html", tmp_path, timeout=5)
    assert not list(tmp_path.iterdir())


def test_network_errors_are_logged_in_one_line_and_bad_requests_in_full():
    handler = logging.Handler()
    records: list[str] = []
    handler.emit = lambda record: records.append(logging.Formatter().format(record))  # type: ignore[method-assign]
    handler.addFilter(RedactSecrets(["123:SECRET"]))
    logger = logging.getLogger("qabot-test-network-errors")
    logger.addHandler(handler)
    try:
        for error in (NetworkError("httpx.ConnectError: no route 123:SECRET"), BadRequest("odd")):
            try:
                raise error
            except NetworkError:
                logger.exception("Failed run number 3 of 3. Aborting.")
    finally:
        logger.removeHandler(handler)
    network, bad_request = records
    assert (
        network
        == "Failed run number 3 of 3. Aborting. (NetworkError: httpx.ConnectError: no route ***)"
    )
    assert "Traceback" in bad_request and "BadRequest: odd" in bad_request
