"""Named, generic features of a candidate: retrieval, word coverage, proximity, kind, unit,
place, qualifier and period fit. The learned weights (`scoring.py`) turn them into a probability.

Every feature is a number computed the same way for every question; none names a question.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache

from bot.qa.candidates import Candidate
from bot.qa.extractors import PLACE_TAGS
from bot.qa.kinds import Kind
from bot.qa.qualifiers import Qualifier
from bot.qa.question import Language, Question, Term
from index.figures import find_figures

WINDOW = 12  # characters either side of a span that count as "next to it"
QUALIFIER_REACH = 12  # characters before a span where a qualifier still applies to it
NEAR_SCALE = 8.0  # characters over which a question word's nearness halves (roughly)
# Products of the kind fit with the local evidence: nearness counts for a span of the kind asked
INTERACTIONS = ("prior_x_near", "prior_x_cover_clause", "prior_x_first_after_term", "cued_x_near")
RELATIVE = (
    "cover_sentence", "cover_clause", "near", "cover_window", "first_after_term", "cover_lead",
    "cover_trail", "focus_clause", "focus_lead", "focus_window",
)  # fmt: skip
ABBREVIATION_GAP = 3  # characters allowed between those of an abbreviated word
ABBREVIATION_WEIGHT = 0.5
CJK_ONLY_RE = re.compile(r"[\u4e00-\u9fff]+")
RESPECTIVELY = "分别"
LIST_SEPARATOR_RE = re.compile(r"[、和与及跟]")
SAME_UNITS = ({"名", "人", "位"}, {"公里", "千米"}, {"千克", "公斤"}, {"个百分点", "百分点"})

FEATURES: tuple[str, ...] = (
    "retrieval_share", "retrieval_rank", "retrieval_log",
    "cover_passage", "cover_sentence", "cover_clause", "cover_window", "cover_article",
    "cover_title", "cover_exact_sentence", "near", "term_before", "term_after", "counted_after",
    "in_question", "overlaps_term", "kind_prior", "kind_log_prior", "kind_cued", "kind_uncued",
    "nothing_cued", "unit_match", "unit_mismatch", "asked_kind_match", "asked_kind_mismatch",
    "place_sentence", "place_passage", "place_article", "place_title", "place_missing",
    "other_place_clause", "no_place_asked", "year_match", "year_other", "position", "length",
    "siblings_sentence", "first_of_kind", "english", "traditional", "figure",
    "respective_match", "respective_mismatch", "first_after_term", "unknown_subject",
    "unknown_name", "cover_lead", "cover_trail", "place_lead", "other_place_lead", "focus_clause",
    "focus_lead", "focus_window", *INTERACTIONS,
    *(f"{name}_behind" for name in RELATIVE),
    *(f"kind_{kind.label}" for kind in Kind),
    *(f"{q.name.lower()}_{case}" for q in Qualifier for case in ("near_asked", "near_unasked", "asked_absent")),
)  # fmt: skip


FEATURE_POSITIONS = {name: number for number, name in enumerate(FEATURES)}
RELATIVE_BEHIND = tuple((name, f"{name}_behind") for name in RELATIVE)


def _vector(values: dict[str, float]) -> list[float]:
    """The named values in `FEATURES` order, 0.0 for those not given."""
    vector = [0.0] * len(FEATURES)
    for name, value in values.items():
        position = FEATURE_POSITIONS.get(name)
        if position is not None:
            vector[position] = value
    return vector


@dataclass
class ArticleView:
    """What the features read of a candidate's article: its title and whole text, normalised."""

    title: str
    text: str
    passages: int


@dataclass
class _PassageMatches:
    """Where each question term occurs in one passage: (start, end, form weight) per term;
    the coverages already computed over its stretches; the places it writes that the
    question does not ask about."""

    by_term: list[list[tuple[int, int, float]]] = field(default_factory=list)
    covers: dict[tuple[int, int, bool, bool], float] = field(default_factory=dict)
    other_places: list[tuple[int, int]] = field(default_factory=list)


def _occurrences(term: Term, text: str) -> list[tuple[int, int, float]]:
    found = []
    for form, weight in term.forms:
        if not form:
            continue
        start = text.find(form)
        while start >= 0:
            found.append((start, start + len(form), weight))
            start = text.find(form, start + 1)
    if not found and 2 <= len(term.text) <= 4 and CJK_ONLY_RE.fullmatch(term.text):
        # an abbreviation: 营收 for 营业收入, 净利 for 净利润 (the characters in order, close)
        gap = f".{{0,{ABBREVIATION_GAP}}}"
        pattern = re.compile(gap.join(re.escape(c) for c in term.text))
        found = [(m.start(), m.end(), ABBREVIATION_WEIGHT) for m in pattern.finditer(text)]
    return found


