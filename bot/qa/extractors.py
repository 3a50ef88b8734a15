"""Span extractors: every span of a read passage that could answer one kind of question.

Each extractor takes a `ReadPassage` and yields `(start, end, unit)` triples; the kinds
registry (`kinds.py`) names the extractor of each kind. Extractors over-generate on purpose:
the learned scorer, not the extractor, decides which span answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from bot.qa.reading import ReadPassage, Word

Spans = Iterator[tuple[int, int, str | None]]
Extractor = Callable[[ReadPassage], Spans]

PERSON_TAGS = frozenset({"nr", "nrfg", "nrt"})
PLACE_TAGS = frozenset({"ns"})
ORGANIZATION_TAGS = frozenset({"nt"})
# Tags that may stand inside a multi-word name of an organisation or a role
NOUN_TAGS = frozenset(
    {"n", "nr", "ns", "nt", "nz", "j", "vn", "an", "l", "eng", "m", "nrt", "nrfg"}
)
ORGANIZATION_ENDS = (
    "公司", "集团", "大学", "学院", "学校", "中学", "小学", "医院", "银行", "委员会", "协会",
    "中心", "研究院", "研究所", "局", "厅", "部", "委", "办", "政府", "法院", "检察院", "队",
    "俱乐部", "基金会", "联合会", "商会", "博物馆", "电视台", "报社", "出版社", "工厂", "厂",
    "研究中心", "实验室", "合作社", "站", "所",
)  # fmt: skip
ROLE_ENDS = (
    "长", "主任", "书记", "经理", "主席", "教练", "委员", "记者", "总监", "董事", "院士", "教授",
    "总裁", "总经理", "董事长", "秘书长", "主编", "队长", "代表", "专家", "负责人", "发言人",
    "干部", "村医", "医生", "老师", "校长", "厂长", "总工程师", "工程师", "研究员", "运动员",
    "选手", "冠军", "亚军", "季军",
)  # fmt: skip
MAX_NAME_CHARS = 20
NAME_JOINERS = frozenset("-·•‧－")  # between the parts of a transliterated name: 朱利安-肖贝尔
CJK_WORD_RE = re.compile(r"[\u4e00-\u9fff]{1,8}")
GIVEN_NAME_TAGS = frozenset({"n", "nr", "a", "nz", "ng", "v", "vn", "ns"})
PLACE_ENDS = (
    "乡", "镇", "村", "县", "区", "市", "省", "州", "湖", "山", "河", "江", "水库", "桥", "铁路",
    "高铁", "公路", "高速", "机场", "港", "站", "口岸", "陵园", "大楼", "广场", "公园", "景区",
    "街道", "社区", "隧道", "码头", "岛", "湾", "峡谷", "园区", "新区",
)  # fmt: skip
DATE_RE = re.compile(
    r"(?:\d{4}|[一二三四五六七八九〇零]{4})年(?:\d{1,2}月(?:\d{1,2}[日号])?)?(?:[上中下]旬|初|底|末)?"
    r"|\d{1,2}月\d{1,2}[日号](?:[上下]午)?|\d{1,2}月(?:[上中下]旬|初|底|末)?|\d{1,2}[日号]"
    r"|(?:[上下]午|凌晨|晚上|早上|中午)?\d{1,2}[时点](?:\d{1,2}分|半)?|\d{1,2}:\d{2}"
)
RANK_RE = re.compile(
    r"第[\d一二三四五六七八九十百两]+[名位届次个批期轮季场号]?|[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ]+级|[一二三四五六七八九十]级|[冠亚季]军|榜首|首位|前[\d一二三四五六七八九十]+[名位强]?"
)
QUOTED_RE = re.compile(r"“([^“”]{2,30})”|《([^《》]{1,30})》|「([^「」]{2,30})」|\"([^\"]{2,30})\"")
COPULA_RE = re.compile(r"(?:是|为|被誉为|誉为|被称为|称为|号称|素有|以|叫|名为|作为)")
DESCRIPTION_MAX_CHARS = 25
# "120至130元": the lower end of a range whose unit is written once, after the upper end
RANGE_OPENING_RE = re.compile(r"\d+(?:\.\d+)?[万亿]?\s*(?:至|到|-|~|—|－|～)\s*$")
NEGATIVE_SIGNS = ("零下", "-", "－", "—")
ORDINAL_PREFIX = "第"
FRACTION_RE = re.compile(r"[\d一二三四五六七八九十百千]+分之[\d一二三四五六七八九十]+")
LATIN_NAME_RE = re.compile(r"[A-Z][a-z]+(?:[ ·-][A-Z][a-z]+)*")


def figures_with_units(units: Iterable[str], dates_too: bool = False) -> Extractor:
    """An extractor of the passage's figures whose unit is one of `units`; a range written
    before the figure (120至130元), a minus sign or an ordinal's 第 is part of it."""
    wanted = frozenset(units)

    def extract(passage: ReadPassage) -> Spans:
        for figure in passage.figures:
            if figure.unit in wanted and (dates_too or figure.kind != "date"):
                start = figure.start
                opening = RANGE_OPENING_RE.search(passage.text, max(0, start - 16), start)
                if opening:
                    start = opening.start()
                elif passage.text.endswith(NEGATIVE_SIGNS, 0, start):
                    start -= next(
                        len(s) for s in NEGATIVE_SIGNS if passage.text.endswith(s, 0, start)
                    )
                elif passage.text.endswith(ORDINAL_PREFIX, 0, start):
                    start -= len(ORDINAL_PREFIX)  # 第65届, not 65届
                yield start, figure.end, figure.unit

    return extract


