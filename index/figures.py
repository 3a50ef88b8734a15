"""Find figures in Chinese text: a number, its magnitude, approximation and measure word.

`285个`, `1.6亿元`, `5.4万亩`, `2000多亩`, `近4万个`, `六次` are each one `Figure`, with
character offsets into the text and a numeric value, so that both the tokenizer (figures
stay whole tokens) and the answerer (figures are answer candidates) read them the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# fmt: off
CHINESE_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}
CHINESE_SCALES = {"十": 10, "百": 100, "千": 1000, "万": 10_000, "亿": 100_000_000}

# Measure words and units, grouped by what they measure. Longest first inside the regex.
MONEY_UNITS = ("元", "美元", "欧元", "港元", "港币", "日元", "英镑", "块", "块钱")
AREA_UNITS = ("亩", "平方米", "平方公里", "平方千米", "公顷", "平米")
TIME_UNITS = (
    "年", "个月", "月", "天", "日", "小时", "个小时", "分钟", "周", "周年", "个星期", "星期",
    "秒", "个工作日", "工作日",
)
ORDINAL_UNITS = ("连冠", "连丰", "连胜", "连增", "届", "次", "期", "轮", "批次", "批", "代")
COUNT_UNITS = (
    "个", "名", "家", "户", "项", "人次", "座", "幅", "所", "条", "位", "支", "头", "只",
    "株", "篇", "首", "处", "件", "台", "辆", "套", "场", "人", "例", "起", "张", "本",
    "册", "部", "种", "类", "门", "棵", "间", "栋", "层", "节", "对", "家次", "架次",
    "艘", "架", "匹", "口", "所", "片", "份", "组", "队", "村", "乡", "镇", "县", "团",
    "字", "枚", "盏", "颗", "班", "班次", "艘次", "车次", "趟", "列", "辆次", "户次",
)
MEASURE_UNITS = (
    "公里", "千米", "米", "吨", "千克", "公斤", "克", "斤", "升", "立方米", "亿立方米",
    "万立方米", "度", "%", "倍", "岁", "歲", "周岁", "个百分点", "百分点", "千瓦", "千瓦时",
    "兆瓦", "分", "微克/立方米", "毫克/立方米", "微克", "毫克", "毫米", "厘米", "级", "摄氏度",
    "℃", "公里/小时", "千米/小时", "米/秒", "千瓦时", "标箱", "毫克/升", "吨/日",
    "立方米/秒", "万吨/日",
)
# fmt: on

ALL_UNITS = tuple(
    sorted(
        set(MONEY_UNITS + AREA_UNITS + TIME_UNITS + ORDINAL_UNITS + COUNT_UNITS + MEASURE_UNITS),
        key=len,
        reverse=True,
    )
)

UNIT_KIND = {
    **{u: "count" for u in COUNT_UNITS},
    **{u: "measure" for u in MEASURE_UNITS},
    **{u: "ordinal" for u in ORDINAL_UNITS},
    **{u: "duration" for u in TIME_UNITS},
    **{u: "area" for u in AREA_UNITS},
    **{u: "money" for u in MONEY_UNITS},
}

_UNIT_RE = "|".join(re.escape(u) for u in ALL_UNITS)
_APPROX_BEFORE = "将近|接近|超过|大约|近|约|超|逾"
_ARABIC = r"\d+(?:,\d{3})*(?:\.\d+)?"
_CHINESE = r"[一二两三四五六七八九十][零〇一二两三四五六七八九十百千万亿]*"
_SCALE = r"(?:[十百万亿]|千(?![瓦米克卡伏帕]))"  # the 千 of 千瓦, 千米, 千克 is the unit's

FIGURE_RE = re.compile(
    rf"(?P<before>{_APPROX_BEFORE})?"
    rf"(?:(?P<arabic>{_ARABIC})\s*(?P<scale>{_SCALE}+)?|(?P<chinese>{_CHINESE}))"
    rf"(?P<after>多|余|来)?"
    rf"\s*(?P<unit>{_UNIT_RE})?"
)

# "多少个", "几次": the question asks for a figure with this unit.
ASKED_UNIT_RE = re.compile(rf"(?:多少|几)(?P<unit>{_UNIT_RE})")


@dataclass(frozen=True)
class Figure:
    """One figure found in a text; `start`/`end` are offsets into that text."""

    start: int
    end: int
    number: str  # the number as written, with its scale: "1.6亿", "285", "六"
    value: float
    unit: str | None
    approximate: bool
    joined: bool = False  # a duration in several units; `value` is then in seconds

    @property
    def kind(self) -> str:
        """What the figure measures: count, money, area, duration, ordinal, measure, date, number."""
        if self.unit == "年" and self.number.isdigit() and len(self.number) == 4:
            return "date"  # 2022年 is a year, not a duration
        if self.unit in ("月", "日"):
            return "date"  # 5月, 18日: a month or a day (a duration is 5个月, 18天)
        return UNIT_KIND.get(self.unit or "", "number")

    @property
    def canonical(self) -> str:
        """The value in Arabic digits without trailing zeros: 六 -> 6, 1.6亿 -> 160000000."""
        return format_value(self.value)


def format_value(value: float) -> str:
    if value == int(value):
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


def parse_chinese_number(text: str) -> int | None:
    """Value of a Chinese numeral such as 六, 十二, 三百零五, 两千, 一万五 (15000), 二〇二二;
    None when it is not one, or is a vague range such as 两三 or 三四十."""
    if all(c in CHINESE_DIGITS for c in text) and len(text) > 1:
        if not any(c in "零〇" for c in text):
            return None  # 两三 (two or three), not 23
        return int("".join(str(CHINESE_DIGITS[c]) for c in text))  # 二〇二二
    total, section, digit, last_scale = 0, 0, None, 1
    for char in text:
        if char in CHINESE_DIGITS:
            if digit not in (None, 0):
                return None  # 三四十: a range
            digit = CHINESE_DIGITS[char]
        elif char in CHINESE_SCALES:
            scale = CHINESE_SCALES[char]
            if scale >= 10_000:
                section += digit or 0
                total = (total + section) * scale if total < scale else total + section * scale
                section = 0
            else:
                section += (1 if digit is None else digit) * scale
            digit, last_scale = None, scale
        else:
            return None
    if digit and last_scale >= 100 and len(text) >= 2 and text[-2] in CHINESE_SCALES:
        # a digit right after the last scale counts in the next place down: 一万五, 三百五
        return total + section + digit * last_scale // 10
    return total + section + (digit or 0)


def scale_value(scale: str | None) -> int:
    value = 1
    for char in scale or "":
        value *= CHINESE_SCALES[char]
    return value


# The units of a compound duration ("2小时09分27秒", "5年零3个月", "6分30秒"), written largest
# first, and their seconds: a joined duration's value is its total (2小时11分36秒 != 2小时09分58秒)
CLOCK_SECONDS = {
    "年": 365 * 86400, "个月": 30 * 86400, "天": 86400, "小时": 3600, "个小时": 3600,
    "分": 60, "分钟": 60, "秒": 1,
}  # fmt: skip
PERCENT_PREFIX = "百分之"


def find_figures(text: str) -> list[Figure]:
    """All figures in `text`, in order. Chinese numerals count only with a measure word."""
    return _join_durations(text, list(_single_figures(text)))


def _join_durations(text: str, figures: list[Figure]) -> list[Figure]:
    """One figure for a duration written in several units: "2小时09分27秒", "5年零3个月"."""
    joined: list[Figure] = []
    for figure in figures:
        previous = joined[-1] if joined else None
        if (
            previous is not None
            and previous.unit in ("秒", "米")
            and not previous.joined
            and figure.unit is None
            and figure.start == previous.end
            and len(figure.number) <= 2
            and figure.number.isdigit()
        ):  # a sprint time or a jump: 10秒62, 1米82, 1米8 (the fraction after the unit)
            value = previous.value + figure.value / 10 ** len(figure.number)
            joined[-1] = Figure(
                previous.start, figure.end, previous.number, value, previous.unit,
                previous.approximate, joined=previous.unit == "秒",
            )  # fmt: skip
            continue
        if (
            previous is not None
            and previous.unit in CLOCK_SECONDS
            and figure.unit in CLOCK_SECONDS
            and CLOCK_SECONDS[figure.unit] < CLOCK_SECONDS[previous.unit]
            and text[previous.end : figure.start] in ("", "零")
            and previous.kind != "date"
        ):
            unit = "分钟" if previous.unit == "分" else previous.unit
            seconds = _seconds(previous) + figure.value * CLOCK_SECONDS[figure.unit]
            joined[-1] = Figure(
                previous.start, figure.end, previous.number, seconds, unit, previous.approximate,
                joined=True,
            )  # fmt: skip
            continue
        joined.append(figure)
    return joined


def _seconds(figure: Figure) -> float:
    return figure.value if figure.joined else figure.value * CLOCK_SECONDS[figure.unit or "秒"]


def _single_figures(text: str) -> Iterator[Figure]:
    for match in FIGURE_RE.finditer(text):
        unit = match.group("unit")
        start, end = match.span()
        if not unit and text.endswith(PERCENT_PREFIX, 0, start):
            unit, start = "%", start - len(PERCENT_PREFIX)  # 百分之三十 = 30%
        if match.group("arabic"):
            number = match.group("arabic").replace(",", "")
            scale = match.group("scale") or ""
            try:
                value = float(number) * scale_value(scale)
            except ValueError:
                continue
            number_text = number + scale
        else:
            chinese = match.group("chinese")
            if not unit or unit == "分" or "点" in (text[start - 1 : start], text[end : end + 1]):
                continue  # 十分 is "very", not ten points; 三点五 is a decimal read elsewhere
            parsed = parse_chinese_number(chinese)
            if parsed is None:
                continue
            value, number_text = float(parsed), chinese
        if (
            start > 0
            and match.group("arabic")
            and (text[start - 1].isascii() and text[start - 1].isalnum())
        ):
            continue  # part of a word like "A4" or "COVID19"
        if (
            unit == "分"
            and text[start - 1 : start] in ("时", "点")
            and text[start - 2 : start] != "小时"
        ):
            continue  # 8时30分 is a time of day, not 30 points
        yield (
            Figure(
                start=start,
                end=end,
                number=number_text,
                value=value,
                unit=unit,
                approximate=bool(match.group("before") or match.group("after")),
            )
        )
