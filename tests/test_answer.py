"""Short, cited answers that abstain when the articles do not say (issue 3).

The index holds the two seed articles and four articles the answerer was never tuned on
(tests/fixtures/articles_more): Dali as a web page with navigation, share buttons and
comments, Ordos as a GBK-encoded scrape, Mianyang as Markdown and Shantou in traditional
script encoded as Big5. They share much of their wording (服务站, 拥军门店, 军供站, 双拥办主任,
双拥品牌, 植树造林, 几连冠 ...) with each other and with the seeds, so a question is only
answered right when the answer comes from the article about the place it names.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.qa.answerer import Answerer
from bot.qa.result import Answer
from bot.render import render_text
from index.analyzer import normalize
from index.build import build_index

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "data" / "articles"
MORE = Path(__file__).resolve().parent / "fixtures" / "articles_more"
DEV = REPO / "data" / "eval" / "seeds" / "questions.jsonl"
MAX_ANSWER_CHARS = 40
# Floors: the share of each list the committed weights answer right, less a margin (set from
# the measured figures in issue 11's closing note); a change that loses answers fails here.
KIND_FLOOR = 0.5
ORDINAL_FLOOR = 0.3
NUMERAL_FLOOR = 0.4
TRADITIONAL_FLOOR = 0.5
FALSE_ANSWERS_ALLOWED = 2

# article key -> (part of its file name, part of its title as the article writes it)
ARTICLES = {
    "hami": ("hami", "哈密"),
    "zhangye": ("zhangye", "张掖"),
    "dali": ("dali", "大理"),
    "ordos": ("ordos", "鄂尔多斯"),
    "mianyang": ("mianyang", "绵阳"),
    "shantou": ("shantou", "汕頭"),
}


@pytest.fixture(scope="module")
def index_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("articles")
    for folder in (SEEDS, MORE):
        for article in folder.iterdir():
            shutil.copy(article, data / article.name)
    path = tmp_path_factory.mktemp("index") / "index.sqlite"
    _, report = build_index(data, path)
    assert report.articles == 6, report.summary()
    assert not report.skipped
    return path


@pytest.fixture(scope="module")
def answerer(index_path: Path) -> Answerer:
    from index.store import load_index

    return Answerer(load_index(index_path))


def same(text: str) -> str:
    """Compare across width, script and spacing: 850畝 ~ 850亩."""
    return "".join(normalize(text).split())


def assert_cited_answer(answer: Answer, expected: str, article: str) -> None:
    """The user-visible contract of an answer (sure, or likely and offered to be checked):
    short, right, verbatim from the right article."""
    question, offered = answer.question, answer.offered
    assert offered is not None, f"{question}: no answer ({answer.tier}, {answer.reason})"
    assert answer.citation is not None, f"{question}: answer without citation"
    assert same(expected) in same(offered), f"{question}: answered {offered!r}"
    assert offered in answer.citation.text, f"{question}: answer not quoted verbatim"
    assert same(expected) in same(answer.citation.text)
    assert len(offered) <= MAX_ANSWER_CHARS, f"{question}: {offered!r} is too long"
    file_part, title_part = ARTICLES[article]
    assert file_part in answer.citation.path, (
        f"{question}: cited {answer.citation.path} ({answer.citation.title}), not {article}"
    )
    assert title_part in answer.citation.title


# ------------------------------------------------------------------ every kind, every article

# (question, kind, the answer, the article it must come from). The answer is the shortest
# span that answers: a count is figure + measure word + the counted noun when the article
# writes it right after (quoted or not), money is amount + unit, and so on.
KIND_CASES = [
    # count
    ("哈密有多少个服务站?", "count", "285个服务站", "hami"),
    ("大理有多少个服务站?", "count", "1136个服务站", "dali"),
    ("鄂尔多斯有多少个服务站?", "count", "806个服务站", "ordos"),
    ("汕头有多少个服务站?", "count", "1024个服务站", "shantou"),
    ("张掖有多少个退役军人服务中心(站)?", "count", "963个退役军人服务中心", "zhangye"),
    ("绵阳有多少个退役军人服务中心(站)?", "count", "3980个", "mianyang"),
    ("哈密有多少家拥军门店?", "count", "74家“拥军门店”", "hami"),
    ("鄂尔多斯有多少家拥军门店?", "count", "316家“拥军门店”", "ordos"),
    ("大理州有多少名双拥志愿者?", "count", "2600名双拥志愿者", "dali"),
    ("哈密有多少名双拥志愿者?", "count", "320名双拥志愿者", "hami"),
    pytest.param(
        "鄂尔多斯部队与多少个嘎查村结成帮扶对子?",
        "count",
        "64个嘎查村",
        "ordos",
    ),
    pytest.param(
        "驻哈部队与多少户特困家庭结成帮扶对子?",
        "count",
        "176户特困家庭",
        "hami",
    ),
    ("绵阳帮助多少名退役军人实现就业?", "count", "2870名退役军人", "mianyang"),
    ("汕头有多少支双拥志愿服务队?", "count", "45支", "shantou"),
    ("大理州为多少户军属家庭悬挂了光荣牌?", "count", "3150户军属家庭", "dali"),
    ("绵阳为多少户军属家庭更新了光荣牌?", "count", "1.1万户军属家庭", "mianyang"),
    ("大理州拥军优待事项扩展到多少项?", "count", "52项", "dali"),
    ("哈密有多少条公交线路免费乘坐?", "count", "26条公交线路", "hami"),
    ("张掖为多少名立功受奖军人家庭送喜报?", "count", "574名立功受奖军人家庭", "zhangye"),
    ("哈密为多少名立功官兵送喜报?", "count", "157名立功官兵", "hami"),
    # money: amount + unit
    ("大理州累计投入了多少资金支持部队练兵备战?", "money", "2.3亿元", "dali"),
    ("鄂尔多斯新建退役军人服务中心和军供站投入了多少钱?", "money", "8500万元", "ordos"),
    ("鄂尔多斯2023年发放了多少优抚资金?", "money", "6200万元", "ordos"),
    ("绵阳2023年安排了多少优抚资金?", "money", "4650万元", "mianyang"),
    ("汕头投入多少钱改造军供站?", "money", "9600万元", "shantou"),
    ("汕头海外侨胞捐赠的物资价值多少?", "money", "1500万元", "shantou"),
    ("张掖投入多少钱改善军供站基础设施?", "money", "781万元", "zhangye"),
    ("哈密加油站每升优惠多少钱?", "money", "0.4元", "hami"),
    # area: 亩, 万亩, 平方米
    ("大理州为训练基地划拨了多少亩土地?", "area", "1200亩", "dali"),
    ("驻大理部队在洱海流域植树造林多少亩?", "area", "3500亩", "dali"),
    ("鄂尔多斯驻军植树造林多少亩?", "area", "5.2万亩", "ordos"),
    ("鄂尔多斯为驻地部队划拨了多少亩草场?", "area", "3.6万亩", "ordos"),
    ("绵阳市退役军人服务中心建筑面积有多大?", "area", "6800平方米", "mianyang"),
    ("绵阳为驻地部队解决营区用地多少亩?", "area", "180亩", "mianyang"),
    ("汕头为驻地部队划拨了多少亩土地?", "area", "850亩", "shantou"),
    ("张掖为驻地部队划拨了多少亩土地?", "area", "2000多亩", "zhangye"),
    # duration: 天, 年 (also written with a Chinese numeral)
    ("大理州军供站改造工程用了多少天?", "duration", "45天", "dali"),
    ("驻大理部队参与洱海保护治理多少年了?", "duration", "8年", "dali"),
    ("鄂尔多斯退役军人创业园建了多长时间?", "duration", "两年", "ordos"),
    ("兵创空间的入驻期限最长几年?", "duration", "3年", "mianyang"),
    ("汕头海防哨所修缮工程用了多长时间?", "duration", "90天", "shantou"),
    ("哈密划拨土地后仅用多少天就完成了场地平整?", "duration", "180天", "hami"),
    ("鄂尔多斯连续多少年开展情暖军营慰问活动?", "duration", "12年", "ordos"),
    # date: year and month
    ("大理州什么时候出台拥军优属实施意见?", "date", "2022年7月", "dali"),
    ("鄂尔多斯市政府什么时候与驻地部队签订军地共建协议?", "date", "2023年8月", "ordos"),
    ("绵阳什么时候打造兵创空间?", "date", "2021年9月", "mianyang"),
    ("某新型作战部队哪一年移防哈密?", "date", "2022年", "hami"),
    # ordinal: 第几次, 几连冠
    ("鄂尔多斯全国双拥模范城几连冠?", "ordinal", "四连冠", "ordos"),
    ("绵阳在全国双拥模范城评选中几连冠?", "ordinal", "三连冠", "mianyang"),
    ("哈密全国双拥模范城几连冠?", "ordinal", "六连冠", "hami"),
    ("张掖连续几次被评为全国重点军供站?", "ordinal", "三次", "zhangye"),
    ("大理州获得过几次全国双拥模范城?", "ordinal", "三次", "dali"),
    # person: named beside 主任 / 局长 / 记者, or quoted as a speaker
    ("大理州双拥办主任是谁?", "person", "杨丽华", "dali"),
    ("绵阳市双拥办主任是谁?", "person", "赵建华", "mianyang"),
    ("鄂尔多斯市退役军人事务局局长是谁?", "person", "刘志刚", "ordos"),
    ("报道鄂尔多斯四连冠的记者是谁?", "person", "王海燕", "ordos"),
    ("在洱海边参加净滩活动的退役军人是谁?", "person", "张建军", "dali"),
    # name: a brand or title in quotes or book-title marks
    ("大理打造的双拥品牌叫什么?", "name", "苍洱同心·军民一家", "dali"),
    ("绵阳打造的双拥品牌叫什么?", "name", "科技城·拥军情", "mianyang"),
    ("张掖打造的双拥品牌叫什么?", "name", "彩虹城市双拥张掖", "zhangye"),
    ("汕头启动的拥军行动叫什么?", "name", "侨心拥军", "shantou"),
    ("哈密军供站被官兵称为什么?", "name", "流动的温暖驿站", "hami"),
]


MORE_CASES = [
    ("哈密投入了多少资金?", "money", "5.6亿元", "hami"),
    ("巴里坤县海子沿乡的牧民是谁?", "person", "吾拉木别克", "hami"),  # jieba cuts it 吾|拉|木|别克
    ("大理州2022年7月出台了什么文件?", "name", "关于进一步做好拥军优属工作的实施意见", "dali"),
    ("连续六次荣膺全国双拥模范城的是哪个城市?", "place", "哈密", "hami"),
]


def is_cited_answer(answer: Answer, expected: str, article: str) -> bool:
    try:
        assert_cited_answer(answer, expected, article)
    except AssertionError:
        return False
    return True


def check_floor(answerer: Answerer, cases: list, floor: float) -> None:
    """At least `floor` of the cases answered right from the right article; the misses listed."""
    missed = []
    for case in cases:
        question, *_, expected, article = getattr(case, "values", case)
        answer = answerer.answer(question)
        if not is_cited_answer(answer, expected, article):
            missed.append((question, answer.answer, expected))
    right = 1 - len(missed) / len(cases)
    assert right >= floor, f"{right:.0%} right (floor {floor:.0%}); missed: {missed}"


def test_every_kind_on_six_articles_keeps_its_floor(answerer):
    """Articles the model never saw, which share their wording: right place, right figure.
    The floor is what the committed weights reach, less a margin (issue 11's note)."""
    check_floor(answerer, KIND_CASES + MORE_CASES, KIND_FLOOR)


# ------------------------------------------------------------------ ordinals: the shortest span


ORDINAL_CASES = [
    ("鄂尔多斯全国双拥模范城几连冠?", {"四连冠"}, "ordos"),
    ("张掖连续几次被评为全国重点军供站?", {"三次", "连续三次"}, "zhangye"),
    ("汕頭市第幾次蟬聯廣東省雙擁模範城?", {"五次", "第五次"}, "shantou"),
    ("哈密连续几次获得全国双拥模范城?", {"六次", "连续六次"}, "hami"),
    ("大理州第几次荣获全国双拥模范城称号?", {"三次", "第三次"}, "dali"),
    ("哈密第几次荣膺全国双拥模范城?", {"六次", "第六次"}, "hami"),
]


def test_ordinal_answer_is_just_the_ordinal(answerer):
    """An ordinal is answered with the ordinal alone (六次, 四连冠), or not at all."""
    right = 0
    for question, accepted, article in ORDINAL_CASES:
        answer = answerer.answer(question)
        if answer.answer is not None:
            assert any(same(a) in same(answer.answer) for a in accepted), (question, answer.answer)
            assert len(answer.answer) <= 6, (question, answer.answer)
            right += is_cited_answer(answer, min(accepted, key=len), article)
    assert right >= ORDINAL_FLOOR * len(ORDINAL_CASES)


# ------------------------------------------------------------------ Chinese numerals and Arabic


NUMERAL_CASES = [
    # the question writes Arabic digits, the article a Chinese numeral
    ("汕头第5次蝉联的称号是什么?", "广东省双拥模范城", "shantou"),
    ("历时2年建成的退役军人创业园吸纳了多少名退役军人就业?", "420名", "ordos"),
    ("鄂尔多斯创业园历时2年建成，入驻了多少家企业?", "63家", "ordos"),
    ("哈密近5年送去的慰问物资价值多少?", "1187万元", "hami"),
    ("哈密连续6次荣膺什么称号?", "全国双拥模范城", "hami"),
    # the question writes a Chinese numeral, the article Arabic digits
    ("鄂尔多斯近五年累计发放了多少优抚资金?", "2.6亿元", "ordos"),
    ("鄂尔多斯创业园历时两年建成，入驻了多少家企业?", "63家", "ordos"),
    ("鄂尔多斯连续十二年开展的慰问活动叫什么?", "情暖军营", "ordos"),
    ("哈密连续六次荣膺什么称号?", "全国双拥模范城", "hami"),
    ("鄂尔多斯连续12年开展的慰问活动叫什么?", "情暖军营", "ordos"),
]


def test_chinese_numerals_meet_arabic_digits(answerer):
    check_floor(answerer, NUMERAL_CASES, NUMERAL_FLOOR)


# ------------------------------------------------------------------ traditional script


TRADITIONAL_CASES = [
    # traditional question, traditional (Big5) article
    ("汕頭有多少個服務站?", "1024個服務站", "shantou"),
    ("汕頭投入多少錢改造軍供站?", "9600萬元", "shantou"),
    ("汕頭為駐地部隊劃撥了多少畝土地?", "850畝", "shantou"),
    ("汕頭海防哨所修繕工程用了多少天?", "90天", "shantou"),
    ("汕頭什麼時候啟動僑心擁軍行動?", "2022年6月", "shantou"),
    ("汕頭市雙擁辦主任是誰?", "林偉明", "shantou"),
    # traditional question, simplified articles
    ("大理州有多少名雙擁志願者?", "2600名", "dali"),
    ("綿陽市雙擁辦主任是誰?", "赵建华", "mianyang"),
    ("綿陽在全國雙擁模範城評選中幾連冠?", "三连冠", "mianyang"),
    ("大理州軍供站改造工程用了多少天?", "45天", "dali"),
]


def test_traditional_script_questions(answerer):
    """Traditional questions over Big5 and simplified articles; quoted as the article wrote it."""
    check_floor(answerer, TRADITIONAL_CASES, TRADITIONAL_FLOOR)


def test_traditional_article_is_quoted_in_its_own_script(answerer):
    answer = answerer.answer("汕头有多少个服务站?")
    assert answer.lang == "zh"
    assert answer.offered == "1024個服務站"
    assert "汕頭" in answer.citation.title and "1024個服務站" in answer.citation.text


# ------------------------------------------------------------------ abstention

ENTITY_MISMATCH = [
    # the thing asked about is in an article, but about another place
    "张掖有多少家拥军门店?",
    "大理州有多少家拥军门店?",
    "汕头有多少家拥军门店?",
    "汕頭有多少家擁軍門店?",
    "绵阳有多少名双拥志愿者?",
    "鄂尔多斯有多少名双拥志愿者?",
    "鄂尔多斯军供站改造用了多少天?",
    "张掖海防哨所修缮工程用了多少天?",
    "汕头植树造林多少亩?",
    "绵阳投入多少钱改造军供站?",
    "哈密双拥办主任是谁?",
    "张掖双拥办主任是谁?",
    "绵阳市退役军人事务局局长是谁?",
    "鄂尔多斯什么时候打造兵创空间?",
    "汕头有多少个嘎查村?",
    "哈密打造的双拥品牌叫什么?",
    "大理有多少家拥军门店?",
]
ABSENT_SUBJECT = [
    "上海有多少个退役军人服务站?",
    "成都投入了多少资金支持部队建设?",
    "西安双拥办主任是谁?",
    "杭州全国双拥模范城几连冠?",
    "昆明有多少名双拥志愿者?",
    "广州什么时候启动侨心拥军行动?",
]
OFF_TOPIC = [
    "今天天气怎么样?",
    "明天会下雨吗?",
    "红烧肉怎么做?",
    "苹果手机多少钱?",
    "大理有什么好玩的景点?",
    "绵阳的人口有多少?",
    "汕头有多少家牛肉火锅店?",
    "鄂尔多斯的GDP是多少?",
]


def test_abstains_when_only_another_place_has_it(answerer):
    """The fact is in an article, but about another place: at most FALSE_ANSWERS_ALLOWED
    answers (sure or likely); a closest passage quoted instead is one of the place asked about."""
    answered = []
    for question in map(question_of, ENTITY_MISMATCH):
        answer = answerer.answer(question)
        if answer.offered is not None:
            answered.append((question, answer.offered, answer.citation.title))
        elif answer.tier == "evidence":
            place = question[:2]
            assert place in answer.citation.title or place in answer.citation.text, (
                question,
                answer.citation,
            )
        else:
            assert answer.citation is None
    assert len(answered) <= FALSE_ANSWERS_ALLOWED, answered


@pytest.mark.parametrize("question", ABSENT_SUBJECT)
def test_abstains_when_the_place_is_in_no_article(answerer, question):
    answer = answerer.answer(question)
    assert answer.answer is None and answer.citation is None
    place = question[:2]
    assert place in render_text(answer)  # the reply says which place the articles do not cover


def test_abstains_off_topic(answerer):
    answered = []
    for question in OFF_TOPIC:
        answer = answerer.answer(question)
        if answer.offered is None:  # not even a closest passage: nothing is on topic
            assert answer.tier == "none" and "抱歉" in render_text(answer), answer
        else:
            answered.append((question, answer.offered))
    assert len(answered) <= FALSE_ANSWERS_ALLOWED, answered


def test_name_not_in_quotes_is_not_guessed(answerer):
    """Asked which activity runs for 8 years, the bot names it or says nothing, never another."""
    answer = answerer.answer("哈密连续8年举办的活动叫什么?")
    if answer.answer is not None:
        assert "鹊桥会" in answer.answer, f"answered {answer.answer!r}"


# ------------------------------------------------------------------ alternatives


@pytest.mark.parametrize(
    ("question", "best", "alternative", "article"),
    [
        ("张掖投入了多少资金?", "1.6亿元", "781万元", "zhangye"),
        ("鄂尔多斯投入了多少资金?", "3.8亿元", "8500万元", "ordos"),
        ("鄂爾多斯投入了多少資金?", "3.8亿元", "8500万元", "ordos"),
    ],
)
def test_several_fitting_figures_give_the_best_and_alternatives(
    answerer, question, best, alternative, article
):
    answer = answerer.answer(question)
    if answer.answer is None:
        return  # abstaining is allowed; a wrong figure is not
    assert_cited_answer(answer, best, article)
    others = [a.answer for a in answer.alternatives]
    assert alternative in others, f"{question}: alternatives {others}"
    assert answer.answer not in others
    for other in answer.alternatives:
        assert other.answer in other.citation.text  # verbatim, like the answer
        assert same(other.answer) in same(other.context)
        assert len(other.answer) <= MAX_ANSWER_CHARS


@pytest.mark.parametrize(
    ("question", "article"),
    [
        ("张掖投入了多少资金?", "zhangye"),
        ("鄂尔多斯投入了多少资金?", "ordos"),
        ("鄂尔多斯2023年发放了多少优抚资金?", "ordos"),
        ("大理为训练基地划拨了多少土地?", "dali"),
        ("大理为多少名立功官兵家庭送去喜报?", "dali"),
    ],
)
def test_alternatives_stay_with_the_place_asked_about(answerer, question, article):
    answer = answerer.answer(question)
    if answer.answer is None:
        return
    assert ARTICLES[article][0] in answer.citation.path
    for other in answer.alternatives:
        assert ARTICLES[article][0] in other.citation.path, (
            f"{question}: alternative {other.answer!r} from {other.citation.title}"
        )


def test_alternatives_of_a_duration_are_durations(answerer):
    answer = answerer.answer("兵创空间的入驻期限最长几年?")
    assert answer.answer in ("3年", None)
    others = [a.answer for a in answer.alternatives]
    assert not any(re.fullmatch(r"(19|20)\d\d年", a) for a in others), others


# ------------------------------------------------------------------ confidence


def question_of(case) -> str:
    """The question of a parameter row (a plain tuple, a string or a pytest.param)."""
    values = getattr(case, "values", case)
    return values if isinstance(values, str) else values[0]


ANSWERABLE = [question_of(case) for case in KIND_CASES]
UNANSWERABLE = [question_of(case) for case in ENTITY_MISMATCH + ABSENT_SUBJECT + OFF_TOPIC]


def test_answers_are_more_confident_than_abstentions(answerer):
    """Whatever the bot decides, an answer it gives is surer than any it withholds."""
    given, withheld = [], []
    for question in ANSWERABLE + UNANSWERABLE:
        answer = answerer.answer(question)
        assert 0.0 <= answer.confidence <= 1.0
        (given if answer.answer is not None else withheld).append((answer.confidence, question))
    assert given and withheld
    assert min(given) > max(withheld), (
        f"least sure answer {min(given)}, surest abstention {max(withheld)}"
    )


def test_confidence_separates_answerable_from_unanswerable(answerer):
    """On average the bot is much surer when the articles say than when they do not."""
    answerable = [answerer.answer(q).confidence for q in ANSWERABLE]
    unanswerable = [answerer.answer(q).confidence for q in UNANSWERABLE]
    assert sum(answerable) / len(answerable) > sum(unanswerable) / len(unanswerable) + 0.2


# ------------------------------------------------------------------ the command line


def run_qabot(index_path: Path, *args: str, stdin: str | None = None) -> str:
    script = Path(sys.executable).with_name("qabot")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("QABOT_")}
    result = subprocess.run(
        [*command, *args[:1], "--index", str(index_path), *args[1:]],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=REPO,
        env=environment,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_ask_json_lines_one_answer_per_question_in_order(index_path):
    questions = [
        "哈密有多少个服务站?",
        "上海有多少个退役军人服务站?",
        "汕頭投入多少錢改造軍供站?",
        "鄂尔多斯投入了多少资金?",
        "今天天气怎么样?",
        "大理州双拥办主任是谁?",
    ]
    output = run_qabot(index_path, "ask", "--json", "-", stdin="\n".join(questions) + "\n")
    lines = output.splitlines()
    assert len(lines) == len(questions)
    replies = [json.loads(line) for line in lines]
    assert [r["question"] for r in replies] == questions
    for reply in replies:
        assert set(reply) == {
            "question",
            "tier",
            "answer",
            "confidence",
            "kind",
            "guess",
            "citation",
            "alternatives",
            "passages",
        }
        assert isinstance(reply["confidence"], int | float) and 0 <= reply["confidence"] <= 1
        assert isinstance(reply["kind"], str) and isinstance(reply["alternatives"], list)
        for passage in reply["passages"]:
            assert set(passage) == {"text", "score", "title"}
        offered = reply["answer"] or (reply["guess"] or {}).get("answer")
        if offered is None:
            assert (reply["citation"] is None) == (reply["tier"] == "none")
            continue
        citation = reply["citation"]
        assert set(citation) == {"text", "title", "source", "date", "path", "url"}
        assert offered in citation["text"]
        for other in reply["alternatives"]:
            assert other["answer"] in other["citation"]["text"]
    hami, shanghai, shantou, ordos, weather, dali = replies
    assert (hami["answer"] or hami["guess"]["answer"]) == "285个服务站" and hami["kind"] == "count"
    assert "哈密" in hami["citation"]["title"]
    assert shanghai["tier"] == "none" and weather["tier"] == "none"
    for reply, expected in ((shantou, "9600萬元"), (ordos, "3.8亿元"), (dali, "杨丽华")):
        offered = reply["answer"] or (reply["guess"] or {}).get("answer")
        assert offered is None or expected in offered, reply
    assert min(r["confidence"] for r in (hami,)) > max(r["confidence"] for r in (shanghai, weather))


def test_ask_text_reply_leads_with_the_answer_and_names_the_article(index_path):
    reply = run_qabot(index_path, "ask", "大理州有多少名双拥志愿者?")
    lines = reply.splitlines()
    assert lines[0] in ("答案: 2600名双拥志愿者", "可能是: 2600名双拥志愿者（请核对原文）")
    assert any(line.startswith("> ") and "2600名双拥志愿者" in line for line in lines)
    assert "《大理州：苍山洱海畔 军民鱼水情》" in reply and "2023-05-18" in reply


def test_ask_text_reply_abstains_in_words(index_path):
    reply = run_qabot(index_path, "ask", "上海有多少个退役军人服务站?")
    assert "上海" in reply and not reply.startswith("答案")


# ------------------------------------------------------------------ property: quoted verbatim


def all_questions() -> list[str]:
    dev = [json.loads(line)["question"] for line in DEV.read_text("utf-8").splitlines() if line]
    extra = [
        "哈密投入了多少资金?",
        "巴里坤县海子沿乡的牧民是谁?",
        "大理有多少家拥军门店?",
        "哈密连续8年举办的活动叫什么?",
        "大理全国双拥模范城几连冠?",
        "哈密第几次荣膺全国双拥模范城?",
        "大理州出台了什么实施意见?",
        "汕頭市雙擁工作的特色是什麼?",
        "哈密创下了什么速度?",
        "绵阳3连冠的称号叫什么?",
        "驻张部队完成造林绿化多少亩?",
        "How many service stations does Dali have?",
        "汕头 有 多少 个 服务站",
        "１０２４个服务站在哪里?",
    ]
    return dev + ANSWERABLE + UNANSWERABLE + extra


def test_every_answer_is_a_verbatim_piece_of_its_citation(answerer):
    for question in all_questions():
        answer = answerer.answer(question)
        offered = answer.offered
        if offered is None:
            assert (answer.citation is None) == (answer.tier == "none"), question
            continue
        assert answer.citation is not None, question
        assert offered in answer.citation.text, (question, offered)
        assert offered.strip() == offered and offered, (question, offered)
        assert len(offered) <= MAX_ANSWER_CHARS, (question, offered)
        for other in answer.alternatives:
            assert other.answer in other.citation.text, (question, other.answer)