def either(*extractors: Extractor) -> Extractor:
    """An extractor of what any of `extractors` finds."""

    def extract(passage: ReadPassage) -> Spans:
        for extractor in extractors:
            yield from extractor(passage)

    return extract


def pattern(regex: re.Pattern[str]) -> Extractor:
    """An extractor of every match of `regex` in the normalised passage."""

    def extract(passage: ReadPassage) -> Spans:
        for match in regex.finditer(passage.text):
            yield match.start(), match.end(), None

    return extract


def _runs(words: list[Word], tags: frozenset[str]) -> Iterator[tuple[int, int]]:
    """Each word with one of `tags`, and each run of two or more such words side by side."""
    run: list[Word] = []
    for word in [*words, Word(-1, -1, "", "x")]:
        if word.tag in tags:
            yield word.start, word.end
            run.append(word)
            continue
        if len(run) > 1:
            yield run[0].start, run[-1].end
        run = []


def tagged(tags: frozenset[str], latin: bool = False) -> Extractor:
    """Names jieba tags with one of `tags` (adjacent ones joined), and Latin names if asked."""

    def extract(passage: ReadPassage) -> Spans:
        seen: set[tuple[int, int]] = set()
        for start, end in _runs(passage.words, tags):
            if (start, end) not in seen and end - start <= MAX_NAME_CHARS:
                seen.add((start, end))
                yield start, end, None
        if latin:
            for match in LATIN_NAME_RE.finditer(passage.original):
                yield match.start(), match.end(), None

    return extract


def people(passage: ReadPassage) -> Spans:
    """Names jieba tags as people, a surname it tagged alone joined with the given name after
    it (郭 + 鹏程), transliterated names (朱利安-肖贝尔) and Latin names."""
    yield from tagged(PERSON_TAGS, latin=True)(passage)
    yield from transliterated_names(passage)
    words = passage.words
    for first, second in zip(words, words[1:], strict=False):
        if first.tag in PERSON_TAGS and len(first.text) == 1 and 1 <= len(second.text) <= 2:
            if second.tag in GIVEN_NAME_TAGS:
                yield first.start, second.end, None


def transliterated_names(passage: ReadPassage) -> Spans:
    """Words joined by a name's dot or hyphen (丹尼尔·戴-刘易斯), the last part with the name
    words after it (肖 + 贝尔)."""
    words = passage.words
    number = 0
    while number + 2 < len(words):
        end = number
        while (
            end + 2 < len(words)
            and words[end + 1].text in NAME_JOINERS
            and CJK_WORD_RE.fullmatch(words[end].text)
            and CJK_WORD_RE.fullmatch(words[end + 2].text)
        ):
            end += 2
        if end > number:
            while end + 1 < len(words) and words[end + 1].tag in PERSON_TAGS:
                end += 1  # a last part jieba cut in two: 肖 + 贝尔
            yield words[number].start, words[end].end, None
        number = end + 1


def places(passage: ReadPassage) -> Spans:
    """Places jieba tags, and each with the words of a place after it (措果 + 乡, 镜泊湖 + 水库)."""
    yield from tagged(PLACE_TAGS)(passage)
    words = passage.words
    for number, word in enumerate(words):
        if word.tag not in PLACE_TAGS:
            continue
        end = number
        while (
            end + 1 < len(words)
            and end - number < 3
            and words[end + 1].text.endswith(PLACE_ENDS)
            and words[end + 1].tag in NOUN_TAGS
        ):
            end += 1
            yield word.start, words[end].end, None


def ending_with(ends: tuple[str, ...], tags: frozenset[str]) -> Extractor:
    """Noun phrases whose last word ends with one of `ends` (院长, 人民医院), and tagged names."""
    by_tag = tagged(tags)

    def extract(passage: ReadPassage) -> Spans:
        yield from by_tag(passage)
        words = passage.words
        for number, word in enumerate(words):
            if not word.text.endswith(ends) or word.tag not in NOUN_TAGS | tags:
                continue
            first = number
            while (
                first > 0
                and words[first - 1].tag in NOUN_TAGS
                and word.end - words[first - 1].start <= MAX_NAME_CHARS
            ):
                first -= 1
            for start in {words[first].start, word.start}:
                yield start, word.end, None

    return extract


def descriptions(passage: ReadPassage) -> Spans:
    """Quoted phrases and what follows a copula (是, 被誉为 …) up to the end of its clause."""
    for match in QUOTED_RE.finditer(passage.text):
        group = next(g for g in range(1, 5) if match.group(g))
        yield match.start(group), match.end(group), None
    for match in COPULA_RE.finditer(passage.text):
        start = match.end()
        _, clause_end = passage.clause_of(start, start)
        end = min(clause_end, start + DESCRIPTION_MAX_CHARS)
        while end > start and not passage.text[end - 1].isalnum():
            end -= 1
        if end - start >= 2:
            yield start, end, None
