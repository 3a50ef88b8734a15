"""A fake Telegram Bot API server for the bot's end-to-end tests, and a launcher for the real bot.

`FakeBotAPI` listens on 127.0.0.1 (a free port) and speaks the Bot API's HTTP protocol closely
enough for python-telegram-bot: `POST /bot<token>/<method>` with form-encoded, multipart or
JSON bodies, answered with the `{"ok": ..., "result": ...}` envelope (401 for a wrong token,
400 for unknown methods and bad parameters), long-polled `getUpdates` honouring `offset`,
`limit`, `timeout` and `allowed_updates`, webhook delivery when a webhook is set, and file
downloads from `/file/bot<token>/<path>`. It is strict where Telegram is strict: HTML text
must parse (known tags, balanced, escaped `<`, `>` and `&`) and stay within 4,096 characters,
callback data within 64 bytes, replies must point at existing messages, callback queries can
be answered once.

Tests inject updates (`send_text`, `send_document`, `press_button`), read what the bot sent
(`messages`, `wait_for_messages`, `calls`) and inject faults (`add_fault`: an HTTP status
such as 500, 429 with `retry_after` or 403 for one chat, and/or a delay; `get_me_override`:
a getMe answer that is not quite Telegram's).

`BotProcess` runs the real `qabot serve` (or `python -m bot`) as a subprocess against it.
Nothing here talks to Telegram or any other outside host.
"""

from __future__ import annotations

import email.parser
import email.policy
import html
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlparse

REPO = Path(__file__).resolve().parent.parent
MAX_TEXT = 4096
# Tags Telegram's HTML parse mode accepts.
ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-emoji",
}
_HTML_TOKEN = re.compile(
    r"<(/?)([a-zA-Z][\w-]*)((?:\s[^<>]*)?)>|&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);|([<>&])"
)
_NAMED_ENTITIES = {"lt", "gt", "amp", "quot"}
# Parameters that are strings even when they look like JSON (everything else is JSON-decoded).
_STRING_PARAMS = {
    "text",
    "caption",
    "parse_mode",
    "callback_query_id",
    "file_id",
    "url",
    "secret_token",
    "language_code",
    "description",
    "short_description",
    "name",
    "action",
    "ip_address",
}


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def check_html(text: str) -> str | None:
    """Why Telegram would refuse this HTML message text, or None when it is fine."""
    stack: list[str] = []
    visible: list[str] = []
    position = 0
    for match in _HTML_TOKEN.finditer(text):
        visible.append(text[position : match.start()])
        position = match.end()
        closing, tag, _attributes, entity, stray = match.groups()
        if stray:
            return f"can't parse entities: unsupported start tag or unescaped {stray!r} at byte offset {match.start()}"
        if entity:
            if not entity.startswith("#") and entity not in _NAMED_ENTITIES:
                return f"can't parse entities: unsupported HTML entity &{entity};"
            visible.append(html.unescape(f"&{entity};"))
            continue
        tag = tag.lower()
        if tag not in ALLOWED_TAGS:
            return f'can\'t parse entities: unsupported start tag "{tag}"'
        if closing:
            if not stack or stack[-1] != tag:
                return (
                    f"can't parse entities: can't find end tag corresponding to start tag \"{tag}\""
                )
            stack.pop()
        else:
            stack.append(tag)
    visible.append(text[position:])
    if stack:
        return (
            f"can't parse entities: can't find end tag corresponding to start tag \"{stack[-1]}\""
        )
    plain = "".join(visible)
    if not plain.strip():
        return "message text is empty"
    if utf16_len(plain) > MAX_TEXT:
        return "message is too long"
    return None


