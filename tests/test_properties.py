"""Property-based tests: no input text breaks ingestion, tokenisation or answering, and an
answer is always a verbatim piece of the passage it cites."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.qa.answerer import Answerer
from bot.qa.datasets import MAX_ANSWER_CHARS
from index.analyzer import has_english_word, normalize, tokenize
from index.build import build_index
from index.figures import find_figures
from index.ingest import UnreadableFile, decode_bytes, parse_text

REPO = Path(__file__).resolve().parents[1]

# Text that looks like what people and pages send: Chinese, figures, units, punctuation of
# both widths, Latin letters, pinyin with tone marks, emoji, control characters and markup.
pieces = st.sampled_from(
    [
        "哈密",
        "张掖",
        "服务站",
        "多少",
        "几",
        "个",
        "名",
        "亿元",
        "万亩",
        "六次",
        "(县)",
        "(shuāngyōng)",
        "“",
        "”",
        "，",
        "。",
        ",",
        "?",
        "？",
        " ",
        "\n",
        "\u3000",
        "<b>",
        "</b>",
        "*",
        "_",
        "`",
        "[x](http://a)",
        "'; DROP TABLE",
        "$(rm -rf /)",
        "😀",
        "\x00",
        "\x1b[31m",
        "\u200b",
        "How many",
        "stations",
        "Hami",
        "擁軍門店",
        "2000多",
        "1.6",
        "285",
        "１２３",
    ]
)
messy_text = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(pieces, st.text(max_size=5)), max_size=40).map("".join),
)
common = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def answerer(tmp_path_factory: pytest.TempPathFactory) -> Answerer:
    index, _ = build_index(REPO / "data" / "articles", tmp_path_factory.mktemp("index") / "i.json")
    return Answerer(index)


@common
@given(messy_text)
def test_normalize_keeps_offsets(text):
    assert len(normalize(text)) == len(text)


@common
@given(messy_text)
def test_tokenize_never_fails_and_gives_clean_tokens(text):
    tokens = tokenize(text)
    assert all(isinstance(t, str) and t and t == t.strip() for t in tokens)


english_words = st.sampled_from(["up", "new", "in all", "first half", "men", "total"])


@common
@given(
    st.lists(
        st.one_of(english_words, st.sampled_from(["s", "wo", " ", ".", "增长", "1"])), max_size=8
    ).map("".join),
    english_words,
)
def test_an_english_cue_counts_only_as_a_whole_word(text, word):
    whole_word = re.compile(rf"(?<![a-z]){re.escape(word)}(?![a-z])")
    assert has_english_word(text, word) == bool(whole_word.search(text))


@common
@given(messy_text)
def test_figures_point_into_the_text(text):
    for figure in find_figures(text):
        assert 0 <= figure.start < figure.end <= len(text)
        assert figure.value >= 0


@common
@given(messy_text)
def test_parse_text_never_fails(text):
    article = parse_text(text, "x.txt")
    assert isinstance(article.title, str)
    for block in article.blocks:
        assert block.text.strip()


@common
@given(st.binary(max_size=300))
def test_decode_bytes_decodes_or_says_why(data):
    try:
        assert isinstance(decode_bytes(data), str)
    except UnreadableFile as exc:
        assert str(exc)


@common
@given(messy_text)
def test_any_question_gets_an_answer_from_its_citation_or_an_abstention(answerer, text):
    answer = answerer.answer(text)
    assert 0.0 <= answer.confidence <= 1.0
    if answer.answer is not None:
        assert answer.citation is not None
        assert answer.answer in answer.citation.text
        assert len(answer.answer) <= MAX_ANSWER_CHARS


def test_hostile_questions_are_answered_or_declined(answerer):
    for question in [
        "",
        "   ",
        "😀😀😀",
        "\x00\x01\x02",
        "<script>alert(1)</script>",
        "哈" * 100_000,
        "**bold** _x_ `code`",
        "SELECT * FROM passages; --",
        "$(reboot)",
        "🇨🇳 哈密 🙂 服务站?",
    ]:
        answer = answerer.answer(question)
        if answer.answer is not None:
            assert answer.answer in answer.citation.text