def _best_in(term: Term, text: str) -> float:
    return max((w for form, w in term.forms if form and form in text), default=0.0)


def _same_unit(asked: str, unit: str | None) -> bool:
    if unit is None:
        return False
    return asked == unit or any(asked in group and unit in group for group in SAME_UNITS)


class FeatureContext:
    """Computes candidate features for one question over its retrieved passages."""

    def __init__(
        self,
        question: Question,
        article: Callable[[int], ArticleView],
        top_score: float,
        unknown: tuple[int, int] = (0, 0),
    ):
        """`unknown`: how many of the question's subjects (places; a Latin name in a Chinese
        question) and of its other names (no article writes any of them)."""
        self.question = question
        self.unknown = unknown
        self._focus: list[float] = []
        self._term_weights = [term.weight for term in question.terms]
        self._kind_fits: dict[tuple[Kind, str | None], dict[str, float]] = {}
        self._qualifier_fits: dict[frozenset[Qualifier], dict[str, float]] = {}
        self._place_shares: dict[tuple[str, int, int], float] = {}
        self._total_weight = question.total_weight
        self._asked_place_forms = {form for p in question.places for form, _ in p.forms}
        self._qualifier_features = [
            (qualifier, qualifier in question.qualifiers, *_qualifier_feature_names(qualifier))
            for qualifier in Qualifier
        ]
        self.article = article
        self.top_score = top_score or 1.0
        self._matches: dict[int, _PassageMatches] = {}
        self._article_cover: dict[int, tuple[float, float, float, float, bool]] = {}

    def _passage_matches(self, candidate: Candidate) -> _PassageMatches:
        key = candidate.hit.passage_id
        if key not in self._matches:
            text = candidate.passage.text
            self._matches[key] = _PassageMatches(
                [_occurrences(t, text) for t in self.question.terms],
                other_places=[
                    (w.start, w.end)
                    for w in candidate.passage.words
                    if w.tag in PLACE_TAGS and w.text not in self._asked_place_forms
                ],
            )
        return self._matches[key]

    def _cover(
        self,
        matches: _PassageMatches,
        left: int,
        right: int,
        exact: bool = False,
        focus: bool = False,
    ) -> float:
        """The weighted share of the question's terms written within [left, right) (weighted
        by their focus, `_focus_weights`, if asked); computed once per passage and stretch."""
        key = (left, right, exact, focus)
        cover = matches.covers.get(key)
        if cover is None:
            weights = (focus and self._focus) or self._term_weights
            total = 0.0
            for weight, occurrences in zip(weights, matches.by_term, strict=True):
                best = None
                for s, e, w in occurrences:
                    if s >= left and e <= right and (not exact or w >= 1.0):
                        if best is None or w > best:
                            best = w
                total += weight * (0.0 if best is None else best)
            cover = matches.covers[key] = total / (sum(weights) or 1.0)
        return cover

    def _article_fit(self, number: int) -> tuple[float, float, float, float, bool]:
        """(cover_article, cover_title, place_article, place_title, a place missing)."""
        if number not in self._article_cover:
            view = self.article(number)
            whole = view.title + "\n" + view.text
            q = self.question
            cover = sum(t.weight * _best_in(t, whole) for t in q.terms) / q.total_weight
            title = sum(t.weight * _best_in(t, view.title) for t in q.terms) / q.total_weight
            place_article = _share(q.places, whole)
            place_title = _share(q.places, view.title)
            missing = any(_best_in(p, whole) == 0 for p in q.places)
            self._article_cover[number] = (cover, title, place_article, place_title, missing)
        return self._article_cover[number]

    def vectors(self, candidates: list[Candidate]) -> list[list[float]]:
        """The feature vectors of all of a question's candidates (some features compare a
        candidate with the others: its siblings, the best coverage among them)."""
        same_sentence: Counter = Counter()
        starts: dict[tuple[int, Kind], list[int]] = defaultdict(list)
        for c in candidates:
            same_sentence[_sentence_key(c)] += 1
            starts[(c.hit.passage_id, c.kind)].append(c.start)
        self._focus = self._focus_weights(candidates)
        for matches in self._matches.values():
            matches.covers.clear()  # focus weights are those of these candidates
        seen: set = set()
        described = []
        for c in candidates:
            key = _sentence_key(c)
            values = self.describe(c, same_sentence[key] - 1, key not in seen)
            seen.add(key)
            values["first_after_term"] = self._first_after_term(
                c, sorted(starts[(c.hit.passage_id, c.kind)])
            )
            prior = values.get("kind_prior", 0.0)
            values["prior_x_near"] = prior * values.get("near", 0.0)
            values["prior_x_cover_clause"] = prior * values.get("cover_clause", 0.0)
            values["prior_x_first_after_term"] = prior * values["first_after_term"]
            values["cued_x_near"] = values.get("kind_cued", 0.0) * values.get("near", 0.0)
            described.append(values)
        for name, behind in RELATIVE_BEHIND:
            best = max((v.get(name, 0.0) for v in described), default=0.0)
            for values in described:
                values[behind] = values.get(name, 0.0) - best
        return [_vector(values) for values in described]

    def _focus_weights(self, candidates: list[Candidate]) -> list[float]:
        """Each term's weight times its rarity among the retrieved passages: the words every
        passage shares (the place, 上半年) tell its figures apart less than 缺考 or 净利润."""
        passages = {c.hit.passage_id: c for c in candidates}
        found = [0] * len(self.question.terms)
        for candidate in passages.values():
            matches = self._passage_matches(candidate)
            for number, occurrences in enumerate(matches.by_term):
                found[number] += bool(occurrences)
        total = len(passages)
        return [
            term.weight * math.log(1.0 + total / (1.0 + count))
            for term, count in zip(self.question.terms, found, strict=True)
        ]

    def _first_after_term(self, candidate: Candidate, kind_starts: list[int]) -> float:
        """How much of the question stands right before the span in its sentence, with no
        other span of its kind in between ("营业收入105亿元，净利润…": 105亿元 for 营收)."""
        matches = self._passage_matches(candidate)
        left, _ = candidate.passage.sentence_of(candidate.start, candidate.end)
        previous = max((s for s in kind_starts if s < candidate.start), default=-1)
        total = 0.0
        for term, occurrences in zip(self.question.terms, matches.by_term, strict=True):
            if any(e <= candidate.start and s >= max(left, previous) for s, e, _ in occurrences):
                total += term.weight
        return total / self._total_weight

    def describe(
        self, candidate: Candidate, siblings: int, first_of_kind: bool
    ) -> dict[str, float]:
        q = self.question
        passage = candidate.passage
        text = passage.text
        start, end = candidate.start, candidate.end
        matches = self._passage_matches(candidate)
        s_left, s_right = passage.sentence_of(start, end)
        c_left, c_right = passage.clause_of(start, end)
        article = self._article_fit(candidate.hit.passage.article)
        view = self.article(candidate.hit.passage.article)
        values: dict[str, float] = {
            "retrieval_share": candidate.hit.score / self.top_score,
            "retrieval_rank": 1.0 / (1 + candidate.rank),
            "retrieval_log": math.log1p(max(candidate.hit.score, 0.0)),
            "cover_passage": self._cover(matches, 0, len(text)),
            "cover_sentence": self._cover(matches, s_left, s_right),
            "cover_clause": self._cover(matches, c_left, c_right),
            "cover_window": self._cover(matches, max(0, start - WINDOW), end + WINDOW),
            "cover_exact_sentence": self._cover(matches, s_left, s_right, exact=True),
            "cover_article": article[0],
            "cover_title": article[1],
            "position": candidate.hit.passage.position / max(view.passages, 1),
            "length": len(candidate.normalized) / 10.0,
            "siblings_sentence": math.log1p(siblings),
            "first_of_kind": float(first_of_kind),
            "english": float(q.language is Language.ENGLISH),
            "traditional": float(q.language is Language.TRADITIONAL),
            "figure": float(candidate.kind.value.figure),
            "unknown_subject": float(min(self.unknown[0], 2)),
            "unknown_name": float(min(self.unknown[1], 2)),
            f"kind_{candidate.kind.label}": 1.0,
        }
        values.update(self._nearness(matches, start, end, s_left, s_right))
        values.update(self._segment_fit(candidate, matches, s_left, s_right))
        if q.counted:
            values["counted_after"] = float(q.counted in text[end : end + 4 + len(q.counted)])
        values.update(self._kind_fit(candidate))
        values.update(
            self._place_fit(candidate, matches, s_left, s_right, c_left, c_right, article)
        )
        values.update(self._qualifier_fit(text, start, end, c_left))
        values.update(self._period_fit(text, s_left, s_right))
        values.update(self._respective_fit(candidate, s_left, s_right))
        span = candidate.normalized
        values["in_question"] = float(len(span) >= 2 and span in q.normalized)
        return values

    def _nearness(
        self, matches: _PassageMatches, start: int, end: int, left: int, right: int
    ) -> dict[str, float]:
        q = self.question
        near = before = after = overlap = 0.0
        total_weight = self._total_weight
        for term, occurrences in zip(q.terms, matches.by_term, strict=True):
            best_near = 0.0
            for s, e, w in occurrences:
                if s < end and e > start:
                    overlap = max(overlap, term.weight * w / total_weight)
                    continue
                if s < left or e > right:
                    continue
                distance = start - e if e <= start else s - end
                best_near = max(best_near, w * math.exp(-distance / NEAR_SCALE))
                if 0 <= start - e <= 3:
                    before += term.weight * w / total_weight
                if 0 <= s - end <= 3:
                    after += term.weight * w / total_weight
            near += term.weight * best_near
        return {
            "near": near / total_weight,
            "term_before": min(before, 1.0),
            "term_after": min(after, 1.0),
            "overlaps_term": overlap,
        }

    def _segment_fit(
        self, candidate: Candidate, matches: _PassageMatches, left: int, right: int
    ) -> dict[str, float]:
        """The question's words in the words that govern the span: from the figure before it
        to the span (营业收入达到【7734亿元】, 而山东以【3950亿元】) and from the span to the
        figure after it (【2万余人】参赛)."""
        start, end = candidate.start, candidate.end
        figures = candidate.passage.figures
        lead = max([left, *(f.end for f in figures if f.end <= start)])
        trail = min([right, *(f.start for f in figures if f.start >= end)])
        c_left, c_right = candidate.passage.clause_of(start, end)
        values = {
            "cover_lead": self._cover(matches, lead, start),
            "cover_trail": self._cover(matches, end, trail),
            "focus_lead": self._cover(matches, lead, start, focus=True),
            "focus_clause": self._cover(matches, c_left, c_right, focus=True),
            "focus_window": self._cover(matches, max(0, start - WINDOW), end + WINDOW, focus=True),
        }
        q = self.question
        if q.places:
            values["place_lead"] = _share(q.places, candidate.passage.text[lead:start])
            values["other_place_lead"] = float(
                self._other_place_within(candidate, matches, lead, start)
            )
        return values

    def _other_place_within(
        self, candidate: Candidate, matches: _PassageMatches, left: int, right: int
    ) -> bool:
        """Whether [left, right) names a place the question does not ask about (the span's
        own words aside)."""
        return any(
            start >= left and end <= right and not (start < candidate.end and end > candidate.start)
            for start, end in matches.other_places
        )

    def _kind_fit(self, candidate: Candidate) -> dict[str, float]:
        """How the candidate's kind and unit fit what the question asks (the same for every
        candidate of one kind and unit)."""
        key = (candidate.kind, candidate.unit)
        if key not in self._kind_fits:
            self._kind_fits[key] = self._compute_kind_fit(candidate)
        return self._kind_fits[key]

    def _compute_kind_fit(self, candidate: Candidate) -> dict[str, float]:
        q = self.question
        prior = q.kind_prior.get(candidate.kind, 0.0)
        asked_kind = q.asked_kind
        values = {
            "kind_prior": prior,
            "kind_log_prior": math.log(max(prior, 1e-4)),
            "kind_cued": float(candidate.kind in q.cued),
            "kind_uncued": float(bool(q.cued) and candidate.kind not in q.cued),
            "nothing_cued": float(not q.cued),
        }
        if q.asked_unit:
            match = _same_unit(q.asked_unit, candidate.unit)
            values["unit_match"] = float(match)
            values["unit_mismatch"] = float(not match)
        if asked_kind is not None:
            values["asked_kind_match"] = float(candidate.kind is asked_kind)
            values["asked_kind_mismatch"] = float(candidate.kind is not asked_kind)
        return values

    def _place_fit(self, candidate: Candidate, matches: _PassageMatches, s_left: int, s_right: int,
                   c_left: int, c_right: int, article: tuple[float, float, float, float, bool]) -> dict[str, float]:  # fmt: skip
        q = self.question
        text = candidate.passage.text
        if not q.places:
            return {"no_place_asked": 1.0}
        other = self._other_place_within(candidate, matches, c_left, c_right)
        return {
            "place_sentence": self._place_share(text, s_left, s_right),
            "place_passage": self._place_share(text, 0, len(text)),
            "place_article": article[2],
            "place_title": article[3],
            "place_missing": float(article[4]),
            "other_place_clause": float(other),
        }

    def _place_share(self, text: str, left: int, right: int) -> float:
        """The share of the asked places that `text[left:right]` writes."""
        key = (text, left, right)
        share = self._place_shares.get(key)
        if share is None:
            share = self._place_shares[key] = _share(self.question.places, text[left:right])
        return share

    def _qualifier_fit(self, text: str, start: int, end: int, clause_left: int) -> dict[str, float]:
        reach = max(clause_left, start - QUALIFIER_REACH)
        near = frozenset(
            qualifier
            for at, stop, qualifier in _qualifier_marks(text)
            if reach <= at and stop <= start
        )
        if near not in self._qualifier_fits:
            self._qualifier_fits[near] = self._compute_qualifier_fit(near)
        return self._qualifier_fits[near]

    def _compute_qualifier_fit(self, near: frozenset[Qualifier]) -> dict[str, float]:
        values = {}
        for qualifier, asked, near_asked, near_unasked, asked_absent in self._qualifier_features:
            is_near = qualifier in near
            values[near_asked] = float(is_near and asked)
            values[near_unasked] = float(is_near and not asked)
            values[asked_absent] = float(asked and not is_near)
        return values

    def _respective_fit(self, candidate: Candidate, left: int, right: int) -> dict[str, float]:
        found = _respective_items(candidate, left, right)
        if found is None:
            return {}
        items, mine = found
        forms = {form for term in self.question.terms for form, _ in term.forms}
        asked = [
            any(item in form or (len(form) > 1 and form in item) for form in forms)
            for item in items
        ]
        if asked[mine] and sum(asked) == 1:
            return {"respective_match": 1.0}
        if not asked[mine] and any(asked):
            return {"respective_mismatch": 1.0}
        return {}

    def _period_fit(self, text: str, left: int, right: int) -> dict[str, float]:
        q = self.question
        if not q.years:
            return {}
        sentence = text[left:right]
        years = {f.number for f in find_figures(sentence) if f.kind == "date" and f.unit == "年"}
        asked = any(year in sentence for year in q.years)
        return {"year_match": float(asked), "year_other": float(not asked and bool(years))}


