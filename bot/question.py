"""Question analysis: what kind of answer is asked for, about which names, with which key words."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from index.analyzer import STOPWORDS, get_tokenizer, names, normalize, tokenize
from index.figures import ASKED_UNIT_RE, UNIT_KIND

# Checked in order; the first pattern that matches the normalised question decides its kind.
KIND_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("ordinal", re.compile(r"第几|几连冠|连续几|几届|哪一届|第多少")),
    ("date", re.compile(r"什么时候|何时|哪一?年|哪一?天|几月|几号|什么时间|哪个月|日期")),
    ("duration", re.compile(r"多久|多长时间|多少年|几年|多少天|几天|多少个月|几个月|多少小时|用时")),
    ("money", re.compile(
        r"多少钱|多少资金|多少经费|多少元|多少万元|多少亿|价值多少|金额|耗资|花费|花了多少|"
        r"投入(了)?多少|投资(了)?多少|资金多少|拨付(了)?多少|补助(了)?多少|多少投资"
    )),
    ("area", re.compile(r"多少亩|几亩|多大面积|面积|多少平方|多少公顷|土地")),
    ("measure", re.compile(r"百分之几|多少%|比例|比率|占比|多少公里|多少吨|多高|多长|多重")),
    ("person", re.compile(r"谁|哪位|什么人|哪个人|叫什么名字的人")),
    ("name", re.compile(r"叫什么|什么名字|名称|称为|称作|被誉为|什么品牌|品牌是|口号|哪个|哪家|哪些|是什么")),
    ("count", re.compile(r"多少|几")),
]
QUESTION_WORDS = re.compile(r"多少|几|什么|怎么|怎样|如何|哪|谁|吗|呢|何")


@dataclass
class Question:
    """An analysed question: `words` are its key words, `tokens` what BM25 is given."""

    text: str
    normalized: str
    kind: str
    asked_unit: str | None
    names: list[str]
    words: list[str]
    tokens: list[str]
    lang: str = "zh"
    extra_tokens: list[str] = field(default_factory=list)


def detect_lang(text: str) -> str:
    """'en' for mostly Latin-script questions, 'zh-hant' for traditional script, else 'zh'."""
    letters = sum(1 for c in text if c.isascii() and c.isalpha())
    hanzi = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    if letters > 2 * hanzi and letters >= 3:
        return "en"
    if hanzi and normalize(text) != "".join(
        c.lower() if c.isascii() else c for c in _nfkc(text)
    ):
        return "zh-hant"
    return "zh"


def _nfkc(text: str) -> str:
    import unicodedata

    return "".join(
        folded if len(folded := unicodedata.normalize("NFKC", c)) == 1 else c for c in text
    )


def question_kind(normalized: str, asked_unit: str | None) -> str:
    for kind, pattern in KIND_PATTERNS:
        if pattern.search(normalized):
            if kind == "count" and asked_unit:
                return UNIT_KIND.get(asked_unit, "count")
            if kind == "area" and asked_unit and UNIT_KIND.get(asked_unit) not in (None, "area"):
                return UNIT_KIND[asked_unit]
            return kind
    return "other"


def key_words(normalized: str, exclude: set[str]) -> list[str]:
    """Content words of the question (jieba's default cut), without question words and units."""
    words = []
    for word in get_tokenizer().lcut(normalized):
        word = word.strip()
        if (
            len(word) < 1
            or word in STOPWORDS
            or word in exclude
            or not re.search(r"[\w\u4e00-\u9fff]", word)
            or QUESTION_WORDS.fullmatch(word)
            or (len(word) == 1 and word in UNIT_KIND)
        ):
            continue
        if QUESTION_WORDS.match(word) and len(word) <= 3:
            continue
        words.append(word)
    return list(dict.fromkeys(words))


def analyze(text: str) -> Question:
    """Analyse a Chinese (simplified or traditional) question."""
    normalized = normalize(text.strip())
    asked = ASKED_UNIT_RE.search(normalized)
    asked_unit = asked.group("unit") if asked else None
    found_names = names(normalized)
    units = {asked_unit} if asked_unit else set()
    return Question(
        text=text,
        normalized=normalized,
        kind=question_kind(normalized, asked_unit),
        asked_unit=asked_unit,
        names=found_names,
        words=key_words(normalized, units),
        tokens=tokenize(normalized),
        lang=detect_lang(text),
    )
