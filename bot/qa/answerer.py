"""Retrieve, generate candidates, score them, and reply with one of four tiers.

A question is read once (`Question`); BM25 retrieves passages; every kind's extractor offers
spans (`candidates.py`); each span is described by named features (`features.py`) and scored
with learned weights (`scoring.py`). By the calibrated probability of the best span and the
two thresholds chosen on the dev split, the reply is **sure** (the answer), **likely** (the
span offered in its passage, to be checked), **evidence** (no likely span, but its passage is
on topic: quoted as the closest passage) or **none** (an abstention with its reason).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bot.qa.candidates import Candidate, generate
from bot.qa.features import ArticleView, FeatureContext
from bot.qa.lexicon import Lexicon, place_within
from bot.qa.question import Language, Question, QuestionReader, Term, clean_question
from bot.qa.result import Alternative, Answer, Citation, Guess, RankedPassage
from bot.qa.scoring import Scorer, load_scorer
from index.analyzer import normalize
from index.search import Hit, Searcher
from index.store import IndexReader, StoredIndex

RETRIEVED_PASSAGES = 20  # passages whose spans become candidates
MAX_ALTERNATIVES = 3
ELSEWHERE_PASSAGES = 4  # best passages of articles not naming the place, read beside theirs
FEW_ARTICLES = 3  # articles naming the place, few enough to read whole when words do not match
ALTERNATIVE_MARGIN = 3.0  # calibrated log-odds behind the answer (1/20 of its odds): a rival listed
CONTEXT_CHARS = 20
TOPIC_FORM_WEIGHT = 0.5  # a key word's weakest form that still puts a passage on topic
LATIN_RE = re.compile(r"[A-Za-z]")
OPENING_QUOTES = '“「『"《'
CLOSING_QUOTES = {"“": "”", "「": "」", "『": "』", '"': '"', "《": "》"}
MAX_COUNTED_SPAN = 24  # characters of a figure with its counted noun
COUNTED_TAGS = frozenset(
    {"n", "nz", "vn", "j", "nt", "ns", "l", "eng"}
)  # not nr: 荣膺 is tagged nr
SMALL_TALK_RE = re.compile(
    r"(?i)(?:你好|您好|嗨|哈喽|谢谢|多谢|感谢|再见|拜拜|早上好|晚上好|晚安|好的|嗯)(?:你|你们|您|啦|了|呀)?"
    r"|ok|hi|hello|hey|thanks?|thank you|thx|bye|good (?:morning|evening|night)"
)
THANKS_RE = re.compile(r"(?i)谢|感谢|thank|thx")
BYE_RE = re.compile(r"(?i)再见|拜拜|晚安|bye|good night")
GREETING_PREFIX_RE = re.compile(r"(?i)^(?:你好|您好|嗨|请问|hi|hello|hey)[，,！!。.\s]+")
# after a question mark, nothing but digits and punctuation (a stray keypress) is not asked
STRAY_TAIL_RE = re.compile(r"([?？])[\s\d.,，。!！?？~～]+$")
ASKING_RE = re.compile(
    r"[?？]|多少|几|什么|怎|哪|谁|吗|呢|何|啥|告诉|请问|介绍|说说|讲讲"
    r"|(?i:\b(?:what|which|who|whom|whose|when|where|why|how|is|are|was|were|do|does|did)\b)"
)


@dataclass
class Scored:
    """A candidate with its feature vector and learned score (log-odds)."""

    candidate: Candidate
    vector: list[float]
    score: float


class Answerer:
    """Answers questions from one index with the learned scorer."""

    def __init__(
        self, index: IndexReader, searcher: Searcher | None = None, scorer: Scorer | None = None
    ):
        self.index = index
        self.searcher = searcher or Searcher(index)
        self.scorer = scorer or load_scorer()
        self._lexicon: Lexicon | None = None
        self._articles: dict[int, ArticleView] = {}
        self._naming: dict[tuple[str, bool], set[int]] = {}
        self.reader = QuestionReader(
            self.searcher.idf, self.searcher.max_idf, lambda: self.lexicon, self.scorer.kind_prior
        )

    @property
    def lexicon(self) -> Lexicon:
        """English -> Chinese for this index (built on the first English question)."""
        if self._lexicon is None:
            terms = (
                self.index.terms()
                if isinstance(self.index, StoredIndex)
                else self.index.vocabulary()
            )
            self._lexicon = Lexicon(terms, self.index.name_readings)
        return self._lexicon

    def article_view(self, number: int) -> ArticleView:
        if number not in self._articles:
            title, body = self.index.folded_article(number)
            self._articles[number] = ArticleView(title, body, len(self.index.passages_of(number)))
        return self._articles[number]

    # ------------------------------------------------------------ answering

    def scored(
        self,
        question: Question,
        depth: int = RETRIEVED_PASSAGES,
        exclude_article: int | None = None,
    ) -> tuple[list[Hit], list[Scored]]:
        """The retrieved passages and every candidate with its features and score, best first.

        `exclude_article` leaves one article out of retrieval (training: a question whose
        answer the index does not hold)."""
        allowed = set(range(len(self.index.articles)))
        if exclude_article is not None:
            allowed.discard(exclude_article)
        hits = self.retrieve(question, depth, allowed)
        if not hits:
            return [], []
        candidates = generate(hits)
        places, names = self.unknown_names(question)
        context = FeatureContext(
            question, self.article_view, max(h.score for h in hits), (len(places), len(names))
        )
        vectors = context.vectors(candidates)
        scored = [
            Scored(candidate, vector, self.scorer.score(vector))
            for candidate, vector in zip(candidates, vectors, strict=True)
        ]
        scored.sort(key=lambda s: -s.score)
        return hits, scored

    def retrieve(self, question: Question, depth: int, allowed: set[int]) -> list[Hit]:
        """BM25 over the articles that name every place asked about (their passages often say
        全县 or 我市, not the name), then over all passages: an article may write only 本港 or
        本市 for its place, so the features, not retrieval, judge a passage's place."""
        tokens = list(question.search_tokens)
        everywhere = allowed if len(allowed) < len(self.index.articles) else None
        hits = self.searcher.search_tokens(tokens, top_k=depth, articles=everywhere)
        if not question.places:
            return hits
        naming = allowed.intersection(*(self._articles_naming(p) for p in question.places))
        if not naming:
            return hits
        place_forms = {form for p in question.places for form, _ in p.forms}
        rest = [t for t in tokens if t not in place_forms] or tokens
        local = self.searcher.search_tokens(rest, top_k=depth, articles=naming)
        seen = {h.passage_id for h in local}
        if len(local) < depth and len(naming) <= FEW_ARTICLES:
            # the question's other words are not the article's (投了多少钱 for 投入资金):
            # the rest of the place's article, in reading order, still gets read
            for number in sorted(naming):
                for passage_id in self.index.passages_of(number):
                    if len(local) < depth and passage_id not in seen:
                        local.append(Hit(passage_id, self.index.passages[passage_id], 0.0))
                        seen.add(passage_id)
        elsewhere = [h for h in hits if h.passage_id not in seen][:ELSEWHERE_PASSAGES]
        return local + elsewhere

    def _articles_naming(self, place: Term, titles_only: bool = False) -> set[int]:
        """The articles whose title or source (or, unless `titles_only`, text) writes the
        place in any of its forms."""
        key = (place.text, titles_only)
        if key not in self._naming:
            forms = [form for form, _ in place.forms]
            self._naming[key] = self.index.articles_writing(forms, titles_only)
        return self._naming[key]

    def answer(self, text: str, top_k: int = 5) -> Answer:
        cleaned = clean_question(text)
        if not re.search(r"[\w\u4e00-\u9fff]", cleaned):
            return _declined(text, "empty")
        cleaned = GREETING_PREFIX_RE.sub("", cleaned) or cleaned
        cleaned = STRAY_TAIL_RE.sub(r"\1", cleaned)  # 哈密有多少个服务站? 2: a slip of the keyboard
        if SMALL_TALK_RE.fullmatch(cleaned.strip(" !！.。~～?？,，")):
            lang = "en" if re.search(r"[A-Za-z]", cleaned) else "zh"
            return _declined(text, "small_talk", lang, kind=_small_talk_kind(cleaned))
        question = self.reader.read(cleaned)
        return self.answer_question(question, top_k, original=text)

    def answer_question(
        self, question: Question, top_k: int = 5, original: str | None = None
    ) -> Answer:
        """The reply of the tier the best candidate's confidence calls for (module docstring):
        sure, likely (not when a place or name asked about is written nowhere, or the passage
        is not of the places asked about), the closest passage, or none with its reason."""
        lang = question.language.value
        hits, scored = self.scored(question)
        best = scored[0] if scored else None
        confidence = self.scorer.confidence([s.score for s in scored])
        base = Answer(
            question=original if original is not None else question.text,
            answer=None,
            confidence=round(confidence, 3),
            kind=best.candidate.kind.label if best else question.best_kind.label,
            citation=None,
            lang=lang,
            passages=self._ranked(reranked(hits, scored)[:top_k], question),
        )
        places, names = self.unknown_names(question)
        unknown = places + names
        guess = self._guess(best, question, base.confidence) if best else None
        foreign = [n for n in places if LATIN_RE.search(n)]
        if foreign:
            # a Chinese question about Tom, whom no article writes: train and dev hold no such
            # question, so no learned weight outweighs a question otherwise matched word for word
            return replace(
                base, confidence=0.0, reason="unknown_name:" + "、".join(foreign), best=guess
            )
        if best is None or guess is None:
            if unknown:
                return replace(base, reason="unknown_name:" + "、".join(unknown))
            return replace(base, reason=self._why_not(question, bool(hits)))
        if confidence >= self.scorer.threshold:
            return replace(
                base,
                answer=guess.answer,
                citation=guess.citation,
                alternatives=self._alternatives(best, scored),
                tier="sure",
                best=guess,
            )
        if unknown:  # the abstention names what no article writes
            return replace(base, reason="unknown_name:" + "、".join(unknown), best=guess)
        passage_id = best.candidate.hit.passage_id
        of_places = self._of_places(question, passage_id)
        if confidence >= self.scorer.likely_threshold and of_places:
            return replace(
                base,
                citation=guess.citation,
                alternatives=self._alternatives(best, scored),
                tier="likely",
                best=guess,
            )
        if of_places and self._writes_topic(question, passage_id):
            return replace(
                base,
                citation=self.citation(passage_id),
                tier="evidence",
                best=guess,
                reason=self._why_not(question, True),
            )
        return replace(base, reason=self._why_not(question, True), best=guess)

    def _guess(self, best: Scored, question: Question, confidence: float) -> Guess:
        """The best candidate as a reply states it, with its passage and where it lies there."""
        candidate = best.candidate
        start, end = self._answer_span(candidate, question)
        return Guess(
            candidate.passage.original[start:end],
            confidence,
            self.citation(candidate.hit.passage_id, (start, end)),
        )

    def _writes_topic(self, question: Question, passage_id: int) -> bool:
        """Whether a passage of the places asked about may be quoted as the closest one: it
        writes a key word of the question (`topic_forms`); a question with no such word
        (张掖花了多少钱) is anchored by its places alone, one with neither by nothing."""
        if not topic_terms(question):
            return bool(question.places)
        written = self._written(passage_id)
        return any(form in written for form in topic_forms(question))

    def _of_places(self, question: Question, passage_id: int) -> bool:
        """Whether a passage is of every place the question asks about: the passage writes it,
        or its article's title or source does (a passage often says 全市 where its title says
        哈密); an article that names the place only in passing (北京 in a report on 哈密) is
        not of it. A likely answer or a closest passage must be."""
        article = self.index.passages[passage_id].article
        written = self._written(passage_id)
        return all(
            any(form in written for form, _ in place.forms)
            or article in self._articles_naming(place, titles_only=True)
            for place in question.places
        )

    def _written(self, passage_id: int) -> str:
        """The passage's normalised text (stored at build; computed for an older index)."""
        passage = self.index.passages[passage_id]
        return passage.normalized if passage.normalized is not None else normalize(passage.text)

    @classmethod
    def _answer_span(cls, candidate: Candidate, question: Question) -> tuple[int, int]:
        """Where the answer the reply states lies in the passage (the quoted text): the
        candidate's span, with the noun it counts (`_counted_noun_end`), without the spaces
        around it."""
        end = cls._counted_noun_end(candidate, question)
        return _trimmed(candidate.passage.original, candidate.start, end)

    @staticmethod
    def _counted_noun_end(candidate: Candidate, question: Question) -> int:
        """Where a figure ends with the noun it counts when the question names it and the
        article writes it right after (285个服务站, 74家“拥军门店”, 2600名双拥志愿者); else
        where the candidate ends."""
        text, end = candidate.passage.text, candidate.end
        if not candidate.kind.value.figure:
            return end
        after = end + 1 if text[end : end + 1] in OPENING_QUOTES else end
        forms = [question.counted] if question.counted else []
        forms += [form for term in question.terms for form, weight in term.forms if weight >= 1.0]
        forms = sorted({f for f in forms if f and len(f) >= 2}, key=len, reverse=True)
        nouns = {w.start for w in candidate.passage.words if w.tag in COUNTED_TAGS}
        stop = after
        while stop in nouns and (
            form := next((f for f in forms if text.startswith(f, stop)), None)
        ):
            stop += len(form)  # nouns only: 六次, not 六次荣膺
        if stop == after:
            return end
        if after > end and text[stop : stop + 1] == CLOSING_QUOTES.get(text[end], ""):
            stop += 1
        if stop - candidate.start > MAX_COUNTED_SPAN:
            return end
        return stop

    def unknown_names(self, question: Question) -> tuple[list[str], list[str]]:
        """The subjects (places; a Latin name in a Chinese question), then the other names, of
        the question that no article writes; a region around a place the articles cover (甘肃
        around 张掖, per CC-CEDICT) only narrows the question."""
        absent = [p for p in question.places if not self._is_mentioned(p)]
        known = [p.text for p in question.places if p not in absent]
        places = [p.text for p in absent if not any(place_within(k, p.text) for k in known)]
        names = [n for n in question.unknown_names if not any(n in u or u in n for u in places)]
        if question.language is not Language.ENGLISH:  # Tom in a Chinese question is its subject,
            places += [n for n in names if LATIN_RE.search(n)]  # as a place would be
            names = [n for n in names if not LATIN_RE.search(n)]
        return places, names

    def _why_not(self, question: Question, found: bool) -> str:
        """The reason shown with an abstention: a bare topic, or no answer."""
        if found and not ASKING_RE.search(question.text):
            return "not_a_question"
        return "no_match"

    def _is_mentioned(self, place: Term) -> bool:
        """A passage has one of the place's forms as a word, or a title or source writes it."""
        return any(self.searcher.idf(form) is not None for form, _ in place.forms) or bool(
            self._articles_naming(place, titles_only=True)
        )

    def _alternatives(self, best: Scored, scored: list[Scored]) -> list[Alternative]:
        """Rivals of the best span of its kind and article, within ALTERNATIVE_MARGIN of its
        calibrated log-odds (the raw scores' scale changes with every training)."""
        slope = self.scorer.calibration[0]

        def gap(other: Scored) -> float:
            return slope * (best.score - other.score)

        seen = {best.candidate.normalized}
        alternatives = []
        for other in scored[1:]:
            candidate = other.candidate
            if gap(other) > ALTERNATIVE_MARGIN or len(alternatives) >= MAX_ALTERNATIVES:
                break
            if candidate.kind is not best.candidate.kind or candidate.normalized in seen:
                continue
            if candidate.hit.passage.article != best.candidate.hit.passage.article:
                continue  # rivals of the answer's own article, not another place's figures
            if any(candidate.normalized in s or s in candidate.normalized for s in seen):
                continue
            seen.add(candidate.normalized)
            text = candidate.passage.original
            left, right = candidate.passage.clause_of(candidate.start, candidate.end)
            if right - left > 3 * CONTEXT_CHARS:
                left = max(0, candidate.start - CONTEXT_CHARS)
                right = candidate.end + CONTEXT_CHARS
            start, end = _trimmed(text, candidate.start, candidate.end)
            alternatives.append(
                Alternative(
                    text[start:end],
                    text[left:right].strip(" ，,、"),
                    self.citation(candidate.hit.passage_id, (start, end)),
                )
            )
        return alternatives

    def citation(self, passage_id: int, span: tuple[int, int] | None = None) -> Citation:
        """The passage quoted whole, its article, and where in it the answer lies (`span`,
        offsets into the passage's text; kept only when it is a non-empty part of it)."""
        passage = self.index.passages[passage_id]
        record = self.index.articles[passage.article]
        if span is not None and not 0 <= span[0] < span[1] <= len(passage.text):
            span = None
        return Citation(
            passage.text, record.title, record.source, record.date, record.path, record.url, span
        )

    def _ranked(self, hits: list[Hit], question: Question) -> list[RankedPassage]:
        """The retrieved passages; `on_topic` when one writes what the question asks about
        (a key word other than a place: 志愿者 of 哈密有多少名志愿者), not only the place."""
        topic = [form for t in question.terms if not t.place for form, _ in t.forms]

        def on_topic(passage_id: int) -> bool:
            written = self._written(passage_id)
            return not topic or any(form in written for form in topic)

        return [
            RankedPassage(
                h.passage.text,
                round(h.score, 4),
                self.index.articles[h.passage.article].title,
                self.citation(h.passage_id),
                on_topic=on_topic(h.passage_id),
            )
            for h in hits
        ]


