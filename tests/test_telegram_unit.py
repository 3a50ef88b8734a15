"""The Telegram bot's pure parts: HTML splitting, rate limit, question cache, log redaction."""

from __future__ import annotations

import html
import logging
import re

from fake_bot_api import FakeBotAPI, check_html, utf16_len, visible_text
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram.error import InvalidToken

from bot.__main__ import _argv
from bot.telegram import (
    QuestionCache,
    RateLimit,
    RedactSecrets,
    file_url_for,
    more_data,
    parse_more,
    split_html,
)

TOKEN = "123456:TEST-abcdefghijklmnopqrstuvwxyz"


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


# ---------------------------------------------------------------------- split_html


def test_short_html_is_one_message():
    text = "<b>285个服务站</b>\n<blockquote>全市建成……</blockquote>"
    assert split_html(text) == [text]
    assert split_html("   ") == []


def test_long_html_splits_at_line_ends_with_tags_balanced():
    lines = [f"{n}. <b>标题{n}</b> · 来源 &amp; 日期" for n in range(400)]
    text = "<blockquote>" + "\n".join(lines) + "</blockquote>"
    chunks = split_html(text)
    assert len(chunks) > 1
    for chunk in chunks:
        assert utf16_len(chunk) <= 4096
        assert check_html(chunk) is None
        assert chunk.startswith("<blockquote>") and chunk.endswith("</blockquote>")
    assert squeeze("".join(visible_text(c) for c in chunks)) == squeeze(visible_text(text))
    # breaks fall between lines: every chunk ends a line
    assert all(visible_text(c).rstrip().endswith("日期") for c in chunks)


def test_text_without_breaks_is_cut_between_characters_not_inside_entities():
    text = "<b>" + "&amp;" * 3000 + "</b>"
    chunks = split_html(text, limit=100)
    for chunk in chunks:
        assert utf16_len(chunk) <= 100 and check_html(chunk) is None
    assert "".join(visible_text(c) for c in chunks) == "&" * 3000


def test_sentence_ends_are_preferred_to_arbitrary_cuts():
    sentence = "哈密市累计投入5.6亿元用于部队建设。"
    chunks = split_html(sentence * 40, limit=100)
    assert all(visible_text(c).endswith("。") for c in chunks)


def test_astral_characters_count_twice():
    chunks = split_html("🎉" * 100, limit=50)
    assert all(utf16_len(c) <= 50 for c in chunks) and "".join(chunks) == "🎉" * 100


segments = st.lists(
    st.tuples(
        st.sampled_from(["", "b", "i", "blockquote", "code"]),
        st.text(
            alphabet=st.sampled_from(list("哈密服务站285个 \n。，<>&\"'abc🎉")),
            min_size=0,
            max_size=60,
        ),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(segments, st.integers(min_value=40, max_value=300))
def test_split_html_property(parts, limit):
    text = "".join(
        f"<{tag}>{html.escape(body)}</{tag}>" if tag else html.escape(body) for tag, body in parts
    )
    chunks = split_html(text, limit=limit)
    for chunk in chunks:
        assert utf16_len(chunk) <= limit
        assert check_html(chunk) is None, chunk
    assert squeeze("".join(visible_text(c) for c in chunks)) == squeeze(visible_text(text))


# ---------------------------------------------------------------------- limits and keys


def test_rate_limit_sliding_window_warns_once():
    limit = RateLimit(per_minute=3)
    assert [limit.check(1, now=t) for t in (0, 1, 2)] == [(True, False)] * 3
    assert limit.check(1, now=3) == (False, True)  # told once
    assert limit.check(1, now=4) == (False, False)  # then quietly ignored
    assert limit.check(2, now=4) == (True, False)  # others unaffected
    assert limit.check(1, now=60.5) == (True, False)  # the first hit left the window
    assert limit.check(1, now=60.9) == (False, False)  # hits at 1, 2 and 60.5 in the window
    assert limit.check(1, now=65) == (True, False)
    assert limit.check(1, now=66) == (True, False)
    assert limit.check(1, now=67) == (False, True)  # a minute after the notice, a new one


def test_rate_limit_remembers_a_bounded_number_of_users():
    limit = RateLimit(per_minute=1, max_users=100)
    for user in range(1000):
        limit.check(user, now=0)
    assert len(limit._hits) == 100


def test_question_cache_is_a_bounded_lru_with_short_keys():
    cache = QuestionCache(size=3)
    keys = [cache.put(f"q{n}") for n in range(3)]
    assert cache.get(keys[0]) == "q0"  # now most recent
    cache.put("q3")
    assert cache.get(keys[1]) is None and cache.get(keys[0]) == "q0" and len(cache) == 3
    data = more_data(keys[0], 12)
    assert len(data.encode()) <= 64
    assert parse_more(data) == (keys[0], 12)
    for garbage in (None, "", "more:", "more:x:y", "other:abc:1", "more:" + "a" * 40 + ":1"):
        assert parse_more(garbage) is None


def test_file_url_for():
    assert file_url_for("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert file_url_for("http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/file/bot"


def test_python_m_bot_defaults_to_serve():
    assert _argv([]) == ["serve"]
    assert _argv(["--data-dir", "x"]) == ["serve", "--data-dir", "x"]
    assert _argv(["ask", "哈密有多少个服务站?"]) == ["ask", "哈密有多少个服务站?"]


# ---------------------------------------------------------------------- secrets in logs


def test_redaction_covers_messages_arguments_and_tracebacks(caplog):
    logger = logging.getLogger("qabot-test-redaction")
    handler = logging.StreamHandler()
    records: list[str] = []
    handler.emit = lambda record: records.append(handler.format(record))  # type: ignore[method-assign]
    handler.addFilter(RedactSecrets([TOKEN]))
    logger.addHandler(handler)
    try:
        logger.error("url http://x/bot%s/getMe", TOKEN)
        try:
            raise RuntimeError(f"failed for {TOKEN}")
        except RuntimeError:
            logger.exception("boom")
        try:
            raise InvalidToken(f"The token `{TOKEN}` was rejected by the server.")
        except InvalidToken:
            logger.exception("Invalid token")
    finally:
        logger.removeHandler(handler)
    output = "\n".join(records)
    assert TOKEN not in output and "abcdefghijklmnop" not in output
    assert "http://x/bot***/getMe" in output and "failed for ***" in output
    assert "InvalidToken" not in output  # that traceback is dropped altogether


# ---------------------------------------------------------------------- the fake itself


def test_fake_html_check_is_as_strict_as_telegram():
    assert check_html("<b>粗体</b> &amp; &lt;tag&gt;") is None
    assert "unescaped" in check_html("a < b")
    assert "unescaped" in check_html("R&D")
    assert "unsupported" in check_html("<div>x</div>")
    assert "end tag" in check_html("<b><i>x</b></i>")
    assert "empty" in check_html("<b> </b>")
    assert "too long" in check_html("字" * 4097)


def test_fake_entities_use_utf16_offsets():
    [mention] = FakeBotAPI.entities("🎉 @QabotTestBot 你好")
    assert mention == {"type": "mention", "offset": 3, "length": 13}
    command, _ = FakeBotAPI.entities("/ask@QabotTestBot http://example.com")
    assert command == {"type": "bot_command", "offset": 0, "length": 17}
