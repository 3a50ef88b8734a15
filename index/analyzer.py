"""Text normalisation and tokenisation shared by passages and questions.

`normalize` folds full-width forms (NFKC), traditional script (OpenCC t2s) and case, one
character for one character, so offsets in the normalised text are offsets in the original.
`tokenize` keeps figures whole (`285个`, `1.6亿元`) and adds their parts (`285`, `1.6亿`, the
unit, Arabic digits for Chinese numerals) so that a question writing `1.6亿`, `285` or `六次`
finds them; the rest is cut by jieba in search mode (compounds and their parts) with the
domain dictionary in `userdict.txt`.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources

import jieba
import jieba.posseg
from opencc import OpenCC

from index.figures import ASKED_UNIT_RE, find_figures

USER_DICT = "userdict.txt"
STOPWORDS = frozenset(
    """
    的 地 得 了 着 过 和 与 及 以及 或 并 而 且 在 于 是 为 为了 把 被 将 对 从 向 给 由 等 等等 也 都 就
    还 又 再 更 很 最 有 有的 这 那 这个 那个 这些 那些 其 之 所 以 中 上 下 里 个 各 该 此 其中 我 我们
    你 你们 他 他们 她 它 谁 吗 呢 吧 啊 呀 哦 么 什么 怎么 怎样 怎么样 如何 多少 几 哪 哪里 哪些 哪个
    为什么 是否 请问 请 一下 多 少 共 共有 一共 总共 总计 到底 究竟 是不是 有没有 能 可以 会 要 已
    已经 曾 被 让 使 经过 通过 进行 目前 现在 今天
    the a an of in on at to for by with is are was were be been do does did how what which who
    whom when where why many much there has have had and or it its this that from as
    """.split()
)
_TOKEN_CHARS = re.compile(r"[\w\u4e00-\u9fff%]", re.UNICODE)
_jieba_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_pos_tokenizer: jieba.posseg.POSTokenizer | None = None

jieba.setLogLevel(logging.WARNING)


@lru_cache(maxsize=1)
def _t2s() -> OpenCC:
    return OpenCC("t2s")


def user_dict_text() -> str:
    return resources.files("index").joinpath(USER_DICT).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def analyzer_version() -> str:
    """Changes whenever tokens could change: stored indexes with another version are re-tokenised."""
    digest = hashlib.sha256()
    digest.update(b"analyzer-1|")
    digest.update(jieba.__version__.encode())
    digest.update(user_dict_text().encode("utf-8"))
    return digest.hexdigest()[:16]


def _fold_char(char: str) -> str:
    folded = unicodedata.normalize("NFKC", char)
    if len(folded) != 1:
        return char
    return folded.lower()


def normalize(text: str) -> str:
    """Fold width, script and case; the result has exactly the length of `text`."""
    folded = "".join(_fold_char(c) for c in text)
    simplified = _t2s().convert(folded)
    if len(simplified) != len(folded):
        simplified = "".join(
            converted if len(converted := _t2s().convert(c)) == 1 else c for c in folded
        )
    return simplified


def get_tokenizer() -> jieba.Tokenizer:
    """The shared jieba tokenizer with the domain dictionary loaded (loaded once, lazily)."""
    global _tokenizer, _pos_tokenizer
    with _jieba_lock:
        if _tokenizer is None:
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            for line in user_dict_text().splitlines():
                parts = line.split()
                if parts and not line.startswith("#"):
                    word = parts[0]
                    freq = int(parts[1]) if len(parts) > 1 else None
                    tag = parts[2] if len(parts) > 2 else None
                    tokenizer.add_word(word, freq, tag)
            _tokenizer = tokenizer
            _pos_tokenizer = jieba.posseg.POSTokenizer(tokenizer)
    return _tokenizer


def pos_tokenizer() -> jieba.posseg.POSTokenizer:
    get_tokenizer()
    assert _pos_tokenizer is not None
    return _pos_tokenizer


def _is_token(word: str) -> bool:
    return bool(word) and word not in STOPWORDS and bool(_TOKEN_CHARS.search(word))


def _figure_tokens(normalized: str) -> Iterator[tuple[int, int, list[str]]]:
    """(start, end, tokens) for every figure and every asked-for unit ("多少个")."""
    spans: list[tuple[int, int, list[str]]] = []
    for asked in ASKED_UNIT_RE.finditer(normalized):
        spans.append((asked.start(), asked.end(), [asked.group("unit")]))
    for figure in find_figures(normalized):
        if any(start <= figure.start < end for start, end, _ in spans):
            continue
        whole = re.sub(r"\s+", "", normalized[figure.start : figure.end])
        tokens = [whole, figure.number]
        if figure.unit:
            tokens.append(figure.unit)
        if not figure.number[0].isdigit():  # Chinese numeral: also in Arabic digits
            tokens.append(figure.canonical)
            if figure.unit:
                tokens.append(figure.canonical + figure.unit)
        spans.append((figure.start, figure.end, list(dict.fromkeys(tokens))))
    spans.sort()
    yield from spans


def tokenize(text: str) -> list[str]:
    """BM25 tokens of `text`: normalised, figures whole and in parts, stopwords removed."""
    normalized = normalize(text)
    tokenizer = get_tokenizer()
    tokens: list[str] = []
    position = 0
    for start, end, figure_tokens in _figure_tokens(normalized):
        if start < position:
            continue
        tokens.extend(w for w in tokenizer.lcut_for_search(normalized[position:start]) if _is_token(w))
        tokens.extend(figure_tokens)
        position = end
    tokens.extend(w for w in tokenizer.lcut_for_search(normalized[position:]) if _is_token(w))
    return [t.strip() for t in tokens if t.strip()]


NAME_TAGS = frozenset({"ns", "nr", "nrt", "nt", "nz", "nrfg"})


def names(text: str) -> list[str]:
    """Proper names in `text` (places, people, organisations), normalised, in order, unique."""
    found = []
    for pair in pos_tokenizer().lcut(normalize(text)):
        if pair.flag in NAME_TAGS and len(pair.word) >= 2 and pair.word not in STOPWORDS:
            found.append(pair.word)
    return list(dict.fromkeys(found))