def reranked(hits: list[Hit], scored: list[Scored]) -> list[Hit]:
    """The retrieved passages as the answer model reads them: each by its best candidate's
    score (the passage holding the best span first), then those without a candidate by BM25;
    a passage neither matching a word of the question nor offering a candidate is left out."""
    best: dict[int, float] = {}
    for item in scored:  # best first
        best.setdefault(item.candidate.hit.passage_id, item.score)
    kept = [h for h in hits if h.passage_id in best or h.score > 0]
    return sorted(
        kept, key=lambda h: (h.passage_id not in best, -best.get(h.passage_id, 0.0), -h.score)
    )


def topic_terms(question: Question) -> list[Term]:
    """What a question asks about: its words other than places (and the pieces of a place:
    尔多 of 鄂尔多斯), of two characters or more (家, 天, 用 are written everywhere)."""
    places = [form for term in question.terms if term.place for form, _ in term.forms]
    return [
        term
        for term in question.terms
        if not term.place and len(term.text) >= 2 and not any(term.text in p for p in places)
    ]


def topic_forms(question: Question) -> set[str]:
    """The written forms of `topic_terms`, with their synonyms and translations (the likelier
    ones), of two characters or more."""
    return {
        form
        for term in topic_terms(question)
        for form, weight in term.forms
        if len(form) >= 2 and weight >= TOPIC_FORM_WEIGHT
    }


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """The span `start:end` of `text` without the spaces at its ends (as `str.strip`)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _declined(question: str, reason: str, lang: str = "zh", kind: str = "unknown") -> Answer:
    """No answer, before any search: the question was empty, or small talk (`kind` says
    which: greeting, thanks or bye)."""
    return Answer(question, None, 0.0, kind, None, lang=lang, reason=reason)


def _small_talk_kind(text: str) -> str:
    if THANKS_RE.search(text):
        return "thanks"
    return "bye" if BYE_RE.search(text) else "greeting"
