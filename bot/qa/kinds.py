"""The registry of question kinds: one entry per kind, with its cues, its units and its extractor.

A new kind is one entry here and, if no existing extractor fits, one function in
`extractors.py`. Cues are evidence for the learned scorer, not rules: a question may cue
several kinds, or none.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from bot.qa import extractors as ex
from index.analyzer import has_english_word
from index.figures import (
    AREA_UNITS,
    COUNT_UNITS,
    MEASURE_UNITS,
    MONEY_UNITS,
    ORDINAL_UNITS,
    TIME_UNITS,
)

PERCENT_UNITS = ("%", "个百分点", "百分点", "倍", "成")
LENGTH_UNITS = ("公里", "千米", "米", "毫米", "厘米")
WEIGHT_UNITS = ("吨", "千克", "公斤", "克", "斤")
QUANTITY_UNITS = tuple(
    u for u in MEASURE_UNITS if u not in PERCENT_UNITS + LENGTH_UNITS + WEIGHT_UNITS
)


@dataclass(frozen=True)
class KindSpec:
    """What one kind of question looks like and what answers it."""

    label: str  # the name in question sets, JSON output and the weights file
    zh_cues: tuple[str, ...]  # words of a Chinese question that suggest the kind
    en_cues: tuple[str, ...]  # words or phrases of an English question (whole words)
    units: tuple[str, ...]  # measure words of its figures ("" when it has none)
    extractor: ex.Extractor
    figure: bool = False  # answered by a figure


class Kind(Enum):
    """Kinds of question: each value is its `KindSpec`."""

    COUNT = KindSpec(
        "count",
        ("多少个", "几个", "多少家", "几家", "多少名", "多少人", "几人", "多少座", "几座", "多少所",
         "多少项", "多少户", "多少位", "数量", "个数", "人数", "家数", "有几", "多少只", "多少辆"),
        ("how many", "number of", "count"),
        COUNT_UNITS, ex.figures_with_units(COUNT_UNITS), figure=True,
    )  # fmt: skip
    MONEY = KindSpec(
        "money",
        ("钱", "资金", "投资", "投入", "金额", "收入", "营收", "利润", "产值", "总值", "gdp",
         "生产总值", "花了", "花费", "成本", "价格", "票房", "销售额", "预算", "经费", "工资",
         "收益", "赚", "挣", "多少元", "几块", "补贴", "奖金", "造价", "财政", "营业额", "税"),
        ("money", "cost", "invest", "investment", "spend", "spent", "revenue", "profit", "gdp",
         "income", "yuan", "budget", "price", "sales", "worth", "fund", "funding", "earn",
         "earned", "box office", "salary", "output"),
        MONEY_UNITS, ex.figures_with_units(MONEY_UNITS), figure=True,
    )  # fmt: skip
    PERCENT = KindSpec(
        "percent",
        ("百分之", "比例", "占比", "增速", "增幅", "增长率", "百分比", "涨幅", "降幅", "几成",
         "涨了多少", "增长了多少", "增长多少", "下降了多少", "下降多少", "率", "%", "倍"),
        ("percent", "percentage", "rate", "proportion", "share", "growth", "grow", "grew",
         "increase", "rise", "rose", "decline", "drop", "fell", "times"),
        PERCENT_UNITS, ex.either(ex.figures_with_units(PERCENT_UNITS), ex.pattern(ex.FRACTION_RE)),
        figure=True,
    )  # fmt: skip
    AREA = KindSpec(
        "area",
        ("面积", "多大", "亩", "平方", "占地", "公顷", "多少地"),
        ("area", "how big", "how large", "mu", "hectare", "hectares", "square", "land"),
        AREA_UNITS, ex.figures_with_units(AREA_UNITS), figure=True,
    )  # fmt: skip
    LENGTH = KindSpec(
        "length",
        ("多长", "多远", "多高", "多深", "多宽", "长度", "全长", "高度", "里程", "距离", "海拔",
         "多少米", "多少公里", "身高", "跳了"),
        ("how long is", "length", "how far", "how high", "how tall", "height", "distance",
         "kilometers", "kilometres", "km", "meters", "metres", "long", "high", "tall"),
        LENGTH_UNITS, ex.figures_with_units(LENGTH_UNITS), figure=True,
    )  # fmt: skip
    WEIGHT = KindSpec(
        "weight",
        ("多重", "重量", "吨", "斤", "公斤", "产量"),
        ("weigh", "weight", "tons", "tonnes", "kilograms", "output"),
        WEIGHT_UNITS, ex.figures_with_units(WEIGHT_UNITS), figure=True,
    )  # fmt: skip
    DURATION = KindSpec(
        "duration",
        ("多久", "多长时间", "用时", "耗时", "几天", "多少天", "几年", "多少年", "工期", "时长",
         "成绩", "跑了", "几个月", "多少小时", "几小时", "多少分钟"),
        ("how long did", "how long does", "how long will", "how long has", "days", "years",
         "months", "hours", "duration", "finishing time", "time", "take", "took"),
        TIME_UNITS, ex.figures_with_units(TIME_UNITS), figure=True,
    )  # fmt: skip
    DATE = KindSpec(
        "date",
        ("什么时候", "何时", "哪天", "哪一天", "哪年", "哪一年", "几月", "日期", "时间", "啥时候",
         "几时", "哪个月", "几号", "年份"),
        ("when", "what year", "which year", "what date", "which day", "what month", "date",
         "what day"),
        (), ex.pattern(ex.DATE_RE),
    )  # fmt: skip
    RANK = KindSpec(
        "rank",
        ("第几", "排名", "名次", "排第", "连冠", "第几届", "位列", "排在", "几连", "位居", "排位",
         "名列"),
        ("rank", "ranked", "ranking", "place", "position", "edition", "consecutive", "th"),
        ORDINAL_UNITS, ex.either(ex.pattern(ex.RANK_RE), ex.figures_with_units(ORDINAL_UNITS)),
        figure=True,
    )  # fmt: skip
    QUANTITY = KindSpec(
        "quantity",
        ("多少度", "温度", "容量", "发电量", "用量", "岁", "年龄", "年纪", "速度", "装机", "气温",
         "分", "降雨量", "浓度", "多少立方"),
        ("temperature", "age", "how old", "capacity", "speed", "volume", "score", "points",
         "cubic", "degrees", "concentration"),
        QUANTITY_UNITS, ex.figures_with_units(QUANTITY_UNITS), figure=True,
    )  # fmt: skip
    PERSON = KindSpec(
        "person",
        ("谁", "叫什么名字", "名字", "姓名", "何人", "哪位", "叫啥", "叫什么"),
        ("who", "whom", "name", "named", "called", "whose"),
        (), ex.people,
    )  # fmt: skip
    ROLE = KindSpec(
        "role",
        ("什么职务", "职务", "职位", "担任", "身份", "什么职", "干什么的", "是做什么", "什么官"),
        ("position", "title", "role", "job", "post"),
        (), ex.ending_with(ex.ROLE_ENDS, frozenset()),
    )  # fmt: skip
    PLACE = KindSpec(
        "place",
        ("哪里", "哪儿", "在哪", "什么地方", "哪个城市", "哪个省", "地点", "何地", "哪个国家",
         "哪个县", "哪个区", "哪座城市", "位于"),
        ("where", "which city", "which province", "location", "which country", "located",
         "which county"),
        (), ex.places,
    )  # fmt: skip
    ORGANIZATION = KindSpec(
        "organization",
        ("哪家公司", "哪个单位", "哪个部门", "什么机构", "哪家", "主办", "承办", "哪所", "什么公司",
         "哪个企业", "哪个组织", "哪支", "哪个队", "什么单位", "发布"),
        ("which company", "organization", "organisation", "organised", "organized",
         "department", "firm", "university", "hosted", "team", "which club", "agency"),
        (), ex.ending_with(ex.ORGANIZATION_ENDS, ex.ORGANIZATION_TAGS),
    )  # fmt: skip
    DESCRIPTION = KindSpec(
        "description",
        ("什么", "怎么样", "如何", "为什么", "哪些", "特点", "是啥", "啥", "怎样", "叫"),
        ("what", "why", "how", "which", "known for", "famous"),
        (), ex.descriptions,
    )  # fmt: skip

    def __repr__(self) -> str:
        return f"Kind.{self.name}"

    def __reduce_ex__(self, protocol: object) -> tuple:
        return Kind.from_label, (self.label,)  # by name: the spec holds functions

    @property
    def label(self) -> str:
        return self.value.label

    @classmethod
    def from_label(cls, label: str) -> Kind:
        """The kind a question set or the weights file names (`count`, `money`, ...)."""
        return _BY_LABEL[label]


_BY_LABEL = {kind.label: kind for kind in Kind}


@lru_cache(maxsize=1)
def unit_kinds() -> dict[str, Kind]:
    """Measure word -> the figure kind it belongs to (the first kind listing it)."""
    table: dict[str, Kind] = {}
    for kind in Kind:
        for unit in kind.value.units:
            table.setdefault(unit, kind)
    return table


def cued_kinds(normalized_question: str) -> frozenset[Kind]:
    """The kinds whose Chinese or English cues the (normalised, lower-case) question contains."""
    found = {kind for kind in Kind for cue in kind.value.zh_cues if cue in normalized_question}
    found.update(
        kind
        for kind in Kind
        for cue in kind.value.en_cues
        if has_english_word(normalized_question, cue)
    )
    return frozenset(found)
