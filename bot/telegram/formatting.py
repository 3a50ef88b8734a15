"""Telegram HTML: splitting under the 4,096-character limit with tags balanced, the "more" pages
(their buttons' callback data) and the reader's language."""

from __future__ import annotations

import re
from html import escape

from telegram import Update
from telegram.constants import MessageLimit

from bot import messages
from bot.qa.result import Answer
from bot.render import source_line

MAX_MESSAGE = MessageLimit.MAX_TEXT_LENGTH  # 4096
MORE_PAGE = 3  # passages per "more" page
MORE_LIMIT = 15  # passages reachable through "more"
MORE_RE = re.compile(r"more:([A-Za-z0-9_-]{1,16}):(\d{1,3})")


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


_TOKEN_RE = re.compile(
    r"(<(/?)([a-zA-Z][\w-]*)[^<>]*>)|(&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);)|(.)", re.DOTALL
)
_EMPTY_ELEMENT_RE = re.compile(r"<([a-zA-Z][\w-]*)(?:\s[^<>]*)?></\1>")
_SENTENCE_ENDS = set("。！？!?；;")
_SOFT_BREAKS = set(" ，,、：:")


def split_html(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split Telegram HTML into messages of at most `limit` characters, tags kept balanced.

    Breaks fall at a line end when one is in the second half of a message, else at a sentence
    end, else at a space or comma, else anywhere between characters (never inside a tag or an
    entity such as `&amp;`). Tags open at a break are closed there and reopened in the next
    message. Messages with no visible text are dropped.
    """
    if utf16_len(text) <= limit:
        return [text] if _visible(text).strip() else []
    tokens: list[tuple[str, str, str]] = []  # (kind, tag name, raw); kind: open/close/text
    for match in _TOKEN_RE.finditer(text):
        raw = match.group(0)
        if match.group(1):
            tokens.append(("close" if match.group(2) else "open", match.group(3).lower(), raw))
        else:
            tokens.append(("text", "", raw))

    def apply(stack: list[tuple[str, str]], token: tuple[str, str, str]) -> list[tuple[str, str]]:
        kind, name, raw = token
        if kind == "open":
            return [*stack, (name, raw)]
        if kind == "close" and stack and stack[-1][0] == name:
            return stack[:-1]
        return stack

    def closing(stack: list[tuple[str, str]]) -> str:
        return "".join(f"</{name}>" for name, _ in reversed(stack))

    chunks: list[str] = []
    start_stack: list[tuple[str, str]] = []
    i = 0
    while i < len(tokens):
        stack = start_stack
        size = sum(utf16_len(raw) for _, raw in stack)
        breaks: dict[str, tuple[int, list[tuple[str, str]]]] = {}
        j = i
        while j < len(tokens):
            token = tokens[j]
            new_stack = apply(stack, token)
            new_size = size + utf16_len(token[2])
            if new_size + utf16_len(closing(new_stack)) > limit and j > i:
                break
            stack, size, j = new_stack, new_size, j + 1
            char = token[2] if token[0] == "text" else ""
            if char == "\n":
                breaks["line"] = (j, stack)
            elif char in _SENTENCE_ENDS:
                breaks["sentence"] = (j, stack)
            elif char in _SOFT_BREAKS:
                breaks["soft"] = (j, stack)
        if j >= len(tokens):
            end, end_stack = j, stack
        else:
            half = i + (j - i) // 2
            end, end_stack = j, stack
            for kind in ("line", "sentence", "soft"):
                if kind in breaks and breaks[kind][0] > half:
                    end, end_stack = breaks[kind]
                    break
        body = "".join(raw for _, raw in start_stack)
        body += "".join(token[2] for token in tokens[i:end]) + closing(end_stack)
        previous = None
        while previous != body:
            previous, body = body, _EMPTY_ELEMENT_RE.sub("", body)
        if _visible(body).strip():
            chunks.append(body)
        start_stack, i = end_stack, end
    return chunks


def _visible(html_text: str) -> str:
    return re.sub(r"<[^<>]*>", "", html_text)


def more_data(key: str, offset: int) -> str:
    """Callback data of a "more" button (well within Telegram's 64 bytes)."""
    return f"more:{key}:{offset}"


def parse_more(data: str | None) -> tuple[str, int] | None:
    match = MORE_RE.fullmatch(data or "")
    return (match.group(1), int(match.group(2))) if match else None


def other_passages(answer: Answer) -> list:
    """The ranked passages, other than the one the answer cites, that write what the question
    asks about (a passage that only names the same city is not "more")."""
    cited = answer.citation.text if answer.citation else None
    return [p for p in answer.passages if p.text != cited and p.on_topic]


def render_more(answer: Answer, question: str, offset: int) -> tuple[str, int | None]:
    """HTML of passages offset+1 .. offset+MORE_PAGE, and the next offset (None at the end)."""
    passages = other_passages(answer)[:MORE_LIMIT]
    page = passages[offset : offset + MORE_PAGE]
    if not page:
        return escape(messages.text("more_none", answer.lang)), None
    head = messages.text(
        "more_head",
        answer.lang,
        label=escape(messages.text("related", answer.lang)),
        first=offset + 1,
        last=offset + len(page),
        question=escape(question if len(question) <= 200 else question[:200] + "…"),
    )
    parts = [head]
    for passage in page:
        parts.append(
            f"<blockquote>{escape(passage.text)}</blockquote>\n— {escape(source_line(passage.citation))}"
        )
    following = offset + len(page)
    return "\n".join(parts), following if following < len(passages) else None


def language(update: Update | None) -> str:
    """The language of the replies to this update's user: "en" or "zh"."""
    user = update.effective_user if isinstance(update, Update) else None
    code = (user.language_code or "") if user else ""
    return "en" if code.lower().startswith("en") else "zh"
