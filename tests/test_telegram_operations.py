"""Running the bot unattended: every Bot API call through QABOT_PROXY_URL, /healthz in polling
mode, and one-line reports of an odd Bot API (a getMe without is_bot) and of 409 Conflict."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import httpx
import pytest
from fake_bot_api import BotProcess, FakeBotAPI, prepare_corpus

from bot.service import QAService
from bot.settings import Settings
from bot.telegram.app import build_application


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ForwardProxy:
    """A plain-HTTP forward proxy (absolute-URI requests, no CONNECT) that records what passes
    through it: enough to see that the bot's Bot API calls, long polls included, use it."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802
                self._forward()

            def do_POST(self) -> None:  # noqa: N802
                self._forward()

            def _forward(self) -> None:
                target = urlsplit(self.path)  # a proxy is sent the whole URL
                if not target.scheme:
                    self.send_error(400, "not a proxy request")
                    return
                proxy.paths.append(target.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in {"proxy-connection", "connection", "host"}
                }
                upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
                try:
                    path = target.path + (f"?{target.query}" if target.query else "")
                    upstream.request(self.command, path, body=body, headers=headers)
                    response = upstream.getresponse()
                    payload = response.read()
                    self.send_response(response.status)
                    self.send_header("Content-Type", response.getheader("Content-Type") or "")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                finally:
                    upstream.close()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def methods(self) -> set[str]:
        return {path.rsplit("/", 1)[-1] for path in self.paths}

    def __enter__(self) -> ForwardProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def shared_corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("telegram-operations")
    data_dir, index_path = prepare_corpus(root)
    return root, data_dir, index_path


@pytest.fixture
def launch(shared_corpus, tmp_path):
    """`launch(fake, env)`: a BotProcess over the shared index with an update journal of the
    test's own (each test's fake Bot API numbers its updates from 1000 again, which a shared
    journal would take for updates already answered)."""
    root, data_dir, index_path = shared_corpus

    def launch(fake: FakeBotAPI, env: dict[str, str] | None = None) -> BotProcess:
        journal = {"QABOT_UPDATE_JOURNAL_PATH": str(tmp_path / "updates.sqlite")}
        return BotProcess(fake, root, data_dir, index_path, env={**journal, **(env or {})})

    return launch


# ---------------------------------------------------------------------- the proxy


def test_every_bot_api_call_goes_through_the_proxy(launch):
    with FakeBotAPI() as fake, ForwardProxy() as proxy:
        bot = launch(fake, {"QABOT_PROXY_URL": proxy.url}).start()
        try:
            fake.send_text(9601, "哈密有多少个服务站?")
            [reply] = fake.wait_for_messages(9601)
            assert "<b>285个服务站</b>" in reply.text
        finally:
            assert bot.stop() == 0
        made = {call.method for call in fake.calls()}
        assert {"getMe", "getUpdates", "sendMessage"} <= made
        assert made <= proxy.methods()  # nothing went around the proxy
        assert fake.token not in bot.output()


def test_a_bad_proxy_url_is_one_line(launch):
    with FakeBotAPI() as fake:
        bot = launch(fake, {"QABOT_PROXY_URL": "127.0.0.1:7890"}).start(ready=None)
        assert bot.wait(timeout=30) == 2
        assert "Traceback" not in bot.output()
        stderr = bot.stderr()
        assert stderr.startswith("error: ") and stderr.count("\n") == 1
        assert "QABOT_PROXY_URL must look like http://host:port or socks5://host:port" in stderr
        assert not fake.calls()


@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
@pytest.mark.parametrize(
    ("proxy", "pool"),
    [("http://127.0.0.1:7890", "AsyncHTTPProxy"), ("socks5://127.0.0.1:1080", "AsyncSOCKSProxy")],
)
def test_both_requests_are_built_with_the_proxy(tmp_path, webhook, proxy, pool):
    settings = Settings(
        _env_file=None,
        telegram_token="123:abc",
        proxy_url=proxy,
        webhook_url="https://bot.example.com/hook" if webhook else None,
        question_log=False,
        update_journal_path=tmp_path / "updates.sqlite",
    )
    app = build_application(settings, QAService(tmp_path, tmp_path / "index.sqlite"))
    get_updates_request, request = app.bot._request  # noqa: SLF001 - PTB keeps both here
    for each in (get_updates_request, request):
        assert each._client_kwargs["proxy"] == proxy  # noqa: SLF001
        [transport] = each._client._mounts.values()  # noqa: SLF001 - httpx's proxy transport
        assert type(transport._pool).__name__ == pool  # noqa: SLF001