def visible_text(text: str) -> str:
    """The text a user sees of an HTML message (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^<>]+>", "", text))


class ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


@dataclass
class Fault:
    """Makes matching calls fail (status), be slow (delay), or both; `times=None` is forever."""

    method: str
    status: int | None = 500
    description: str | None = None
    retry_after: int | None = None
    delay: float = 0.0
    chat_id: int | None = None
    times: int | None = 1
    hits: int = 0


@dataclass
class Call:
    """One request the bot made: method, decoded parameters, when it arrived, the HTTP status
    answered (0 while still being answered, e.g. a long poll) and the fault injected, if any."""

    method: str
    params: dict[str, Any]
    time: float
    status: int = 200
    fault: Fault | None = None


@dataclass
class Sent:
    """A message the bot sent (its current text; earlier versions in `edits`)."""

    chat_id: int
    message_id: int
    text: str
    parse_mode: str | None
    reply_markup: dict | None
    reply_to: int | None
    time: float
    raw: dict
    edits: list[str] = field(default_factory=list)

    @property
    def buttons(self) -> list[dict]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    api: FakeBotAPI


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch()

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            status, content_type, payload = self.server.api._handle(
                self.command, self.path, dict(self.headers.items()), body
            )
        except Exception as exc:  # a bug in the fake: say so rather than hang the bot
            status, content_type = 500, "application/json"
            payload = json.dumps(
                {"ok": False, "error_code": 500, "description": f"fake server error: {exc!r}"}
            ).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True  # the client gave up (a timeout test)


class FakeBotAPI:
    """An in-process, threaded fake of the Telegram Bot API (see the module docstring)."""

    def __init__(
        self,
        token: str = "123456:TEST-abcdefghijklmnopqrstuvwxyz",
        bot_id: int = 123456,
        username: str = "QabotTestBot",
    ):
        self.token = token
        self.bot_id = bot_id
        self.username = username
        self._cond = threading.Condition()
        self._updates: list[dict] = []
        self._next_update_id = 1000
        self._confirmed = 0  # updates below this id were confirmed (offset)
        self._next_message_id: dict[int, int] = {}
        self._messages: dict[tuple[int, int], dict] = {}  # every message, by (chat, id)
        self._chats: dict[int, dict] = {}
        self._sent: list[Sent] = []
        self._calls: list[Call] = []
        self._faults: list[Fault] = []
        self._files: dict[str, tuple[str, bytes, dict]] = {}
        self._pages: dict[str, tuple[str, bytes]] = {}
        self._callbacks: dict[str, dict] = {}  # id -> {"answered": bool}
        self._inline: dict[str, dict] = {}  # inline query id -> {"answered", "results", ...}
        self._next_callback = 1
        self.commands: dict[tuple[str, str], list[dict]] = {}
        self.webhook: dict | None = None
        # fields getMe answers differently (None: left out), e.g. {"is_bot": None} is what
        # the npm telegram-test-api answers: a Bot API that is not quite Telegram's
        self.get_me_override: dict[str, Any] = {}
        self.webhook_deliveries: list[tuple[int, int]] = []  # (update_id, HTTP status)
        self._closed = False
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.api = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeBotAPI:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """What QABOT_TELEGRAM_API_URL should be (the token is appended to it)."""
        return f"{self.base_url}/bot"

    @property
    def file_url(self) -> str:
        return f"{self.base_url}/file/bot"

    # ------------------------------------------------------------------ building updates

    def _user(
        self, user_id: int, first_name: str = "Tester", language_code: str = "zh-hans"
    ) -> dict:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "username": f"user{user_id}",
            "language_code": language_code,
        }

    def bot_user(self) -> dict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "QA Bot",
            "username": self.username,
            "supports_inline_queries": True,
        }

    def _chat(self, chat_id: int, chat_type: str | None) -> dict:
        if chat_id not in self._chats:
            chat_type = chat_type or ("private" if chat_id > 0 else "supergroup")
            if chat_type == "private":
                chat = {"id": chat_id, "type": "private", "first_name": "Tester"}
            else:
                chat = {"id": chat_id, "type": chat_type, "title": f"Group {chat_id}"}
            self._chats[chat_id] = chat
        return self._chats[chat_id]

    def _message_id(self, chat_id: int) -> int:
        self._next_message_id[chat_id] = self._next_message_id.get(chat_id, 0) + 1
        return self._next_message_id[chat_id]

    @staticmethod
    def entities(text: str) -> list[dict]:
        """Entities Telegram would attach: a leading bot command, @mentions and links."""
        found = []

        def add(kind: str, start: int, end: int) -> None:
            offset = utf16_len(text[:start])
            found.append({"type": kind, "offset": offset, "length": utf16_len(text[start:end])})

        command = re.match(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?", text)
        if command:
            add("bot_command", 0, command.end())
        for match in re.finditer(r"(?<![\w@])@[A-Za-z0-9_]{5,32}", text):
            add("mention", match.start(), match.end())
        for match in re.finditer(r"https?://[^\s<>\"]+", text):
            add("url", match.start(), match.end())
        return sorted(found, key=lambda e: e["offset"])

    def _push(self, update: dict) -> dict:
        with self._cond:
            update["update_id"] = self._next_update_id
            self._next_update_id += 1
            self._updates.append(update)
            self._cond.notify_all()
            webhook = dict(self.webhook) if self.webhook else None
        if webhook:
            threading.Thread(target=self._deliver, args=(webhook, update), daemon=True).start()
        return update

    def _new_message(
        self,
        chat_id: int,
        user_id: int | None,
        chat_type: str | None,
        reply_to: dict | int | None,
        language_code: str,
        first_name: str,
    ) -> dict:
        with self._cond:
            chat = self._chat(chat_id, chat_type)
            message = {
                "message_id": self._message_id(chat_id),
                "date": int(time.time()),
                "chat": chat,
                "from": self._user(
                    user_id if user_id is not None else chat_id, first_name, language_code
                ),
            }
            if reply_to is not None:
                if isinstance(reply_to, int):
                    reply_to = self._messages[(chat_id, reply_to)]
                message["reply_to_message"] = {
                    k: v for k, v in reply_to.items() if k != "reply_to_message"
                }
        return message

    def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str | None = None,
        reply_to: dict | int | None = None,
        language_code: str = "zh-hans",
        first_name: str = "Tester",
    ) -> dict:
        """A user writes `text` in a chat (private when chat_id > 0); returns the message."""
        message = self._new_message(
            chat_id, user_id, chat_type, reply_to, language_code, first_name
        )
        message["text"] = text
        entities = self.entities(text)
        if entities:
            message["entities"] = entities
        with self._cond:
            self._messages[(chat_id, message["message_id"])] = message
        self._push({"message": message})
        return message

    def send_document(
        self,
        chat_id: int,
        file_name: str,
        content: bytes,
        *,
        mime_type: str = "text/plain",
        caption: str | None = None,
        user_id: int | None = None,
        chat_type: str | None = None,
        file_size: int | None = None,
        language_code: str = "zh-hans",
    ) -> dict:
        """A user sends a file; `getFile` and the download serve `content`."""
        message = self._new_message(chat_id, user_id, chat_type, None, language_code, "Tester")
        with self._cond:
            number = len(self._files) + 1
            file_id = f"FILE{number:04d}-{chat_id}"
            document = {
                "file_id": file_id,
                "file_unique_id": f"U{number:04d}",
                "file_name": file_name,
                "mime_type": mime_type,
                "file_size": file_size if file_size is not None else len(content),
            }
            self._files[file_id] = (f"documents/file_{number}", content, document)
            message["document"] = document
            if caption:
                message["caption"] = caption
            self._messages[(chat_id, message["message_id"])] = message
        self._push({"message": message})
        return message

    def press_button(
        self, message: Sent | dict, data: str | None = None, *, user_id: int | None = None
    ) -> str:
        """A user presses an inline button under a bot message (by default the last one: "more"
        under an answer, "▸" on a page); returns the callback query id."""
        raw = message.raw if isinstance(message, Sent) else message
        if data is None:
            buttons = message.buttons if isinstance(message, Sent) else []
            data = buttons[-1]["callback_data"]
        chat_id = raw["chat"]["id"]
        with self._cond:
            query_id = f"CQ{self._next_callback}"
            self._next_callback += 1
            self._callbacks[query_id] = {"answered": False, "data": data}
        query = {
            "id": query_id,
            "from": self._user(user_id if user_id is not None else chat_id),
            "message": raw,
            "chat_instance": f"ci{chat_id}",
            "data": data,
        }
        self._push({"callback_query": query})
        return query_id

    def ask(self, chat_id: int, text: str, timeout: float = 15.0, **kwargs: Any) -> Sent:
        """Send `text` in a chat (as `send_text`) and return the bot's next message there."""
        before = self.count(chat_id)
        self.send_text(chat_id, text, **kwargs)
        return self.wait_for_messages(chat_id, after=before, timeout=timeout)[0]

    def send_inline_query(self, user_id: int, query: str) -> str:
        """A user types `@bot query` in some chat; returns the inline query id."""
        with self._cond:
            query_id = f"IQ{self._next_callback}"
            self._next_callback += 1
            self._inline[query_id] = {"answered": False, "results": None, "query": query}
        inline = {"id": query_id, "from": self._user(user_id), "query": query, "offset": ""}
        self._push({"inline_query": inline})
        return query_id

    def inline_answer(self, query_id: str, timeout: float = 15.0) -> dict:
        """Wait until the bot answered an inline query; returns {"answered", "results", ...}."""
        return self.wait_for(
            lambda: self._inline[query_id] if self._inline[query_id]["answered"] else None,
            timeout,
            f"an answer to inline query {query_id}",
        )

    def add_page(
        self, path: str, body: bytes, content_type: str = "text/html; charset=utf-8"
    ) -> str:
        """Serve a web page at /pages/<path> (for 'add this link'); returns its URL."""
        path = path.lstrip("/")
        with self._cond:
            self._pages[path] = (content_type, body)
        return f"{self.base_url}/pages/{path}"

    # ------------------------------------------------------------------ faults

    def add_fault(
        self,
        method: str,
        status: int | None = 500,
        *,
        description: str | None = None,
        retry_after: int | None = None,
        delay: float = 0.0,
        chat_id: int | None = None,
        times: int | None = 1,
    ) -> Fault:
        fault = Fault(method, status, description, retry_after, delay, chat_id, times)
        with self._cond:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._cond:
            self._faults.clear()

    def _take_fault(self, method: str, params: dict) -> Fault | None:
        with self._cond:
            for fault in self._faults:
                if fault.method.lower() != method.lower():
                    continue
                if fault.chat_id is not None and params.get("chat_id") != fault.chat_id:
                    continue
                if fault.times is not None and fault.hits >= fault.times:
                    continue
                fault.hits += 1
                return fault
        return None

    # ------------------------------------------------------------------ reading

    def calls(self, method: str | None = None) -> list[Call]:
        with self._cond:
            return [c for c in self._calls if method is None or c.method == method]

    def messages(self, chat_id: int | None = None) -> list[Sent]:
        """What the bot sent (sendMessage), oldest first, optionally for one chat."""
        with self._cond:
            return [m for m in self._sent if chat_id is None or m.chat_id == chat_id]

    def wait_for(self, predicate, timeout: float = 15.0, message: str = "condition") -> Any:
        """Wait until `predicate()` is truthy (re-checked whenever the bot calls the API)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"timed out after {timeout}s waiting for {message}")
                self._cond.wait(min(remaining, 0.2))

    def wait_for_messages(
        self, chat_id: int, count: int = 1, *, after: int = 0, timeout: float = 15.0
    ) -> list[Sent]:
        """The first `count` messages the bot sent to `chat_id` after the first `after` ones."""

        def ready() -> list[Sent] | None:
            sent = [m for m in self._sent if m.chat_id == chat_id][after:]
            return sent[:count] if len(sent) >= count else None

        return self.wait_for(ready, timeout, f"{count} message(s) to chat {chat_id}")

    def wait_for_call(
        self, method: str, predicate=None, *, after: int = 0, timeout: float = 15.0
    ) -> Call:
        def ready() -> Call | None:
            matching = [c for c in self._calls if c.method == method][after:]
            for call in matching:
                if predicate is None or predicate(call):
                    return call
            return None

        return self.wait_for(ready, timeout, f"a {method} call")

    def count(self, chat_id: int) -> int:
        """How many messages the bot has sent to a chat so far (use as `after=`)."""
        return len(self.messages(chat_id))

    def pending_updates(self) -> int:
        with self._cond:
            return sum(1 for u in self._updates if u["update_id"] >= self._confirmed)

    # ------------------------------------------------------------------ HTTP side

    def _handle(
        self, verb: str, raw_path: str, headers: dict, body: bytes
    ) -> tuple[int, str, bytes]:
        path = unquote(urlparse(raw_path).path)
        if path.startswith("/pages/"):
            with self._cond:
                page = self._pages.get(path[len("/pages/") :])
            if page is None:
                return 404, "text/plain", b"not found"
            return 200, page[0], page[1]
        if path.startswith("/file/bot"):
            token, _, file_path = path[len("/file/bot") :].partition("/")
            with self._cond:
                found = [c for p, c, _ in self._files.values() if p == file_path]
            if token != self.token or not found:
                return 404, "text/plain", b"Not Found"
            return 200, "application/octet-stream", found[0]
        match = re.fullmatch(r"/bot([^/]*)/(\w+)", path)
        if not match:
            return 404, "application/json", _envelope_error(404, "Not Found")
        token, method = match.groups()
        params = _decode_params(headers, body, urlparse(raw_path).query)
        if token != self.token:
            return 401, "application/json", _envelope_error(401, "Unauthorized")
        fault = self._take_fault(method, params)
        call = Call(method, params, time.time(), status=0, fault=fault)  # 0: in progress
        self._record(call)  # on arrival, so a long poll shows at once
        if fault and fault.delay:
            time.sleep(fault.delay)
        try:
            if fault and fault.status:
                description = fault.description or _DEFAULT_DESCRIPTIONS.get(
                    fault.status, "Internal Server Error"
                )
                parameters = {"retry_after": fault.retry_after} if fault.retry_after else None
                raise ApiError(fault.status, description, parameters)
            handler = getattr(self, f"_api_{method.lower()}", None)
            if handler is None:
                raise ApiError(400, f"Bad Request: method {method} not found")
            result = handler(params, headers)
        except ApiError as exc:
            self._finish(call, exc.status)
            return (
                exc.status,
                "application/json",
                _envelope_error(exc.status, exc.description, exc.parameters),
            )
        self._finish(call, 200)
        return 200, "application/json", json.dumps({"ok": True, "result": result}).encode()

    def _record(self, call: Call) -> None:
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    def _finish(self, call: Call, status: int) -> None:
        with self._cond:
            call.status = status
            self._cond.notify_all()

    def _deliver(self, webhook: dict, update: dict) -> None:
        """POST an update to the bot's webhook, as Telegram does."""
        request = urllib.request.Request(
            webhook["url"],
            data=json.dumps(update).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        if webhook.get("secret_token"):
            request.add_header("X-Telegram-Bot-Api-Secret-Token", webhook["secret_token"])
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        for attempt in range(10):  # Telegram, too, retries a webhook it cannot reach
            try:
                with opener.open(request, timeout=10) as response:
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError:
                status = 0
                time.sleep(0.2 * (attempt + 1))
                continue
            break
        with self._cond:
            self.webhook_deliveries.append((update["update_id"], status))
            self._cond.notify_all()

    # ------------------------------------------------------------------ API methods

    def _api_getme(self, params: dict, headers: dict) -> dict:
        me = {
            **self.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            **self.get_me_override,
        }
        return {key: value for key, value in me.items() if value is not None}

    def _api_deletewebhook(self, params: dict, headers: dict) -> bool:
        with self._cond:
            self.webhook = None
            if params.get("drop_pending_updates"):
                self._confirmed = self._next_update_id
        return True

    def _api_setwebhook(self, params: dict, headers: dict) -> bool:
        url = params.get("url") or ""
        if not url:
            return self._api_deletewebhook(params, headers)
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        with self._cond:
            self.webhook = {
                "url": url,
                "secret_token": secret,
                "allowed_updates": params.get("allowed_updates"),
            }
        return True

    def _api_getwebhookinfo(self, params: dict, headers: dict) -> dict:
        with self._cond:
            return {
                "url": (self.webhook or {}).get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": 0,
            }

    def _api_getupdates(self, params: dict, headers: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0.0, float(params.get("timeout") or 0))
        allowed = params.get("allowed_updates") or None
        deadline = time.monotonic() + timeout
        with self._cond:
            if self.webhook:
                raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
            if offset:
                self._confirmed = max(self._confirmed, offset)

            def pending() -> list[dict]:
                fresh = [u for u in self._updates if u["update_id"] >= self._confirmed]
                if allowed:
                    fresh = [u for u in fresh if set(u) - {"update_id"} <= set(allowed)]
                return fresh[:limit]

            while True:
                found = pending()
                remaining = deadline - time.monotonic()
                if found or remaining <= 0 or self._closed:
                    return found
                self._cond.wait(remaining)

    def _known_chat(self, params: dict) -> int:
        chat_id = params.get("chat_id")
        with self._cond:
            if chat_id not in self._chats:
                raise ApiError(400, "Bad Request: chat not found")
        return chat_id

    def _check_text(self, params: dict) -> None:
        text = params.get("text")
        if not isinstance(text, str):
            raise ApiError(400, "Bad Request: message text is empty")
        mode = (params.get("parse_mode") or "").lower()
        if mode == "html":
            problem = check_html(text)
        elif not text.strip():
            problem = "message text is empty"
        elif utf16_len(text) > MAX_TEXT:
            problem = "message is too long"
        else:
            problem = None
        if problem:
            raise ApiError(400, f"Bad Request: {problem}")
        markup = params.get("reply_markup")
        if isinstance(markup, dict):
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    data = button.get("callback_data")
                    if data is not None and not 1 <= len(data.encode()) <= 64:
                        raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")

    def _api_sendmessage(self, params: dict, headers: dict) -> dict:
        chat_id = self._known_chat(params)
        self._check_text(params)
        reply_to = None
        reply = params.get("reply_parameters") or {}
        if isinstance(reply, dict) and reply.get("message_id"):
            with self._cond:
                exists = (chat_id, reply["message_id"]) in self._messages
            if exists:
                reply_to = reply["message_id"]
            elif not reply.get("allow_sending_without_reply"):
                raise ApiError(400, "Bad Request: message to be replied not found")
        with self._cond:
            message = {
                "message_id": self._message_id(chat_id),
                "date": int(time.time()),
                "chat": self._chats[chat_id],
                "from": self.bot_user(),
                "text": params["text"],
            }
            if isinstance(params.get("reply_markup"), dict):
                message["reply_markup"] = params["reply_markup"]
            if reply_to:
                message["reply_to_message"] = {
                    k: v
                    for k, v in self._messages[(chat_id, reply_to)].items()
                    if k != "reply_to_message"
                }
            self._messages[(chat_id, message["message_id"])] = message
            self._sent.append(
                Sent(
                    chat_id,
                    message["message_id"],
                    params["text"],
                    params.get("parse_mode"),
                    message.get("reply_markup"),
                    reply_to,
                    time.time(),
                    message,
                )
            )
        return message

    def _api_editmessagetext(self, params: dict, headers: dict) -> dict:
        chat_id = self._known_chat(params)
        self._check_text(params)
        key = (chat_id, params.get("message_id"))
        with self._cond:
            message = self._messages.get(key)
            if message is None or message["from"]["id"] != self.bot_id:
                raise ApiError(400, "Bad Request: message to edit not found")
            if message["text"] == params["text"] and message.get("reply_markup") == params.get(
                "reply_markup"
            ):
                raise ApiError(
                    400,
                    "Bad Request: message is not modified: specified new message content and "
                    "reply markup are exactly the same as a current content and reply markup of the message",
                )
            message["text"] = params["text"]
            if isinstance(params.get("reply_markup"), dict):
                message["reply_markup"] = params["reply_markup"]
            else:
                message.pop("reply_markup", None)
            for sent in self._sent:
                if (sent.chat_id, sent.message_id) == key:
                    sent.edits.append(sent.text)
                    sent.text = params["text"]
                    sent.parse_mode = params.get("parse_mode")
                    sent.reply_markup = message.get("reply_markup")
            return message

    def _api_editmessagereplymarkup(self, params: dict, headers: dict) -> dict:
        chat_id = self._known_chat(params)
        with self._cond:
            message = self._messages.get((chat_id, params.get("message_id")))
            if message is None:
                raise ApiError(400, "Bad Request: message to edit not found")
            if isinstance(params.get("reply_markup"), dict):
                message["reply_markup"] = params["reply_markup"]
            else:
                message.pop("reply_markup", None)
            for sent in self._sent:
                if (sent.chat_id, sent.message_id) == (chat_id, params.get("message_id")):
                    sent.reply_markup = message.get("reply_markup")
            return message

    def _api_answercallbackquery(self, params: dict, headers: dict) -> bool:
        with self._cond:
            query = self._callbacks.get(params.get("callback_query_id"))
            if query is None or query["answered"]:
                raise ApiError(
                    400,
                    "Bad Request: query is too old and response timeout expired or query ID is invalid",
                )
            query["answered"] = True
            query["text"] = params.get("text")
        return True

    def _api_answerinlinequery(self, params: dict, headers: dict) -> bool:
        results = params.get("results")
        if not isinstance(results, list) or len(results) > 50:
            raise ApiError(400, "Bad Request: RESULTS_INVALID")
        for result in results:
            content = result.get("input_message_content") or {}
            if content.get("parse_mode", "").lower() == "html":
                problem = check_html(content.get("message_text", ""))
                if problem:
                    raise ApiError(400, f"Bad Request: {problem}")
        with self._cond:
            query = self._inline.get(params.get("inline_query_id"))
            if query is None or query["answered"]:
                raise ApiError(400, "Bad Request: query is too old or query ID is invalid")
            query.update(answered=True, results=results)
        return True

    def callback_answer(self, query_id: str, timeout: float = 10.0) -> dict:
        """Wait until the bot answered a callback query; returns {"answered", "text", "data"}."""
        return self.wait_for(
            lambda: self._callbacks[query_id] if self._callbacks[query_id]["answered"] else None,
            timeout,
            f"an answer to callback query {query_id}",
        )

    def _api_getfile(self, params: dict, headers: dict) -> dict:
        with self._cond:
            found = self._files.get(params.get("file_id"))
        if found is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        file_path, content, document = found
        return {
            "file_id": document["file_id"],
            "file_unique_id": document["file_unique_id"],
            "file_size": len(content),
            "file_path": file_path,
        }

    def _api_setmycommands(self, params: dict, headers: dict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command.get("command", "")):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise ApiError(400, "Bad Request: command description is empty or too long")
        key = (
            json.dumps(params.get("scope") or {"type": "default"}),
            params.get("language_code") or "",
        )
        with self._cond:
            self.commands[key] = commands
        return True

    def _api_getmycommands(self, params: dict, headers: dict) -> list:
        key = (
            json.dumps(params.get("scope") or {"type": "default"}),
            params.get("language_code") or "",
        )
        with self._cond:
            return self.commands.get(key, [])

    def _api_deletemycommands(self, params: dict, headers: dict) -> bool:
        key = (
            json.dumps(params.get("scope") or {"type": "default"}),
            params.get("language_code") or "",
        )
        with self._cond:
            self.commands.pop(key, None)
        return True

    def _api_sendchataction(self, params: dict, headers: dict) -> bool:
        self._known_chat(params)
        return True

    def _api_deletemessage(self, params: dict, headers: dict) -> bool:
        chat_id = self._known_chat(params)
        with self._cond:
            if self._messages.pop((chat_id, params.get("message_id")), None) is None:
                raise ApiError(400, "Bad Request: message to delete not found")
        return True

    def _api_logout(self, params: dict, headers: dict) -> bool:
        return True

    def _api_close(self, params: dict, headers: dict) -> bool:
        return True


_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    403: "Forbidden: bot was blocked by the user",
    429: "Too Many Requests: retry later",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


def _envelope_error(status: int, description: str, parameters: dict | None = None) -> bytes:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return json.dumps(body).encode()


def _decode_value(name: str, value: str) -> Any:
    if name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _decode_params(headers: dict, body: bytes, query: str) -> dict[str, Any]:
    """Parameters from the query string and a form-encoded, multipart or JSON body."""
    lowered = {k.lower(): v for k, v in headers.items()}
    content_type = lowered.get("content-type", "")
    params: dict[str, Any] = {k: _decode_value(k, v) for k, v in parse_qsl(query)}
    if not body:
        return params
    if content_type.startswith("application/json"):
        params.update(json.loads(body))
    elif content_type.startswith("multipart/form-data"):
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename():
                params[name] = payload
            else:
                params[name] = _decode_value(name, payload.decode())
    else:
        params.update(
            {k: _decode_value(k, v) for k, v in parse_qsl(body.decode(), keep_blank_values=True)}
        )
    return params


# ---------------------------------------------------------------------- the real bot, as a process


def qabot_command() -> list[str]:
    """The installed `qabot` console script next to this Python, or `python -m bot.cli`."""
    script = Path(sys.executable).parent / "qabot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def clean_env(**overrides: str) -> dict[str, str]:
    """The environment for a bot process: no QABOT_* from the caller, no proxies, unbuffered."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("QABOT_")
        and k.lower() not in {"http_proxy", "https_proxy", "all_proxy"}
    }
    env.update(PYTHONUNBUFFERED="1", NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    env.update(overrides)
    return env


SEED_ARTICLES = ("hami-shuangyong-model-city.txt", "zhangye-shuangyong-model-city-2024-08-01.txt")


def prepare_corpus(
    root: Path,
    extra: dict[str, str | bytes] | None = None,
    seeds: tuple[str, ...] = SEED_ARTICLES,
) -> tuple[Path, Path]:
    """Copy the two seed articles (Hami, Zhangye) and `extra` files into `root/articles`, and
    build the index there with `qabot index build`; returns (data dir, index path)."""
    data_dir = root / "articles"
    index_path = root / "index.sqlite"
    data_dir.mkdir(parents=True)
    for name in seeds:
        shutil.copy2(REPO / "data" / "articles" / name, data_dir / name)
    for name, content in (extra or {}).items():
        target = data_dir / name
        if isinstance(content, str):
            target.write_text(content, encoding="utf-8")
        else:
            target.write_bytes(content)
    subprocess.run(
        [
            *qabot_command(),
            "index",
            "build",
            "--data-dir",
            str(data_dir),
            "--index",
            str(index_path),
        ],
        cwd=root,
        env=clean_env(),
        check=True,
        capture_output=True,
        timeout=120,
    )
    return data_dir, index_path


class BotProcess:
    """The real bot (`qabot serve` by default) as a subprocess talking to a `FakeBotAPI`."""

    def __init__(
        self,
        fake: FakeBotAPI,
        workdir: Path,
        data_dir: Path,
        index_path: Path,
        *,
        token: str | None = None,
        env: dict[str, str] | None = None,
        command: list[str] | None = None,
    ):
        self.fake = fake
        self.workdir = workdir
        self.token = token or fake.token
        self.command = command or [*qabot_command(), "serve"]
        self.env = clean_env(
            **{
                "QABOT_TELEGRAM_TOKEN": self.token,
                "QABOT_TELEGRAM_API_URL": fake.api_url,
                "QABOT_DATA_DIR": str(data_dir),
                "QABOT_INDEX_PATH": str(index_path),
                "QABOT_LOG_LEVEL": "INFO",
                **(env or {}),
            }
        )
        self.stdout_path = workdir / "bot.stdout"
        self.stderr_path = workdir / "bot.stderr"
        self.process: subprocess.Popen | None = None
        self.returncode: int | None = None

    def start(
        self, ready: str | None = "getUpdates", timeout: float = 60.0, port: int | None = None
    ) -> BotProcess:
        """Start the bot; wait for its first `ready` call (getUpdates, or setWebhook) and, given
        a `port`, until its webhook server accepts connections there."""
        already = len(self.fake.calls(ready)) if ready else 0
        self._stdout = open(self.stdout_path, "wb")  # noqa: SIM115 - closed in stop()
        self._stderr = open(self.stderr_path, "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            self.command, cwd=self.workdir, env=self.env, stdout=self._stdout, stderr=self._stderr
        )
        deadline = time.monotonic() + timeout
        if ready:
            while len(self.fake.calls(ready)) <= already:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"the bot exited early ({self.process.returncode}):\n{self.output()}"
                    )
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the bot did not start in {timeout}s:\n{self.output()}")
                time.sleep(0.05)
        while port is not None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"no webhook server on port {port}:\n{self.output()}"
                    ) from None
                time.sleep(0.05)
        return self

    def wait(self, timeout: float = 60.0) -> int:
        """Wait for the process to exit by itself; returns its exit status."""
        assert self.process is not None
        self.returncode = self.process.wait(timeout=timeout)
        self._close_files()
        return self.returncode

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Signal the bot and wait for it to exit; returns its exit status."""
        if self.process is None:
            raise RuntimeError("not started")
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.returncode = self.process.returncode
        self._close_files()
        return self.returncode

    def _close_files(self) -> None:
        for handle in (getattr(self, "_stdout", None), getattr(self, "_stderr", None)):
            if handle and not handle.closed:
                handle.close()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stdout(self) -> str:
        return self.stdout_path.read_text("utf-8", "replace") if self.stdout_path.exists() else ""

    def stderr(self) -> str:
        return self.stderr_path.read_text("utf-8", "replace") if self.stderr_path.exists() else ""

    def output(self) -> str:
        return self.stdout() + self.stderr()
