"""Entity awareness: a question about one place is answered from that place's article only."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.qa.answerer import Answerer
from index.build import build_index

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def answerer(tmp_path_factory: pytest.TempPathFactory) -> Answerer:
    index, _ = build_index(REPO / "data" / "articles", tmp_path_factory.mktemp("i") / "i.json")
    return Answerer(index)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("甘肃省张掖市有多少个退役军人服务中心?", "963"),  # the province only narrows it
        ("新疆哈密市有多少个服务站?", "285"),
        ("甘肃省张掖市投入了多少资金?", "1.6亿元"),  # the province is no key word either
        ("甘肃张掖投入了多少资金?", "1.6亿元"),
    ],
)
def test_a_region_around_the_place_is_accepted(answerer, question, expected):
    """The province is no unknown place: answered with the place's figure, or not at all."""
    answer = answerer.answer(question)
    assert not (answer.reason or "").startswith("unknown_name"), answer.reason
    assert answer.offered is None or expected in answer.offered


@pytest.mark.parametrize(
    "question",
    [
        "甘肃哈密有多少个服务站?",  # Hami is not in Gansu
        "兰州有多少个服务站?",  # not in the corpus
        "Tom有多少个服务站?",  # a Latin name, first word or not, that no article writes
        "张掖有多少名双拥志愿者?",  # only Hami's article counts volunteers
        "北京有多少个服务站?",  # mentioned once in Hami's article, which is not about Beijing
    ],
)
def test_wrong_or_absent_place_abstains(answerer, question):
    answer = answerer.answer(question)
    assert answer.offered is None, f"{question} -> {answer.offered}"


def test_absent_place_is_named_in_the_reason(answerer):
    answer = answerer.answer("上海有多少个退役军人服务站?")
    assert answer.offered is None and "上海" in (answer.reason or "")


def test_an_absent_name_cut_apart_is_not_answered(answerer):
    answer = answerer.answer("基普鲁托用时多少?")
    assert answer.offered is None
    assert answer.reason in ("unknown_name:基普鲁托", "no_match"), answer.reason


def test_a_place_asked_with_a_suffix_the_article_does_not_write(tmp_path):
    """The article writes 延安 only; 延安市 and 延安县 in a question mean the same place."""
    data = tmp_path / "articles"
    data.mkdir()
    (data / "yanan.txt").write_text(
        "延安建成退役军人服务站1200个\n2024-05-01 来源：延安日报\n\n"
        "记者从延安退役军人事务局获悉，截至目前，延安已建成退役军人服务站1200个，"
        "招募志愿者3000名。延安投入资金8000万元用于服务站建设。\n",
        encoding="utf-8",
    )
    index, _ = build_index(data, tmp_path / "index.sqlite")
    answerer = Answerer(index)
    assert answerer.answer("延安市有多少个退役军人服务站?").offered == "1200个"
    assert answerer.answer("延安市投入了多少资金?").offered == "8000万元"
    assert answerer.answer("榆林市有多少个退役军人服务站?").offered is None


NEWS_ARTICLES = REPO / "data" / "eval" / "news" / "articles"


def _answerer_over(names: list[str], tmp: Path) -> Answerer:
    data = tmp / "articles"
    data.mkdir()
    for name in names:
        (data / name).write_bytes((NEWS_ARTICLES / name).read_bytes())
    index, _ = build_index(data, tmp / "index.sqlite")
    return Answerer(index)


def test_an_article_that_writes_only_本港_is_still_read(tmp_path: Path):
    """Hong Kong's jobless figures are in an article that says 本港, never 香港; another
    article names 香港. The question about 香港 still reaches the figures."""
    answerer = _answerer_over(
        ["h6-hongkong-unemployment.html", "h4-hongkong-xrl-cost.txt"], tmp_path
    )
    question = "香港最新失业率是多少"
    _, scored = answerer.scored(answerer.reader.read(question))
    assert "6.6%" in {s.candidate.text for s in scored}
    assert answerer.answer(question).offered in (None, "6.6%")


def test_a_transliterated_name_is_one_answer(tmp_path: Path):
    """朱利安-肖贝尔 (a GBK page) is offered whole, not as 朱利安 or 肖贝尔."""
    answerer = _answerer_over(["h3-goldenglobes-2008.txt"], tmp_path)
    _, scored = answerer.scored(answerer.reader.read("金球奖最佳导演是谁"))
    people = {s.candidate.text for s in scored if s.candidate.kind.label == "person"}
    assert "朱利安-肖贝尔" in people, sorted(people)[:10]
