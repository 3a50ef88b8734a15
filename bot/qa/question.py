"""Question: every question-side feature, computed once when the question is read, then frozen.

Nothing downstream reads the question's text again: candidates and features look only at
the fields of `Question`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import Enum

from bot.qa.glosses import stem
from bot.qa.kinds import Kind, cued_kinds, unit_kinds
from bot.qa.lexicon import PLACE_SUFFIXES, Lexicon, cilin_synonyms, is_cedict_place
from bot.qa.qualifiers import Qualifier, qualifiers_asked
from index.analyzer import STOPWORDS, get_tokenizer, normalize, pos_tokenizer, tokenize
from index.figures import ASKED_UNIT_RE

MAX_QUESTION_CHARS = 500
SYNONYM_WEIGHT = 0.6
SHORT_PLACE_WEIGHT = 0.9
ASPECT_PARTICLES = "了过着"
UNKNOWN_RUN_CHARS = 3  # this many characters no article writes, side by side, are a name
UNKNOWN_WORD_WEIGHT = 0.5  # an English word no dictionary maps weighs half a rare word
PLACE_TAGS = frozenset({"ns"})
NAME_TAGS = frozenset({"nr", "nrfg", "nrt", "nt", "nz"})
LATIN_WORD_RE = re.compile(r"[A-Za-z][A-Za-z'’-]*")
CJK_RE = re.compile(r"[\u4e00-\u9fff]")
YEAR_RE = re.compile(r"(?:19|20)\d{2}")
# Words that only frame a question ("多少", "请问"): never key words
FRAME_WORDS = frozenset(
    "多少 几 什么 怎么 怎样 怎么样 如何 哪 哪里 哪儿 哪个 哪些 哪家 哪位 谁 吗 呢 啊 呀 吧 啥 咋 "
    "请问 一下 知道 告诉 我 想 问 多大 多长 多高 多久 是 有 的 了 一共 总共 到底 呢 么 "
    "多少钱 几个 几家 第几".split()
)


class Language(Enum):
    CHINESE = "zh"
    TRADITIONAL = "zh-hant"
    ENGLISH = "en"


@dataclass(frozen=True)
class Term:
    """A key word of the question and the Chinese forms a passage may write it in."""

    text: str
    forms: tuple[tuple[str, float], ...]  # (normalised form, how well it stands for the term)
    weight: float  # the term's IDF in the index (the largest IDF when no passage has it)
    place: bool = False


@dataclass(frozen=True)
class Question:
    """A question read once: its language, key words, places, kind cues and qualifiers."""

    text: str
    normalized: str
    language: Language
    terms: tuple[Term, ...]
    places: tuple[Term, ...]
    search_tokens: tuple[str, ...]
    cued: frozenset[Kind]
    kind_prior: dict[Kind, float] = field(hash=False)
    asked_unit: str | None
    counted: str | None  # the noun after an asked unit: 多少个服务站 -> 服务站
    years: tuple[str, ...]
    qualifiers: frozenset[Qualifier]
    kind_words: tuple[str, ...]  # what the learned kind prior reads
    unknown_names: tuple[str, ...] = ()  # names no article writes (基普鲁托, cut apart or not)

    @property
    def total_weight(self) -> float:
        return sum(term.weight for term in self.terms) or 1.0

    @property
    def asked_kind(self) -> Kind | None:
        """The kind the asked unit names (多少亩 -> AREA), if any."""
        return unit_kinds().get(self.asked_unit) if self.asked_unit else None

    @property
    def best_kind(self) -> Kind:
        """The most likely kind, by the asked unit, else by the learned prior."""
        if self.asked_kind is not None:
            return self.asked_kind
        return (
            max(self.kind_prior, key=self.kind_prior.get) if self.kind_prior else Kind.DESCRIPTION
        )


def clean_question(text: str) -> str:
    """Drop control and format characters, collapse blanks, bound the length."""
    kept = "".join(
        " " if unicodedata.category(c) in {"Cc", "Zl", "Zp"} else c
        for c in text
        if unicodedata.category(c) not in {"Cf", "Cs", "Co", "Cn"}
    )
    return " ".join(kept.split())[:MAX_QUESTION_CHARS]


def language_of(text: str, normalized: str) -> Language:
    latin = sum(len(w) for w in LATIN_WORD_RE.findall(text))
    if latin > 2 * len(CJK_RE.findall(text)):
        return Language.ENGLISH
    if any(a != b for a, b in zip(text, normalized, strict=False) if CJK_RE.match(a)):
        return Language.TRADITIONAL
    return Language.CHINESE


def kind_words(normalized: str) -> tuple[str, ...]:
    """The words the kind prior is learned on: Chinese words (frame words included) and stems."""
    words = [w for w in get_tokenizer().lcut(normalized) if w.strip() and CJK_RE.search(w)]
    words += [stem(w) for w in LATIN_WORD_RE.findall(normalized)]
    return tuple(dict.fromkeys(words))


class QuestionReader:
    """Reads questions against one index: IDF weights, synonyms and English forms it holds."""

    def __init__(
        self,
        idf: Callable[[str], float | None],
        max_idf: float,
        lexicon: Callable[[], Lexicon],
        kind_prior: Callable[[tuple[str, ...]], dict[Kind, float]],
    ):
        self._idf = idf
        self._max_idf = max_idf
        self._lexicon = lexicon
        self._kind_prior = kind_prior

    def _weight(self, form: str) -> float:
        return self._idf(form) or self._max_idf

    def _chinese_term(self, word: str, place: bool) -> Term:
        forms: dict[str, float] = {word: 1.0}
        if place and len(word) >= 3 and word[-1] in PLACE_SUFFIXES:
            forms[word[:-1]] = SHORT_PLACE_WEIGHT  # 张掖市 where the article writes 张掖
        for synonym in cilin_synonyms(word):
            if len(synonym) >= 2 and self._idf(synonym) is not None:
                forms.setdefault(synonym, SYNONYM_WEIGHT)
        weight = max(self._weight(form) * 1.0 for form in forms if forms[form] >= 0.9)
        return Term(word, tuple(forms.items()), weight, place)

    def read(self, text: str) -> Question:
        text = clean_question(text)
        normalized = normalize(text)
        language = language_of(text, normalized)
        terms: dict[str, Term] = {}
        places: dict[str, Term] = {}
        tags = {pair.word: pair.flag for pair in pos_tokenizer().cut(normalized)}
        dictionary_tags = pos_tokenizer().word_tag_tab
        tokens = tokenize(normalized)  # once: key words, figures and the BM25 query
        for word in tokens:
            if len(word) > 1 and word[-1] in ASPECT_PARTICLES and self._idf(word) is None:
                word = word[:-1]  # 投了 -> 投: the article writes 投入, never 投了
            if word in FRAME_WORDS or word in STOPWORDS or not CJK_RE.search(word):
                continue
            # jieba's tag in context, or its dictionary's (合肥 is "n" before 上半年)
            is_place = (
                tags.get(word) in PLACE_TAGS
                or dictionary_tags.get(word) in PLACE_TAGS
                or is_cedict_place(word)
            )
            term = self._chinese_term(word, is_place)
            terms.setdefault(word, term)
            if is_place:
                places.setdefault(word, term)
        for figure_token in (w for w in tokens if w[:1].isdigit()):
            if not YEAR_RE.fullmatch(figure_token):
                terms.setdefault(
                    figure_token,
                    Term(figure_token, ((figure_token, 1.0),), self._weight(figure_token)),
                )
        search = [w for w in tokens if w not in FRAME_WORDS]
        unknown_latin: list[str] = []
        if LATIN_WORD_RE.search(text):
            self._read_english(text, language, terms, places, search, unknown_latin)
        asked = ASKED_UNIT_RE.search(normalized)
        counted = None
        if asked:
            rest = [w for w in get_tokenizer().lcut(normalized[asked.end() :]) if w.strip()]
            counted = rest[0] if rest and CJK_RE.search(rest[0]) else None
        words = kind_words(normalized)
        unknown = self._unknown_names(normalized) + tuple(unknown_latin)
        return Question(
            text=text,
            normalized=normalized,
            language=language,
            terms=tuple(terms.values()),
            places=tuple(places.values()),
            search_tokens=tuple(dict.fromkeys(search)),
            cued=cued_kinds(normalized),
            kind_prior=self._kind_prior(words),
            asked_unit=asked.group("unit") if asked else None,
            counted=counted,
            years=tuple(dict.fromkeys(YEAR_RE.findall(normalized))),
            qualifiers=qualifiers_asked(normalized),
            kind_words=words,
            unknown_names=unknown,
        )

    def _unknown_names(self, normalized: str) -> tuple[str, ...]:
        """Runs of words no passage writes, jieba cut them apart or not, where one is tagged
        a name or which are long enough to be one (基普 + 鲁托)."""
        names, run, named = [], "", False
        for pair in [*pos_tokenizer().cut(normalized), None]:
            word = pair.word if pair else ""
            unknown = (
                pair is not None and CJK_RE.fullmatch(word) is not None
                and word not in FRAME_WORDS and word not in STOPWORDS and self._idf(word) is None
            )  # fmt: skip
            if unknown:
                run += word
                named = named or pair.flag in NAME_TAGS | PLACE_TAGS
                continue
            if len(run) >= 2 and (named or len(run) >= UNKNOWN_RUN_CHARS):
                names.append(run)
            run, named = "", False
        return tuple(names)

    def _read_english(
        self,
        text: str,
        language: Language,
        terms: dict[str, Term],
        places: dict[str, Term],
        search: list[str],
        unknown: list[str],
    ) -> None:
        """English words become terms with the corpus's Chinese forms; names become places."""
        reading = self._lexicon().read(text, within_chinese=language is not Language.ENGLISH)
        for written in reading.names:
            term = self._chinese_term(normalize(written[0]), place=True)
            others = tuple((normalize(form), 1.0) for form in written[1:])
            term = replace(term, forms=term.forms + others)  # whichever the article writes
            terms.setdefault(term.text, term)
            places.setdefault(term.text, term)
            search.append(term.text)
        for name in reading.unknown_names:
            key = name.lower()
            terms.setdefault(key, Term(key, ((key, 1.0),), self._max_idf, place=True))
            unknown.append(name)
        for word, forms in reading.groups.items():
            if not forms:  # a word the articles have no term for still counts as missing
                key = word.lower()
                terms.setdefault(key, Term(key, ((key, 1.0),), self._max_idf * UNKNOWN_WORD_WEIGHT))
                continue
            normalized_forms = tuple((normalize(f), s) for f, s in forms)
            weight = max(self._weight(f) for f, _ in normalized_forms)
            terms.setdefault(word.lower(), Term(word.lower(), normalized_forms, weight))
            search.extend(f for f, _ in normalized_forms)