def _respective_items(candidate: Candidate, left: int, right: int) -> tuple[list[str], int] | None:
    """For "A、B分别为x、y": the items before 分别 and the candidate's place among the figures
    after it, when the counts agree (产销分别为x、y: the items are 产 and 销)."""
    passage = candidate.passage
    text = passage.text
    marker = text.rfind(RESPECTIVELY, left, candidate.start)
    if marker < 0:
        return None
    units = set(candidate.kind.value.units)
    ends = [f.end for f in passage.figures if marker < f.start < right and f.unit in units]
    if candidate.end not in ends or len(ends) < 2:
        return None
    opening = max(text.rfind(mark, left, marker) for mark in "，,；;：:") + 1
    segment = text[max(opening, left) : marker]
    items = [item for item in LIST_SEPARATOR_RE.split(segment) if item]
    if len(items) != len(ends):
        last = next((w.text for w in passage.words if w.end == marker), "")
        if len(last) != len(ends):
            return None
        items = list(last)
    return items, ends.index(candidate.end)


@cache
def _qualifier_feature_names(qualifier: Qualifier) -> tuple[str, str, str]:
    name = qualifier.name.lower()
    return f"{name}_near_asked", f"{name}_near_unasked", f"{name}_asked_absent"


@lru_cache(maxsize=8192)
def _qualifier_marks(text: str) -> tuple[tuple[int, int, Qualifier], ...]:
    """Where each qualifier's words stand in a (normalised) passage."""
    marks = []
    for qualifier in Qualifier:
        for word in qualifier.value.zh:
            at = text.find(word)
            while at >= 0:
                marks.append((at, at + len(word), qualifier))
                at = text.find(word, at + 1)
    return tuple(marks)


def _sentence_key(candidate: Candidate) -> tuple:
    return (
        candidate.hit.passage_id,
        candidate.passage.sentence_of(candidate.start, candidate.end),
        candidate.kind,
    )


def _share(places: tuple[Term, ...], text: str) -> float:
    if not places:
        return 0.0
    return sum(_best_in(p, text) for p in places) / len(places)
