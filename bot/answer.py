"""Answer a question from the index: a short verbatim span, its cited passage, or an abstention."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache

from bot.english import PLACE_SUFFIXES, Lexicon, place_within, surnames
from bot.question import AMOUNT_KINDS, QUESTION_WORDS, ROLES, Question, analyze
from index.analyzer import get_tokenizer, normalize, pos_tokenizer, tokenize
from index.figures import Figure, find_figures
from index.search import Hit, Searcher
from index.store import CorpusIndex


@dataclass(frozen=True)
class Citation:
    """The passage an answer was taken from, and the article it belongs to."""

    text: str
    title: str
    source: str | None
    date: str | None
    path: str


@dataclass(frozen=True)
class Alternative:
    """Another span that also fits the question, with a little of its context."""

    answer: str
    context: str
    citation: Citation


@dataclass(frozen=True)
class RankedPassage:
    """A retrieved passage with its BM25 score (for "more results")."""

    text: str
    score: float
    title: str
    citation: Citation


@dataclass(frozen=True)
class Answer:
    """What the bot says: `answer` is None when it abstains."""

    question: str
    answer: str | None
    confidence: float
    kind: str
    citation: Citation | None
    lang: str = "zh"
    alternatives: list[Alternative] = field(default_factory=list)
    passages: list[RankedPassage] = field(default_factory=list)
    reason: str | None = None


FIGURE_KINDS = {"count", "money", "area", "duration", "ordinal", "measure"}
FIGURE_AMOUNT_KINDS = AMOUNT_KINDS | {"number"}  # and figures without a unit
SUBJECT_REACH = 20  # characters before a figure where its subject is written
MAX_QUESTION_CHARS = 500
MAX_ANSWER_CHARS = 40
CANDIDATE_PASSAGES = 8
SEARCH_DEPTH = 40
MIN_COVERAGE = 0.6
MIN_CONFIDENCE = 0.5
# Words that only say "an amount of money" and are never written next to the amount itself.
SLOT_WORDS = {"钱", "金额", "多少钱"}
MONEY_WORDS = {"资金", "经费", "费用", "投资", "款项", "钱款"}
# Measure words that name what is counted (people, households ...), unlike the generic 个.
SPECIFIC_UNITS = {
    "名",
    "户",
    "家",
    "人",
    "人次",
    "位",
    "项",
    "座",
    "幅",
    "株",
    "头",
    "只",
    "条",
    "所",
    "辆",
    "艘",
    "架",
}
SENTENCE_ENDS = "。！？!?；;"
CLAUSE_BREAKS = SENTENCE_ENDS + "，,、"
# "增长8.7%", "比上年增加4.2亿斤": a change is the figure right after such a verb
CHANGE_BEFORE_RE = re.compile(
    r"(?:增长|增加|提高|提升|下降|减少|降低|上涨|增收|增幅为?|增速为?)了?(?:约|近|达到?)?$"
)
# "由原来的42分钟缩短至…": the figure a change started from
CHANGED_FROM_RE = re.compile(r"[由从][^，,。；;至到]{0,6}$")
# "院长李建华": a role written right before a name
ROLE_BEFORE_RE = re.compile(rf"(?:{ROLES})$")
ROLE_RE = re.compile(rf"(?:{ROLES})")
# Plans and targets: "力争到2025年建成…", "预计…", "计划…"
TARGET_RE = re.compile(
    r"力争|争取|计划|目标|预计|有望|拟|将(?:达|建|新增|超|实现|突破|增至|形成|带动)"
)
# A figure of an earlier period: "去年同期为…", "较上届（第40届签约项目480亿元）"
PAST_RE = re.compile(r"(?:上年|去年|上届|上一届|前年|上一年)(?:同期)?[^增减提下降]{0,16}$")
# Greetings and thanks get a friendly word, not a search
SMALL_TALK_RE = re.compile(
    r"(?i)(?:你好|您好|嗨|哈喽|谢谢|多谢|感谢|再见|拜拜|早上好|晚上好|晚安|好的|嗯)(?:你|你们|您|啦|了|呀)?"
    r"|ok|hi|hello|hey|thanks?|thank you|thx|bye|good (?:morning|evening|night)"
)
GREETING_PREFIX_RE = re.compile(r"(?i)^(?:你好|您好|嗨|请问|hi|hello|hey)[，,！!。.\s]+")
# A query without a question word that ends in an amount asks for it
QUANTITY_TAIL_RE = re.compile(
    r"(?:总额|总量|数量|人数|面积|金额|产值|收入|营收|利润|增速|增幅|增长率|比例|生产总值|gdp|"
    r"零售额|销售额|成交额|投资额|总投资|产量|客流量|吞吐量|里程|全长|长度|高度|票房)[\s。.!！]*$",
    re.IGNORECASE,
)
# Something that asks: a question word or mark, in Chinese or English
ASKING_RE = re.compile(
    rf"[?？]|{QUESTION_WORDS.pattern}|怎|告诉|请问|介绍|说说|讲讲|"
    r"(?i:\b(what|which|who|whom|whose|when|where|why|how|is|are|was|were|do|does|did)\b)"
)
# Words that narrow a figure to a part, a phase or a group ("新增", "二期", "女子")
QUALIFIER_RE = re.compile(
    r"新增|净增|一期|二期|三期|首期|男子|女子|城镇|农村|上半年|下半年|前三季度"
)
# Parts of speech that never stand inside a name (prepositions, particles, numerals ...)
NOT_IN_NAMES = frozenset("puxcmwyfq")
# People are counted in 名, 人 or 位 alike
SAME_UNITS = {"名": ("人", "位"), "人": ("名", "位"), "位": ("名", "人")}
AGE_UNITS = ("岁", "歲", "周岁")
LENGTH_ASKED_RE = re.compile(r"多[高长远深宽厚]|高度|长度|全长|里程")
LENGTH_UNITS = ("米", "公里", "千米")
AGE_RE = re.compile(r"几岁|多少岁|年龄|年纪|多大|岁")
# Numbered things of one series: "3号线", "2号楼", "5号馆"
IDENTIFIER_RE = re.compile(r"\d+号[线楼馆院厅站口台]?")
# A wider area than the place asked about: "江西全省已建成…2.1万个"
WIDER_RE = re.compile(r"全省|全国|全球|全世界|中央|全区|全自治区")
QUOTED_RE = re.compile(r"“([^“”]{2,30})”|《([^《》]{1,30})》|「([^「」]{2,30})」|\"([^\"]{2,30})\"")
DATE_RE = re.compile(r"(?:19|20)\d{2}年(?:\d{1,2}月(?:\d{1,2}日)?)?|\d{1,2}月\d{1,2}日")
OBJECT_RE = re.compile(r"[^，,；;。！？!?：:、“”「」《》()（）的了]+")
CLAUSE_RE = re.compile(r"[^，,；;。！？!?：:]+")
OPENING_QUOTES = '“「『"《'
CLOSING_QUOTES = {"“": "”", "「": "」", "『": "』", '"': '"', "《": "》"}


Span = tuple[int, int, float]  # start, end, how well it fits the kind asked


@dataclass
class _Candidate:
    hit: Hit
    start: int
    end: int
    score: float
    coverage: float
    fit: float


@lru_cache(maxsize=16384)
def normalized_label(text: str) -> str:
    """`normalize` for the titles and headings every question looks at again."""
    return normalize(text)


def clean_question(text: str) -> str:
    """Drop control and format characters, collapse blanks, bound the length."""
    kept = "".join(
        " " if unicodedata.category(c) in {"Cc", "Zl", "Zp"} else c
        for c in text
        if unicodedata.category(c) not in {"Cf", "Cs", "Co", "Cn"}
    )
    return " ".join(kept.split())[:MAX_QUESTION_CHARS]


def _declined(question: str, reason: str, lang: str = "zh") -> Answer:
    """No answer, before any search: the question was empty, or a greeting."""
    return Answer(question, None, 0.0, "unknown", None, lang=lang, reason=reason)


def _joined_where_adjacent(names: list[str], text: str) -> list[str]:
    """Names jieba cut apart, joined again as the question writes them: 基普 + 鲁托 -> 基普鲁托."""
    joined: list[str] = []
    for name in names:
        if joined and joined[-1] + name in text:
            joined[-1] += name
        else:
            joined.append(name)
    return joined


def _same_figure(asked: Figure, written: Figure) -> bool:
    """The question's "6次" is the article's "六次"; a unit, when the question gives one, must agree."""
    return asked.value == written.value and (asked.unit is None or asked.unit == written.unit)


class Answerer:
    """Finds the shortest span of the best passage that answers a question, or abstains."""

    def __init__(self, index: CorpusIndex, searcher: Searcher | None = None):
        self.index = index
        self.searcher = searcher or Searcher(index)
        self._normalized: dict[int, str] = {}
        self._article_text: dict[int, str] = {}
        self._titles: str | None = None
        self._lexicon: Lexicon | None = None

    # ------------------------------------------------------------ corpus views

    def passage_text(self, passage_id: int) -> str:
        if passage_id not in self._normalized:
            self._normalized[passage_id] = normalize(self.index.passages[passage_id].text)
        return self._normalized[passage_id]

    def article_text(self, article: int) -> str:
        if article not in self._article_text:
            record = self.index.articles[article]
            ids = self.index.passages_of(article)
            body = "\n".join(self.passage_text(i) for i in ids)
            self._article_text[article] = normalize(record.title) + "\n" + body
        return self._article_text[article]

    def mentioned(self, name: str) -> bool:
        """Whether any article mentions a name: a term of the index, or part of a title or
        of a source (芜湖日报 for an article that only ever writes 我市)."""
        if self._titles is None:
            self._titles = "\n".join(
                normalize(a.title) + "\n" + normalize(a.source or "") for a in self.index.articles
            )
        return self.searcher.idf(name) is not None or name in self._titles

    def _as_written(self, name: str) -> str:
        """A place as the articles write it: 延安市 is 延安 where only 延安 is written."""
        bare = name[:-1]
        if name[-1] in PLACE_SUFFIXES and len(bare) >= 2 and not self.mentioned(name):
            if self.mentioned(bare):
                return bare
        return name

    def citation(self, passage_id: int) -> Citation:
        passage = self.index.passages[passage_id]
        record = self.index.articles[passage.article]
        return Citation(passage.text, record.title, record.source, record.date, record.path)

    # ------------------------------------------------------------ entities and coverage

    def _name_fits(self, name: str, hit: Hit) -> bool:
        """A name fits a passage it appears in, or any passage of an article about it."""
        if name in self.passage_text(hit.passage_id):
            return True
        article = self.article_text(hit.passage.article)
        record = self.index.articles[hit.passage.article]
        labels = normalized_label(record.title) + "\n" + normalized_label(record.source or "")
        return name in labels or article.count(name) >= 2

    def _weight(self, word: str, question: Question | None = None) -> float:
        """IDF weight of a key word (its best-known form); a word no passage has weighs most."""
        forms = question.forms(word) if question else [(word, 1.0)]
        known = [idf for form, _ in forms if (idf := self.searcher.idf(form)) is not None]
        return max(max(known), 0.05) if known else self.searcher.max_idf

    def _word_credit(self, word: str, text: str, question: Question | None = None) -> float:
        """1 when the word (or an equivalent form) is in `text`, partial credit for its parts."""
        best = 0.0
        for form, score in question.forms(word) if question else [(word, 1.0)]:
            if form in text:
                best = max(best, score)
                continue
            parts = [p for p in get_tokenizer().lcut_for_search(form) if p != form and len(p) > 1]
            if parts:
                found = sum(1 for p in parts if p in text) / len(parts)
                best = max(best, score * (0.8 if found == 1 else 0.5 * found))
        return best

    def coverage(self, question: Question, hit: Hit) -> float:
        """Share (IDF-weighted) of the question's evidence found in the passage's context.

        Key words count by importance (nouns fully, verbs half); names, which already fit the
        passage, and the asked unit ("多少家" -> a figure in 家) count half.
        """
        passage = hit.passage
        context = " ".join(
            [
                self.passage_text(hit.passage_id),
                normalized_label(passage.heading or ""),
                normalized_label(self.index.articles[passage.article].title),
            ]
        )
        evidence: list[tuple[float, float]] = []  # (weight, credit)
        for word in question.words:
            if word in SLOT_WORDS or word in question.names:
                continue
            if question.kind == "money" and word in MONEY_WORDS:
                continue  # "投入了多少资金" is answered by "投入5.6亿元"
            weight = self._weight(word, question) * question.importance(word)
            evidence.append((weight, self._word_credit(word, context, question)))
        for name in question.names:
            evidence.append((0.5 * self._weight(name), 1.0))
        passage_figures = find_figures(context)
        for figure in question.figures:
            same = any(_same_figure(figure, f) for f in passage_figures)
            evidence.append((self.searcher.max_idf, 1.0 if same else 0.0))
        if question.asked_unit:
            has_unit = any(f.unit == question.asked_unit for f in passage_figures)
            evidence.append((0.5 * self._weight(question.asked_unit), 1.0 if has_unit else 0.0))
        total = sum(weight for weight, _ in evidence)
        if not total:
            return 0.0
        return sum(weight * credit for weight, credit in evidence) / total

    def proximity(self, question: Question, text: str, start: int, end: int) -> float:
        """How close the question's key words (and figures) sit to a span: 1 all adjacent, 0 absent.

        Closeness decays with the distance in characters and counts less from another sentence.
        """
        words = [w for w in question.words if w not in SLOT_WORDS]
        kind = question.kind
        if not words and not question.figures:
            return 0.5
        sentence_start = max(text.rfind(c, 0, start) for c in SENTENCE_ENDS) + 1
        ends = [i for c in SENTENCE_ENDS if (i := text.find(c, end)) >= 0]
        sentence_end = min(ends) if ends else len(text)

        def closeness(at: int, until: int) -> float:
            gap = 0 if at < end and until > start else (at - end if at >= end else start - until)
            near = 1.0 / (1.0 + gap / 8.0)
            if kind != "date" and at >= end and any(c in text[end:at] for c in CLAUSE_BREAKS):
                near *= 0.5  # a word of the next clause is about the next figure
            return near if sentence_start <= at < sentence_end else near * 0.4

        total = got = 0.0
        for word in words:
            weight = self._weight(word, question) * question.importance(word)
            if word == question.focus:
                weight *= 2  # "水稻亩产是多少" asks for the 亩产, wherever 水稻 is
            total += weight
            got += weight * max(
                (
                    score * closeness(m.start(), m.end())
                    for form, score in question.forms(word)
                    for m in re.finditer(re.escape(form), text)
                ),
                default=0.0,
            )
        written = find_figures(text) if question.figures else []
        for figure in question.figures:
            total += self.searcher.max_idf
            got += self.searcher.max_idf * max(
                (
                    closeness(f.start, f.end)
                    for f in written
                    if _same_figure(figure, f) and (f.start, f.end) != (start, end)
                ),
                default=0.0,
            )
        return got / total if total else 0.0

    # ------------------------------------------------------------ candidate spans

    def _spans(self, question: Question, text: str) -> list[Span]:
        """(start, end, fit) of spans of the kind asked, in normalised passage text."""
        kind = question.kind
        spans: list[Span] = []
        if kind in FIGURE_KINDS or kind == "other":
            spans.extend(self._figure_spans(question, text))
        if kind == "date":
            spans.extend((m.start(), m.end(), 1.0) for m in DATE_RE.finditer(text))
        if kind in {"name", "other"}:
            spans.extend(self._quoted_spans(question, text))
        if kind == "place":
            spans.extend(self._place_spans(question, text))
        if kind == "name":
            spans.extend(self._object_spans(question, text))
        if kind == "person":
            spans.extend(self._names_after_roles(question, text))
            spans.extend(self._person_spans(question, text))
        return spans

    def _figure_spans(self, question: Question, text: str) -> Iterator[Span]:
        """Figures whose unit fits the kind asked, extended over the counted noun."""
        kind = question.kind
        for figure in find_figures(text):
            surface = text[figure.start : figure.end].strip()
            if surface in question.normalized:
                continue  # the question's own figure ("40天保卫战") is not its answer
            if figure.kind == "date" and kind != "date":
                continue  # 2021年 is a year, not "how many years"
            ranked = figure.start > 0 and text[figure.start - 1] == "第"
            start = figure.start
            if ranked and ("第" in question.normalized or not figure.unit):
                start -= 1  # "排名第几" -> "第19位"; "获得过几次" -> "三次"
            fit = self._figure_fit(question, figure, ordinal=ranked)
            lead = text[max(0, figure.start - 8) : figure.start]
            if question.growth:
                if CHANGE_BEFORE_RE.search(lead):
                    fit = 1.0  # "增长了多少" -> "增长8.7%"
                else:
                    fit *= 0.6
            if question.change_to and CHANGED_FROM_RE.search(lead):
                fit *= 0.5  # "由42分钟缩短至18分钟": 42分钟 is where it started
            if not fit:
                continue
            end = figure.end
            if figure.kind not in {"ordinal", "duration", "date"}:
                end = self._extend_with_noun(question, text, figure.start, figure.end)
            nouns = [question.counted_noun] if question.counted_noun else question.counted_forms
            if nouns and kind in {"count", "ordinal"} and end == figure.end:
                # the counted thing should sit next to its figure ("荣誉牌近4万个")
                nearby = text[max(0, figure.start - 10) : figure.end + 10]
                fit *= 1.0 if any(noun in nearby for noun in nouns) else 0.5
            fit *= self._setting_fit(question, text, figure.start, figure.end)
            yield start, end, fit

    @staticmethod
    def _quoted_spans(question: Question, text: str) -> Iterator[Span]:
        """What the passage quotes: “彩虹城市双拥张掖”, 《…》."""
        for match in QUOTED_RE.finditer(text):
            group = next(g for g in range(1, 5) if match.group(g))
            if match.group(group) not in question.normalized:
                fit = 1.0 if question.kind == "name" else 0.4
                yield match.start(group), match.end(group), fit

    @staticmethod
    def _place_spans(question: Question, text: str) -> Iterator[Span]:
        """Place names the question does not already write."""
        position = 0
        tags = pos_tokenizer().word_tag_tab
        for pair in pos_tokenizer().lcut(text):
            word = pair.word
            if (pair.flag == "ns" or tags.get(word) == "ns") and len(word) >= 2:
                if word not in question.normalized:
                    yield position, position + len(word), 1.0
            position += len(word)

    @staticmethod
    def _object_spans(question: Question, text: str) -> Iterator[Span]:
        """ "连续8年举办军地鹊桥会": what follows the question's own verb names the thing."""
        for word in question.words:
            if not question.pos.get(word, "").startswith("v") or len(word) < 2:
                continue
            for match in re.finditer(re.escape(word), text):
                tail = OBJECT_RE.match(text, match.end())
                if tail and 2 <= len(tail.group(0)) <= 15:
                    yield tail.start(), tail.end(), 0.9

    @staticmethod
    def _person_spans(question: Question, text: str) -> Iterator[Span]:
        """Personal names jieba tags, more so right after a role the question asks about."""
        position, previous = 0, None
        family_names = surnames()
        singles: list[str] = []  # single characters right before this word: 吾|拉|木|别克
        for pair in pos_tokenizer().lcut(text):
            word = pair.word
            after = position + len(word)
            if (
                pair.flag in {"nr", "nrfg"}
                and word not in question.normalized
                and not any(w in word for w in question.words)
                and (
                    not text.startswith(tuple(PLACE_SUFFIXES), after)  # 郑东新|区
                    or ROLE_RE.match(text, after)  # 王建国|市长
                )
            ):
                start = position
                if len(singles) >= 2 and len(singles) + len(word) <= 7:
                    start -= len(singles)  # a transliterated name cut into characters: 吾拉木别克
                elif (
                    previous and len(previous) == 1 and previous in family_names and len(word) <= 2
                ):
                    start -= 1  # "刘" + "红梅": jieba cut the surname off
                if after - start >= 2:
                    role = ROLE_BEFORE_RE.search(text, max(0, start - 8), start)
                    asked_role = role and role.group(0) in question.normalized
                    yield start, after, 1.0 if asked_role else 0.7
            position += len(word)
            previous = word
            single = len(word) == 1 and "\u4e00" <= word <= "\u9fff"
            singles = singles + [word] if single and pair.flag[:1] not in NOT_IN_NAMES else []

    @staticmethod
    def _figure_fit(question: Question, figure: Figure, ordinal: bool) -> float:
        """How well a figure's unit fits the kind of answer asked for (0: not at all)."""
        kind = question.kind
        if kind == "ordinal" and ordinal:
            return 1.0  # "第几位" -> "第19位", "排名第几" -> "第19"
        if ordinal and kind != "ordinal":
            return 0.3  # "获得第6名" is a place, not a number of people
        if question.asked_unit and figure.unit == question.asked_unit:
            return 1.0
        asks_age = bool(AGE_RE.search(question.normalized))
        if figure.unit in AGE_UNITS and not asks_age:
            return 0.2 if kind in FIGURE_AMOUNT_KINDS | {"other"} else 0.0  # an age, not asked for
        if kind == "measure" and asks_age:
            return 1.0 if figure.unit in AGE_UNITS else 0.0
        if kind == "measure" and LENGTH_ASKED_RE.search(question.normalized):
            return 0.8 if figure.unit in LENGTH_UNITS else 0.0  # "大坝有多高" -> 98.5米
        if figure.unit in SAME_UNITS.get(question.asked_unit or "", ()):
            return 0.9  # "多少名研发人员" -> "研发人员1275人"
        if figure.kind == kind:
            # "多少名" answered in 人次 or 户: probably another thing
            return 0.8 if question.asked_unit not in SPECIFIC_UNITS else 0.4
        if kind == "count" and not question.asked_unit:
            if figure.kind == "ordinal":
                return 0.6
            if figure.kind in FIGURE_AMOUNT_KINDS:
                return 0.55  # "总产量是多少" -> "253.6亿斤"
        if kind == "other":
            return 0.3
        return 0.0

    def _setting_fit(self, question: Question, text: str, start: int, end: int) -> float:
        """How well a figure's setting fits the question: less for a target, an earlier
        period, an aside, another numbered thing, a part, another person or a wider area,
        unless the question asks about one ("力争到2025年建成…1500万亩", "全省…2.1万个"), more
        when the question's focus is written right before it ("亩产达到1180斤")."""
        clause_start = max(text.rfind(c, 0, start) for c in CLAUSE_BREAKS) + 1
        before = text[clause_start:start]
        sentence_start = max(text.rfind(c, 0, start) for c in SENTENCE_ENDS) + 1
        fit = 1.0
        future = TARGET_RE.search(text[sentence_start:start])
        if future and not TARGET_RE.search(question.normalized):
            fit *= 0.6
        opened = max(
            text.rfind("（", sentence_start, start), text.rfind("(", sentence_start, start)
        )
        closed = max(
            text.rfind("）", sentence_start, start), text.rfind(")", sentence_start, start)
        )
        if opened > closed:
            fit *= 0.8  # an aside in brackets: "（第40届签约项目43个，总金额480亿元）"
            before = text[max(sentence_start, opened - 6) : start]
        if PAST_RE.search(before) and not PAST_RE.search(question.normalized):
            fit *= 0.6
        asked_ids = set(IDENTIFIER_RE.findall(question.normalized))
        if asked_ids and any(
            found not in asked_ids and found[-1] in {i[-1] for i in asked_ids}
            for found in IDENTIFIER_RE.findall(before)
        ):
            fit *= 0.5  # "3号线全长多少" is not answered by "1号线全长35.1公里"
        if question.focus and question.focus not in question.names:
            forms = [f for f, _ in question.forms(question.focus)]
            # a noun is written right before its figure; a verb may be written many ways
            # ("投入", "花", "经过…升级改造") and govern a whole list
            verb = question.pos.get(question.focus, "n").startswith("v") and not re.search(
                re.escape(question.focus) + "(?:是|为)", question.normalized
            )  # "亩产是多少" asks for an attribute, whatever jieba's tag
            if any(form in before for form in forms):
                fit = min(1.0, fit * 1.25)  # "年均浓度为21微克/立方米"
            elif not verb:
                if any(form in text for form in forms):
                    fit *= 0.7  # "水稻亩产是多少": 亩产 is written right before its figure
                elif not self._word_credit(question.focus, text, question):
                    fit *= 0.5  # "通行费是多少" where no 通行费 is written: another figure
        for qualifier in QUALIFIER_RE.findall(before):
            if qualifier not in question.normalized:
                fit *= 0.8  # "其中二期投资21.3亿元" does not answer "总投资多少"
        if self._other_subject(question, before):
            fit *= 0.6  # "Johnson得了多少分" is not answered by "队友Kyle Brown贡献15分"
        wider = WIDER_RE.search(text[sentence_start:start])
        if (
            wider
            and question.names
            and wider.group(0) not in question.normalized
            and not any(name in text[sentence_start:end] for name in question.names)
        ):
            fit *= 0.6
        return fit

    @staticmethod
    def _names_after_roles(question: Question, text: str) -> list[Span]:
        """ "主任郑国华介绍": a surname right after a role begins a name of two or three
        characters, even where jieba cuts it apart (郑|国华)."""
        spans = []
        family_names = surnames()
        for role in ROLE_RE.finditer(text):
            start = role.end()
            window_start = max(0, role.start() - 4)
            boundaries, position = set(), window_start
            for word in get_tokenizer().lcut(text[window_start : start + 4]):
                position += len(word)
                boundaries.add(position)
            if start not in boundaries:
                continue  # 主席台, 城市长江路: the role is part of another word
            if text.startswith(" ", start):
                start += 1  # "（记者 王海燕）"
            if start >= len(text) or text[start] not in family_names:
                continue
            pairs = pos_tokenizer().lcut(text[start : start + 8])
            if not pairs or pairs[0].flag[:1] in {"p", "v", "c", "u", "d", "r", "m", "x", "f"}:
                continue  # "记者从市农业农村局获悉": 从 is a preposition here, not a surname
            length = 0
            for pair in pairs:
                if length and (
                    pair.flag[:1] in {"v", "x", "p", "u", "c"} or length + len(pair.word) > 3
                ):
                    break
                length += len(pair.word)
            if 2 <= length <= 3 and re.fullmatch(r"[\u4e00-\u9fff]+", text[start : start + length]):
                asked = role.group(0) in question.normalized
                spans.append((start, start + length, 1.0 if asked else 0.6))
        return spans

    @staticmethod
    def _other_subject(question: Question, clause: str) -> bool:
        """Whether the clause before a figure names someone or somewhere the question does not,
        and nothing the question names."""
        asked = [w for w in question.names + question.words if len(w) >= 2]
        tags = pos_tokenizer().word_tag_tab
        if not any(
            re.fullmatch(r"[A-Za-z]+", w)
            or (question.pos.get(w, "").startswith("nr") and w not in tags)  # 王德胜, not 马拉松
            for w in asked
        ):
            return False  # the question names nobody: any subject may be the one asked about
        forms = {f for w in asked for f, _ in question.forms(w)} | set(asked)
        if any(form in clause for form in forms):
            return False
        for pair in pos_tokenizer().lcut(clause[-SUBJECT_REACH:]):
            word = pair.word
            if len(word) < 2 or word in question.normalized:
                continue
            if pair.flag in {"nr", "nrfg", "nrt", "ns"} or re.fullmatch(r"[a-z]{3,}", word):
                return True
        return False

    @staticmethod
    def _extend_with_noun(question: Question, text: str, start: int, end: int) -> int:
        """Extend a figure over the noun the question counts: `285个` -> `285个服务站`.

        The extension is the longest run the passage shares with what the question writes
        after its "多少个" slot, cut back to where a noun ends, so it never stops mid-phrase.
        """
        position = end
        while position < len(text) and text[position] == " ":
            position += 1
        quote = None
        if position < len(text) and text[position] in OPENING_QUOTES:
            quote = CLOSING_QUOTES[text[position]]
            position += 1
        shared = 0
        limit = min(len(question.after_slot), len(text) - position)
        while shared < limit and text[position + shared] == question.after_slot[shared]:
            shared += 1
        cut = max((e for e in question.noun_ends if e <= shared), default=0)
        if cut == 0:
            return end
        if quote:
            return position + cut + 1 if text.startswith(quote, position + cut) else end
        return position + cut

    # ------------------------------------------------------------ answering

    def answer(self, text: str, top_k: int = 5) -> Answer:
        cleaned = clean_question(text)
        if not re.search(r"[\w\u4e00-\u9fff]", cleaned):
            return _declined(text, "empty")
        cleaned = GREETING_PREFIX_RE.sub("", cleaned) or cleaned  # "你好，哈密有几个服务站"
        if SMALL_TALK_RE.fullmatch(cleaned.strip(" !！.。~～?？,，")):
            return _declined(text, "small_talk", "en" if re.search(r"[A-Za-z]", cleaned) else "zh")
        asking = bool(ASKING_RE.search(cleaned))
        if not asking and QUANTITY_TAIL_RE.search(cleaned):
            cleaned += "是多少"  # "芜湖上半年社会消费品零售总额" asks for that amount
            asking = True
        lexicon = self.lexicon if re.search(r"[A-Za-z]{2,}", cleaned) else None
        question = analyze(cleaned, lexicon)
        answer = self.answer_question(question, top_k, original=text)
        topic_only = answer.answer is None or len(cleaned) <= 4
        if answer.passages and question.kind == "other" and topic_only and not asking:
            # "哈密": a topic, not a question; show where it is written, assert nothing
            return replace(
                answer,
                answer=None,
                confidence=0.0,
                citation=None,
                alternatives=[],
                reason="not_a_question",
            )
        return answer

    @property
    def lexicon(self) -> Lexicon:
        """English -> Chinese for this index (built on the first English question)."""
        if self._lexicon is None:
            vocabulary = {t for tokens in self.index.tokens for t in tokens}
            for record in self.index.articles:  # a place only a title or source names (芜湖日报)
                vocabulary.update(tokenize(record.title + " " + (record.source or "")))
            self._lexicon = Lexicon(vocabulary)
        return self._lexicon

    def answer_question(
        self, question: Question, top_k: int = 5, original: str | None = None
    ) -> Answer:
        def abstain(reason: str, hits: list[Hit] = (), confidence: float = 0.0) -> Answer:
            return Answer(
                question=original if original is not None else question.text,
                answer=None,
                confidence=round(confidence, 3),
                kind=question.kind,
                citation=None,
                lang=question.lang,
                passages=self._ranked(hits[:top_k]),
                reason=reason,
            )

        tokens = question.tokens + question.extra_tokens
        if not tokens:
            return abstain("no_match")
        question.names = [self._as_written(n) for n in question.names]
        absent = [n for n in question.names if not self.mentioned(n)]
        known = [n for n in question.names if n not in absent]
        # "甘肃张掖": a province around a place the articles cover only narrows the question
        regions = [a for a in absent if any(place_within(k, a) for k in known)]
        question.names = [n for n in question.names if n not in regions]
        question.words = [w for w in question.words if w not in regions]
        unknown = question.unknown_names + _joined_where_adjacent(
            [n for n in absent if n not in regions], question.normalized
        )
        if unknown:
            return abstain("unknown_name:" + "、".join(unknown))
        hits = self.searcher.search_tokens(tokens, top_k=SEARCH_DEPTH)
        hits = [h for h in hits if all(self._name_fits(n, h) for n in question.names)]
        if not hits:
            return abstain("no_match")

        candidates = self._candidates(question, hits[:CANDIDATE_PASSAGES])
        best_coverage = max(self.coverage(question, h) for h in hits[:CANDIDATE_PASSAGES])
        if not candidates:
            return abstain(
                "no_answer" if best_coverage >= MIN_COVERAGE else "no_match",
                hits,
                best_coverage / 2,
            )
        best = candidates[0]
        confidence = (
            best.coverage * (0.5 + 0.5 * best.fit) * (0.6 + 0.4 * min(1.0, best.score * 1.5))
        )
        if best.coverage < MIN_COVERAGE or confidence < MIN_CONFIDENCE:
            return abstain("no_match", hits, confidence)

        passage_text = best.hit.passage.text
        answer_text = passage_text[best.start : best.end].strip()
        return Answer(
            question=original if original is not None else question.text,
            answer=answer_text,
            confidence=round(min(confidence, 1.0), 3),
            kind=question.kind,
            citation=self.citation(best.hit.passage_id),
            lang=question.lang,
            alternatives=self._alternatives(best, candidates),
            passages=self._ranked(hits[:top_k]),
        )

    def _candidates(self, question: Question, hits: list[Hit]) -> list[_Candidate]:
        top = hits[0].score
        candidates = []
        for hit in hits:
            coverage = self.coverage(question, hit)
            text = self.passage_text(hit.passage_id)
            for start, end, fit in self._spans(question, text):
                if end - start > MAX_ANSWER_CHARS:
                    continue
                near = self.proximity(question, text, start, end)
                score = (0.35 * hit.score / top + 0.65 * near) * fit * (0.5 + 0.5 * coverage)
                candidates.append(_Candidate(hit, start, end, score, coverage, fit))
        candidates.sort(key=lambda c: -c.score)
        return candidates

    def _alternatives(self, best: _Candidate, candidates: list[_Candidate]) -> list[Alternative]:
        seen = {normalize(best.hit.passage.text[best.start : best.end])}
        alternatives = []
        for candidate in candidates[1:]:
            if (
                candidate.score < 0.6 * best.score
                or candidate.fit < best.fit
                or len(alternatives) >= 3
            ):
                continue
            text = candidate.hit.passage.text
            span = text[candidate.start : candidate.end].strip()
            if normalize(span) in seen or candidate.coverage < MIN_COVERAGE:
                continue
            seen.add(normalize(span))
            alternatives.append(
                Alternative(
                    span,
                    self._clause(text, candidate.start, candidate.end),
                    self.citation(candidate.hit.passage_id),
                )
            )
        return alternatives

    @staticmethod
    def _clause(text: str, start: int, end: int) -> str:
        for match in CLAUSE_RE.finditer(text):
            if match.start() <= start and end <= match.end():
                clause = match.group(0).strip()
                return clause if len(clause) <= 60 else text[max(0, start - 20) : end + 20]
        return text[max(0, start - 20) : end + 20]

    def _ranked(self, hits: list[Hit]) -> list[RankedPassage]:
        return [
            RankedPassage(
                h.passage.text,
                round(h.score, 4),
                self.index.articles[h.passage.article].title,
                self.citation(h.passage_id),
            )
            for h in hits
        ]
