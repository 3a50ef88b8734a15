"""English words of CC-CEDICT's glosses: the keys an entry is looked up by, and its names.

Pure functions of one dictionary entry (no index, no corpus): `bot/qa/dictionaries.py` runs
them once when it prepares the dictionaries, and `bot/qa/lexicon.py` stems a question's words
the same way, so that a question meets the glosses word for word.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.qa.dictionaries import CedictEntry

ENGLISH_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
ACRONYM_RE = re.compile(r"\(([A-Z]{2,6})\)")
MAX_GLOSS_WORDS = 4  # longer glosses are explanations, not names for the word
WORD_OF_PHRASE_FIT = 0.4  # "unemployment" alone, for the gloss "unemployment rate"
GENERAL_MAX_TERMS = 3
LISTED_NAMES_RE = re.compile(r"\s*[A-ZÜ]")
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


def _names_a_place(description: str) -> bool:
    """Whether what follows a name in a gloss says what kind of place it is ("prefecture-level
    city in ...", "autonomous prefecture"), rather than a thing of the place ("dollar")."""
    words = set(re.findall(r"[a-z]+", description.lower()))
    return bool(words & (PLACE_WORDS | {"autonomous", "capital", "banner", "township"}))


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


def gloss_phrase(gloss: str) -> list[str]:
    """Stemmed words of a gloss, without parentheses and leading 'to'/'a'/'the'."""
    gloss = re.sub(r"\([^)]*\)|\[[^\]]*\]|\S*\|\S*", " ", gloss)
    words = [w for w in ENGLISH_WORD.findall(gloss)]
    while words and words[0].lower() in {"to", "a", "an", "the", "lit", "fig"}:
        words = words[1:]
    return [stem(w) for w in words]


GENERAL_FORM_WEIGHT = {1: 0.4, 2: 0.6}


def _sense_fit(number: int, gloss: str) -> float:
    """The first sense is the main one; a qualified sense "(statistics)" is narrow."""
    return (1.0 if number == 0 else 0.8) * (0.5 if "(" in gloss else 1.0)


def gloss_keys(entry: CedictEntry) -> Iterator[tuple[str, float]]:
    """The English keys a common (not proper) entry is looked up by, each with its fit:
    acronyms ("gross domestic product (GDP)"), whole glosses, and their words."""
    for number, gloss in enumerate(entry.glosses):
        for acronym in ACRONYM_RE.findall(gloss):
            yield acronym.lower(), 1.0
        phrase = gloss_phrase(gloss)
        if not phrase or len(phrase) > MAX_GLOSS_WORDS:
            continue
        fit = _sense_fit(number, gloss)
        yield " ".join(phrase), fit
        if len(phrase) > 1:
            for word in phrase:
                if word not in EN_STOPWORDS:
                    yield word, fit * WORD_OF_PHRASE_FIT


def general_keys(entry: CedictEntry) -> Iterator[tuple[str, float]]:
    """Keys of a word of one or two characters, matched whatever words the articles use
    (build -> 建 in 新建): weaker than the index's own terms."""
    weight = GENERAL_FORM_WEIGHT.get(len(entry.simplified))
    if entry.proper_noun or weight is None:
        return
    for number, gloss in enumerate(entry.glosses[:4]):
        phrase = gloss_phrase(gloss)
        if phrase and len(phrase) <= 2:
            yield " ".join(phrase), _sense_fit(number, gloss) * weight


def name_variants(entry: CedictEntry) -> set[str]:
    """The English names of a proper noun: "Ürümqi or Urumqi", "Shanghai municipality" ->
    "shanghai", its pinyin run together ("Da4 li3" -> dali)."""
    if not entry.glosses:
        return set()
    gloss = re.sub(r"\s*\(.*?\)", "", entry.glosses[0])
    head, _, rest = gloss.partition(",")
    if LISTED_NAMES_RE.match(rest):
        return set()  # "Hong Kong, Zhuhai and Macau": a list of names, no name of the list's own
    variants = set()
    for name in (n.strip() for n in head.split(" or ")):
        if not name[:1].isupper():
            continue  # "German person or people": "people" is no name
        # "Ordos prefecture-level city in Inner Mongolia" -> "Ordos"; "Dali Bai ..." -> "Dali
        # Bai"; but "Hong Kong person" or "Hong Kong dollar" is not Hong Kong
        leading = re.match(r"[A-ZÜ][\w'’-]*(?: [A-ZÜ][\w'’-]*)*", name)
        if leading and not _names_a_place(name[leading.end() :]):
            leading = None
        for variant in (name, leading.group(0) if leading else ""):
            variant = variant.lower().replace("ü", "u")
            if not re.fullmatch(r"[a-z' -]+", variant):
                continue
            variants.add(variant)
            words = variant.split()
            if len(words) > 1 and words[-1] in PLACE_WORDS:
                variants.add(" ".join(words[:-1]))
    syllables = entry.pinyin.split()
    if len(syllables) >= 2:
        variants.add(
            "".join(re.sub(r"[^a-z]", "", p.lower().replace("u:", "u")) for p in syllables)
        )
    return variants
