"""Tokenisation: figures stay whole tokens and are found however a question writes them.

A question can write `1.6亿` for the article's `1.6亿元`, `285` for `285个`, `6次` for `六次`,
full-width digits or traditional characters; each must reach the passage that states it.
"""

from __future__ import annotations

import pytest

from index.analyzer import normalize, tokenize
from index.figures import find_figures
from index.search import Searcher
from index.store import load_index


@pytest.fixture(scope="module")
def searcher(seed_index):
    return Searcher(load_index(seed_index))


# ------------------------------------------------------------------ figures as whole tokens


@pytest.mark.parametrize(
    ("text", "whole", "parts"),
    [
        ("全市建成4个退役军人服务中心、285个服务站", "285个", ["285", "个"]),
        ("投入资金1.6亿元完成人武部营房改建", "1.6亿元", ["1.6亿", "元"]),
        ("市政府第一时间划拨5.4万亩土地用于营区建设", "5.4万亩", ["5.4万", "亩"]),
        ("为驻地部队划拨土地2000多亩用于建设训练场地", "2000多亩", ["2000", "亩"]),
        ("累计为1.5万户家庭悬挂光荣牌", "1.5万户", ["1.5万", "户"]),
        ("捐赠牛羊216头(只)", "216头", ["216", "头"]),
        ("肃南县尧熬尔原生态文化传承有限责任公司等8 家机构", "8家", ["8", "家"]),
    ],
)
def test_figure_is_one_token_and_its_parts(text, whole, parts):
    tokens = tokenize(text)
    assert whole in tokens
    for part in parts:
        assert part in tokens
    # never cut inside the number: no "6亿元" from "1.6亿元", no "85个" from "285个"
    fragments = {whole[i:] for i in range(1, len(whole) - 1)} - set(parts)
    assert not fragments & set(tokens)


def test_figures_in_the_seed_passages_are_whole(seed_index):
    index = load_index(seed_index).in_memory()
    vocabulary = {t for tokens in index.tokens for t in tokens}
    for figure in ("285个", "1.6亿元", "5.4万亩", "2000多亩", "781万元", "5.6亿元", "963个"):
        assert figure in vocabulary, figure


@pytest.mark.parametrize(
    ("chinese", "arabic"),
    [("六次", "6次"), ("三次", "3次"), ("两千多亩", "2000多亩"), ("十二个", "12个")],
)
def test_chinese_numerals_meet_arabic_digits(chinese, arabic):
    shared = set(tokenize(arabic)) & set(tokenize(chinese))
    assert arabic in shared or arabic.rstrip("多亩次个") in shared


@pytest.mark.parametrize(
    ("numeral", "value"),
    [("六次", 6), ("十二个", 12), ("三百零五个", 305), ("两千亩", 2000), ("一万五千人", 15000)],
)
def test_chinese_numeral_values(numeral, value):
    (figure,) = find_figures(numeral)
    assert figure.value == value


def test_figure_values_and_units():
    figures = {
        f.number: f for f in find_figures("投入资金1.6亿元,划拨5.4万亩土地,建成285个服务站,近4万个")
    }
    assert figures["1.6亿"].value == 160_000_000 and figures["1.6亿"].unit == "元"
    assert figures["5.4万"].value == 54_000 and figures["5.4万"].unit == "亩"
    assert figures["285"].value == 285 and figures["285"].unit == "个"
    assert figures["4万"].approximate


# ------------------------------------------------------------------ normalisation


def test_normalize_keeps_offsets_and_folds_script_width_and_case():
    text = "張掖投入１.６億元，ＡＢＣ服務站"
    folded = normalize(text)
    assert len(folded) == len(text)
    assert folded == "张掖投入1.6亿元,abc服务站"


@pytest.mark.parametrize(
    ("variant", "simplified"),
    [
        ("投入資金1.6億元", "投入资金1.6亿元"),
        ("２８５個服務站", "285个服务站"),
        ("5.4萬畝", "5.4万亩"),
        ("連續六次", "连续六次"),
    ],
)
def test_traditional_and_full_width_give_the_same_tokens(variant, simplified):
    assert tokenize(variant) == tokenize(simplified)


def test_stopwords_and_punctuation_are_not_tokens():
    tokens = tokenize("哈密有多少个服务站？！，。")
    assert "服务站" in tokens
    for junk in ("有", "多少", "？", "！", "，", "。", ""):
        assert junk not in tokens


@pytest.mark.parametrize("text", ["", "   ", "。，！", "\x00\x1b", "😀"])
def test_empty_or_junk_text_gives_no_tokens(text):
    assert tokenize(text) == []


# ------------------------------------------------------------------ found from a question


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("1.6亿", "投入资金1.6亿元"),
        ("张掖投入1.6亿", "投入资金1.6亿元"),
        ("1.6億元", "投入资金1.6亿元"),
        ("285", "285个服务站"),
        ("２８５个", "285个服务站"),
        ("5.4万亩", "划拨5.4万亩土地"),
        ("5.4万", "划拨5.4万亩土地"),
        ("2000多亩", "划拨土地2000多亩"),
        ("连续6次", "连续六次荣膺"),
        ("6次荣膺", "连续六次荣膺"),
        ("连续3次被评为全国重点军供站", "连续三次被评为全国重点军供站"),
    ],
)
def test_figure_in_a_question_finds_its_passage_first(searcher, query, expected):
    hits = searcher.search(query, top_k=3)
    assert hits, query
    assert expected in hits[0].passage.text, (query, hits[0].passage.text[:40])
    assert hits[0].score > 0


def test_chinese_numerals_read_as_people_write_them():
    from index.figures import parse_chinese_number

    assert parse_chinese_number("三百零五") == 305
    assert parse_chinese_number("三百五") == 350
    assert parse_chinese_number("一万五") == 15000
    assert parse_chinese_number("二〇二二") == 2022
    assert parse_chinese_number("两三") is None  # "two or three", not 23
    assert parse_chinese_number("三四十") is None