def test_proxy_url_validation():
    assert Settings(_env_file=None, proxy_url=" ").proxy_url is None
    assert Settings(_env_file=None, proxy_url="socks5h://h:1").proxy_url == "socks5h://h:1"
    for wrong in ("127.0.0.1:7890", "ftp://h:21", "http://"):
        with pytest.raises(ValueError, match="QABOT_PROXY_URL"):
            Settings(_env_file=None, proxy_url=wrong)


# ---------------------------------------------------------------------- health, polling mode


def test_health_endpoint_in_polling_mode(launch):
    port = free_port()
    with FakeBotAPI() as fake:
        bot = launch(fake, {"QABOT_HEALTH_PORT": str(port)}).start(port=port)
        try:
            with httpx.Client(trust_env=False, timeout=5) as client:
                health = client.get(f"http://127.0.0.1:{port}/healthz")
                assert health.status_code == 200
                body = health.json()
                assert body["status"] == "ok" and body["mode"] == "polling"
                assert body["articles"] == 2 and body["passages"] > 2
                assert client.get(f"http://127.0.0.1:{port}/").status_code == 404
                assert client.post(f"http://127.0.0.1:{port}/healthz").status_code == 405
            with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                raw.sendall(b"nonsense\r\n\r\n")  # garbage is dropped, the bot goes on
                assert raw.recv(100) == b""
            fake.send_text(9602, "哈密有多少个服务站?")
            assert "285个服务站" in fake.wait_for_messages(9602)[0].text
        finally:
            assert bot.stop() == 0
    assert "Traceback" not in bot.output()


# ---------------------------------------------------------------------- odd answers


def test_a_getme_without_is_bot_is_one_line(launch):
    with FakeBotAPI() as fake:
        fake.get_me_override = {"is_bot": None}  # what the npm telegram-test-api answers
        bot = launch(fake, {"QABOT_LOG_LEVEL": "WARNING"}).start(ready=None)
        assert bot.wait(timeout=60) == 2
        assert fake.calls("getMe")
    stderr = bot.stderr()
    assert stderr.count("\n") == 1 and stderr.endswith("\n"), stderr
    assert stderr.startswith(
        f"error: the Bot API at {fake.api_url} answered something unexpected at start-up"
    )
    assert "is_bot" in stderr
    assert "Traceback" not in bot.output()
    assert fake.token not in bot.output() and fake.token.split(":")[1] not in bot.output()


def test_409_conflict_is_one_line_and_the_bot_goes_on(launch):
    with FakeBotAPI() as fake:
        bot = launch(fake).start()
        try:
            fake.add_fault(
                "getUpdates",
                409,
                description="Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
                times=2,
            )
            fake.wait_for(
                lambda: sum(c.status == 409 for c in fake.calls("getUpdates")) == 2,
                30,
                "two conflicts",
            )
            fake.send_text(9603, "哈密有多少个服务站?")  # answered once the other one is gone
            assert "285个服务站" in fake.wait_for_messages(9603, timeout=30)[0].text
        finally:
            assert bot.stop() == 0
    output = bot.output()
    conflict = [line for line in output.splitlines() if "409 Conflict" in line]
    assert len(conflict) == 2, output
    assert "another process is polling with this bot token" in conflict[0]
    assert fake.api_url in conflict[0]
    assert "Traceback" not in output and fake.token not in output


def test_health_body_is_json():
    from bot.telegram.health import HealthServer

    server = HealthServer("127.0.0.1", 1, lambda: {"articles": 3, "passages": 9})
    body = server.body()
    assert body["status"] == "ok" and body["articles"] == 3 and body["uptime"] >= 0
    json.dumps(body)


def test_a_taken_health_port_is_one_line(launch):
    with socket.socket() as taken, FakeBotAPI() as fake:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        bot = launch(fake, {"QABOT_HEALTH_PORT": str(port), "QABOT_LOG_LEVEL": "WARNING"})
        assert bot.start(ready=None).wait(timeout=60) == 2
    assert f"error: cannot serve the health check on 127.0.0.1:{port}" in bot.stderr()
    assert "Traceback" not in bot.output() and fake.token not in bot.output()
