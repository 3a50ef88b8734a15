"""Figures of every shape, and the decoys next to them (issue 3, on articles in new layouts).

Two articles written for these tests (tests/fixtures/articles_figures): an economy report as
Markdown with front matter, and a marathon page with a navigation bar and an editor line. They
hold what real reports hold next to the figure asked for: last year's figure, a target for a
later year, the whole province's figure, a neighbour's figure in the next clause, another
line or hall with the same wording, and another player's points.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.qa.answerer import Answerer
from bot.qa.result import Answer
from bot.render import render_text
from index.build import build_index
from index.figures import find_figures
from index.store import CorpusIndex, load_index

ARTICLES = Path(__file__).resolve().parent / "fixtures" / "articles_figures"


@pytest.fixture(scope="module")
def answerer(tmp_path_factory: pytest.TempPathFactory) -> Answerer:
    path = tmp_path_factory.mktemp("index") / "index.sqlite"
    _, report = build_index(ARTICLES, path)
    assert report.articles == 3 and not report.skipped, report.summary()
    return Answerer(load_index(path))


def index_of(tmp_path: Path, filename: str, text: str) -> CorpusIndex:
    """The index of one article written for a test."""
    data = tmp_path / "articles"
    data.mkdir()
    (data / filename).write_text(text, encoding="utf-8")
    index, _ = build_index(data, tmp_path / "index.sqlite")
    return index


def answered(answerer: Answerer, question: str) -> Answer:
    answer = answerer.answer(question)
    assert answer.offered is not None, f"{question}: abstained ({answer.reason})"
    assert answer.citation is not None and answer.offered in answer.citation.text
    return answer


@pytest.mark.parametrize(
    ("text", "surface", "kind"),
    [
        ("以2小时11分36秒的成绩冲线", "2小时11分36秒", "duration"),
        ("工期5年零3个月", "5年零3个月", "duration"),
        ("行车间隔6分30秒", "6分30秒", "duration"),
        ("连续80多个小时的奋战", "80多个小时", "duration"),
        ("增长百分之三十二", "百分之三十二", "measure"),
        ("下降0.6个百分点", "0.6个百分点", "measure"),
        ("粮食总产量253.6亿斤", "253.6亿斤", "measure"),
        ("总造价300亿港元", "300亿港元", "money"),
        ("实现二十一连丰", "二十一连丰", "ordinal"),
        ("6月18日正式开诊", "6月", "date"),
        ("以10秒58的成绩夺冠", "10秒58", "duration"),
        ("以1米82的成绩获得女子跳高冠军", "1米82", "measure"),
        ("年均浓度为21微克/立方米", "21微克/立方米", "measure"),
    ],
)
def test_figures_of_every_shape_are_one_figure(text: str, surface: str, kind: str) -> None:
    figures = [f for f in find_figures(text) if text[f.start : f.end] == surface]
    assert figures, [text[f.start : f.end] for f in find_figures(text)]
    assert figures[0].kind == kind


@pytest.mark.xfail(
    strict=True,
    reason="issue 11, open: no feature yet tells a place in a ranking (第3名) from a count",
)
def test_a_place_in_a_ranking_is_not_a_count(answerer: Answerer) -> None:
    answer = answerer.answer("东湖中学有多少名运动员?")
    assert answer.offered is None or "3名" not in answer.offered  # 3名 or 第3名: a place, no count


def test_very_is_not_a_figure() -> None:
    assert find_figures("这件事十分重要") == []


FIGURE_CASES = [
    # the kind of answer, read from what is asked about
    ("临海2024年地区生产总值是多少?", "985.6亿元", "money"),
    ("临海GDP比上年增长了百分之多少?", "6.3%", "measure"),
    ("临海规模以上工业增加值增长了多少?", "7.9%", "count"),
    ("临海农村居民人均可支配收入增长了多少?", "6.8%", "count"),
    ("临海国际会展中心3号馆占地多大?", "2.4公顷", "area"),
    ("马拉松组委会主任叫什么名字?", "郑国华", "person"),
    ("基普托赫跑完男子全程用时多少?", "2小时11分36秒", "duration"),
    ("临海马拉松在全国马拉松赛事中排名第几?", "第12位", "ordinal"),
    ("临海马拉松招募了多少名志愿者?", "2600名", "count"),
    # decoys: target, province, neighbour in the next clause, focus of the question
    ("临海累计有多少家上市公司?", "27家", "count"),
    ("临海油菜种植面积有多少亩?", "9.8万亩", "area"),
    ("陈国强的水稻亩产是多少?", "1230斤", "count"),
    ("临海轨道交通2号线全长多少公里?", "28.6公里", "measure"),
    ("Ryan Cooper拿下了多少分?", "31分", "measure"),
    # a part (二期, 其中), an age, a place in a ranking, people counted in 人 for 名
    ("临海灵江大桥工程总投资多少钱?", "34.5亿元", "money"),
    ("临海灵江大桥主塔有多高?", "168米", "measure"),
    ("林子涵今年多大?", "17岁", "measure"),
    ("林子涵男子100米的成绩是多少?", "10秒58", "count"),
    ("临海灵江大桥有多少名工程技术人员?", "426人", "count"),
    ("临海PM2.5年均浓度是多少?", "21微克/立方米", "count"),
]
# The share of FIGURE_CASES the committed weights answer right, less a margin, and how many
# decoys they may state instead (issue 11's note): a change that loses answers fails here.
FIGURE_FLOOR = 0.5
DECOYS_ALLOWED = 3


def test_the_figure_asked_for_not_the_one_beside_it(answerer: Answerer) -> None:
    right, wrong = 0, []
    for question, expected, _ in FIGURE_CASES:
        answer = answerer.answer(question)
        if answer.offered is None:
            continue
        assert answer.offered in answer.citation.text
        if answer.offered.replace("“", "").replace("”", "").startswith(expected):
            right += 1
        else:
            wrong.append((question, answer.offered, expected))
    assert right >= FIGURE_FLOOR * len(FIGURE_CASES), (right, wrong)
    assert len(wrong) <= DECOYS_ALLOWED, wrong


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What was Linhai's GDP in 2024?", "985.6亿元"),
        pytest.param(
            "By what percentage did Linhai's GDP grow?",
            "6.3%",
            marks=pytest.mark.xfail(
                strict=True, reason="issue 11, open: the province's 5.4% beside the city's 6.3%"
            ),
        ),
        ("How many points did Ryan Cooper score?", "31分"),
    ],
)
def test_english_possessives_acronyms_and_latin_names(
    answerer: Answerer, question: str, expected: str
) -> None:
    """Answered with the figure, or not at all; the reply is in English either way."""
    answer = answerer.answer(question)
    assert answer.offered in (expected, None), f"{question}: answered {answer.offered!r}"
    assert answer.lang == "en"


@pytest.mark.parametrize("greeting", ["谢谢", "你好！", "thanks", "Hello"])
def test_greetings_get_a_friendly_word_not_an_answer(answerer: Answerer, greeting: str) -> None:
    answer = answerer.answer(greeting)
    assert answer.offered is None and answer.reason == "small_talk"
    assert "文章中没有提到" not in render_text(answer)


def test_a_bare_topic_shows_where_it_is_written_without_asserting(answerer: Answerer) -> None:
    answer = answerer.answer("临海马拉松")
    assert answer.offered is None and answer.reason == "not_a_question"
    reply = render_text(answer)
    assert "临海马拉松" in reply and "> " in reply  # the passage it is written in, quoted


def test_a_question_without_a_question_mark_is_still_a_question(answerer: Answerer) -> None:
    answer = answerer.answer("临海马拉松有多少名跑者参赛")
    assert answer.reason != "not_a_question"
    assert answer.offered is None or answer.offered.startswith("1.5万名")


# ------------------------------------------------------------ what the review of these rules found


def test_a_topic_is_echoed_clean_and_short(answerer: Answerer) -> None:
    answer = answerer.answer("\x1b]0;pwned\x07临海马拉松" + "赛" * 5000)
    reply = render_text(answer)
    assert "\x1b" not in reply and "\x07" not in reply
    assert len(reply) < 1000


def test_greetings_around_a_question_do_not_hide_it(answerer: Answerer) -> None:
    greeted = answerer.answer("你好，临海马拉松招募了多少名志愿者?")
    assert greeted.offered == answerer.answer("临海马拉松招募了多少名志愿者?").offered
    assert greeted.reason != "small_talk"
    assert answerer.answer("谢谢你们").reason == "small_talk"


def test_a_role_inside_another_word_is_no_role(tmp_path: Path) -> None:
    index = index_of(
        tmp_path,
        "meeting.txt",
        (
            "临海召开全市大会\n2024-03-01\n\n与会嘉宾在主席台上就座。会上，王建国市长强调要抓好落实。\n"
        ),
    )
    chair = Answerer(index).answer("大会主席是谁?")
    assert chair.offered != "台上"
    assert Answerer(index).answer("临海市长是谁?").offered == "王建国"


def test_decimals_times_of_day_and_joined_durations() -> None:
    assert all(f.value != 3 for f in find_figures("增长百分之三点五"))
    assert [f.unit for f in find_figures("8时30分开跑")] != ["分"]
    first, second = find_figures("2小时11分36秒") + find_figures("2小时09分58秒")
    assert first.value != second.value  # a winning time is not the old record


def test_a_verb_the_article_words_differently_does_not_hide_the_amount(tmp_path: Path) -> None:
    """ "投入了多少钱" is answered where the article writes "经过…升级改造" (no 投入 at all)."""
    index = index_of(
        tmp_path,
        "suqian.txt",
        (
            "宿迁交通设施升级\n2023-05-06\n\n"
            "近年来，宿迁城北客运站经过19.2亿元升级改造，成为江苏标杆。"
            "2021年，宿迁市累计投入5818万元，为驻宿部队升级营区设施。\n"
        ),
    )
    answer = Answerer(index).answer("宿迁在客运站上投入了多少钱?")
    assert answer.offered in ("19.2亿元", None)


def test_a_city_named_only_by_its_paper_and_colloquial_questions(tmp_path: Path) -> None:
    """An article that only ever writes 我市/全市, from 芜湖日报: 芜湖 is what it is about."""
    index = index_of(
        tmp_path,
        "wuhu.txt",
        (
            "上半年我市经济运行稳中向好\n2024-07-20 来源：芜湖日报\n\n"
            "7月19日，市统计局发布上半年经济运行情况。上半年全市实现地区生产总值2486.3亿元，"
            "同比增长6.1%。全市社会消费品零售总额1093.7亿元，增长5.9%。\n"
            "市人民医院推行“智能导诊”，患者平均候诊时间由原来的42分钟缩短至18分钟。"
            "新院区于2024年3月18日正式启用。\n"
        ),
    )
    answerer = Answerer(index)
    assert answerer.answer("芜湖上半年地区生产总值是多少?").offered in ("2486.3亿元", None)
    assert answerer.answer("芜湖上半年社会消费品零售总额").offered in ("1093.7亿元", None)
    assert answerer.answer("候诊时间缩短到了多少分钟?").offered in ("18分钟", None)
    assert answerer.answer("新院区啥时候启用的").offered in ("2024年3月18日", None)
    assert answerer.answer("合肥上半年地区生产总值是多少?").offered is None
    assert answerer.answer("What was Wuhu's GDP in the first half?").offered in ("2486.3亿元", None)


@pytest.mark.parametrize(
    ("passage", "ordinal"),
    [
        ("邵阳市成功蝉联第十一届全国双拥模范城。", "第十一届"),
        ("第65届金球奖颁奖典礼举行。", "第65届"),
    ],
)
def test_an_ordinal_span_keeps_its_di(passage: str, ordinal: str) -> None:
    """A rank is answered as the article writes it, 第 included (65届 alone reads as a count)."""
    from bot.qa.kinds import Kind
    from bot.qa.reading import read_passage

    read = read_passage(passage)
    spans = {read.text[start:end] for start, end, _ in Kind.RANK.value.extractor(read)}
    assert ordinal in spans
    assert ordinal[1:] not in spans
