"""Qualifiers: words that narrow a figure to a target, an earlier period, a per-capita value,
a part, a wider area, a change or a total, in questions and around candidate spans.

The same words are looked for on both sides, so the scorer can learn that a span standing
next to "力争" fits a question about a target and not one about the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from index.analyzer import has_english_word


@dataclass(frozen=True)
class QualifierSpec:
    zh: tuple[str, ...]  # written in articles and questions
    en: tuple[str, ...]  # in English questions (whole words)
    asked_zh: tuple[str, ...] = ()  # only in questions (colloquial)


class Qualifier(Enum):
    """What narrows a figure."""

    TARGET = QualifierSpec(
        ("力争", "争取", "计划", "目标", "预计", "有望", "规划", "预期", "拟", "将达", "将建", "将新增",
         "将实现", "将突破", "到20"),
        ("target", "goal", "plan", "planned", "aim", "expected", "projected", "forecast"),
        ("打算", "要达到", "想"),
    )  # fmt: skip
    PAST = QualifierSpec(
        ("上年", "去年同期", "上一年", "上届", "上一届", "前年", "此前", "原来", "以往", "曾"),
        ("previous", "before", "prior", "earlier"),
    )  # fmt: skip
    PER_CAPITA = QualifierSpec(
        ("人均", "户均", "每人", "平均每", "亩产", "平均"),
        ("per capita", "per person", "average", "per head", "each"),
    )  # fmt: skip
    PART = QualifierSpec(
        ("其中", "新增", "净增", "一期", "二期", "三期", "首期", "男子", "女子", "城镇", "农村",
         "上半年", "下半年", "第一季度", "前三季度", "分别"),
        ("of which", "new", "newly", "phase", "men", "women", "urban", "rural", "first half",
         "quarter"),
    )  # fmt: skip
    WIDER = QualifierSpec(
        ("全省", "全国", "全球", "全世界", "全区", "全自治区", "全行业"),
        ("nationwide", "national", "province-wide", "whole province", "country", "global"),
    )  # fmt: skip
    CHANGE = QualifierSpec(
        ("增长", "增加", "提高", "提升", "下降", "减少", "降低", "上涨", "同比", "增速", "增幅",
         "比上年", "涨"),
        ("growth", "grow", "grew", "increase", "increased", "rise", "rose", "decline", "fell",
         "drop", "up", "down", "change"),
        ("多了", "少了", "涨了", "降了", "变化"),
    )  # fmt: skip
    TOTAL = QualifierSpec(
        ("总", "累计", "共", "合计", "全年", "总计", "一共", "总共", "全部"),
        ("total", "in all", "altogether", "overall", "whole", "entire", "cumulative"),
    )  # fmt: skip


def qualifiers_in_text(text: str) -> frozenset[Qualifier]:
    """Qualifiers whose article words `text` (normalised) contains."""
    return frozenset(q for q in Qualifier if any(word in text for word in q.value.zh))


def qualifiers_asked(normalized_question: str) -> frozenset[Qualifier]:
    """Qualifiers a question asks for, in Chinese or English."""
    found = set(qualifiers_in_text(normalized_question))
    found.update(
        q for q in Qualifier if any(word in normalized_question for word in q.value.asked_zh)
    )
    found.update(
        q
        for q in Qualifier
        if any(has_english_word(normalized_question, word) for word in q.value.en)
    )
    return frozenset(found)
