"""`GET /healthz` while the bot runs (`QABOT_HEALTH_PORT`): for a load balancer, a reverse
proxy, Docker's HEALTHCHECK or a monitoring probe.

PTB's webhook server (tornado, inside `Updater.start_webhook`) has no hook for extra routes,
so this is a small HTTP/1.1 server of its own on the bot's event loop, next to the webhook
server or the polling loop: started after start-up (`post_init`), stopped at shutdown. It
answers 200 with a small JSON body (the index's articles and passages, uptime, mode) and 404
to anything else. Nothing it says is secret, and it reads nothing but the request line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
READ_TIMEOUT = 5.0
MAX_REQUEST_HEAD = 8192


class HealthServer:
    """Answers `GET /healthz` with `status()` as JSON; `start()` and `stop()` on the bot's loop."""

    def __init__(self, host: str, port: int, status: Callable[[], dict]):
        self.host = host
        self.port = port
        self.status = status
        self.started = time.monotonic()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        log.info("health check: http://%s:%d%s", self.host, self.port, HEALTH_PATH)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    def body(self) -> dict:
        return {"status": "ok", **self.status(), "uptime": round(time.monotonic() - self.started)}

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT)
            method, path = _request_line(head)
            if method not in {"GET", "HEAD"}:
                status, payload = "405 Method Not Allowed", {"error": "GET only"}
            elif path.split("?", 1)[0] != HEALTH_PATH:
                status, payload = "404 Not Found", {"error": f"try GET {HEALTH_PATH}"}
            else:
                status, payload = "200 OK", self.body()
            content = json.dumps(payload, ensure_ascii=False).encode()
            writer.write(
                (
                    f"HTTP/1.1 {status}\r\nContent-Type: application/json; charset=utf-8\r\n"
                    f"Content-Length: {len(content)}\r\nCache-Control: no-store\r\n"
                    "Connection: close\r\n\r\n"
                ).encode()
                + (b"" if method == "HEAD" else content)
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
            pass  # a probe that hung up, dawdled or sent garbage: nothing to answer
        except Exception:  # the bot keeps answering whatever a probe does
            log.exception("health check failed")
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


def _request_line(head: bytes) -> tuple[str, str]:
    if len(head) > MAX_REQUEST_HEAD:
        raise ValueError("request head too long")
    parts = head.split(b"\r\n", 1)[0].decode("latin-1").split()
    if len(parts) != 3:
        raise ValueError("not an HTTP request line")
    return parts[0].upper(), parts[1]


def probe(timeout: float = 3.0) -> int:
    """`python -m bot.telegram.health`: 0 when this host's bot answers GET /healthz (a Docker
    HEALTHCHECK, a monitoring probe), else 1 with the reason on stderr."""
    import sys
    import urllib.request

    from bot.settings import Settings

    settings = Settings()
    if settings.health_port is None:
        print("unhealthy: QABOT_HEALTH_PORT is not set", file=sys.stderr)
        return 1
    host = settings.health_listen or settings.webhook_listen
    host = "127.0.0.1" if host in {"", "0.0.0.0", "::", "*"} else host
    host = f"[{host}]" if ":" in host else host
    url = f"http://{host}:{settings.health_port}{HEALTH_PATH}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    try:
        with opener.open(url, timeout=timeout) as response:
            body = json.loads(response.read())
    except (OSError, ValueError) as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(body, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(probe())
