"""The four kinds of reply (issue 23), as people read them in the terminal, in Telegram's HTML
and in `qabot ask --json`: a sure answer, a likely one shown in its passage, the closest
passage, or an abstention with its reason; in Chinese and in English.

The formats are checked on replies built by hand (every tier in both languages), and the tiers
on the real seed articles with the committed weights.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fake_bot_api import check_html

from bot.qa.answerer import Answerer
from bot.qa.result import Alternative, Answer, Citation, Guess
from bot.render import answer_json, render_html, render_text
from index.store import load_index

REPO = Path(__file__).resolve().parents[1]
PASSAGE = "全市建成4个退役军人服务中心、285个服务站,构建起横向到边、纵向到底的服务网络。"
SPAN = (PASSAGE.index("285个服务站"), PASSAGE.index("285个服务站") + len("285个服务站"))
TITLE = "双拥花开哈密城"


def citation(span: tuple[int, int] | None = SPAN) -> Citation:
    return Citation(PASSAGE, TITLE, "新疆维吾尔自治区双拥办", "2024-08-01", "hami.txt", None, span)


def reply(tier: str, lang: str = "zh") -> Answer:
    """A hand-built reply of `tier` to 哈密有多少个服务站? (or its English)."""
    question = "哈密有多少个服务站?" if lang == "zh" else "How many service stations in Hami?"
    best = Guess("285个服务站", 0.6, citation())
    rival = Alternative("4个", "全市建成4个退役军人服务中心", citation((4, 6)))
    if tier == "sure":
        return Answer(
            question, "285个服务站", 0.9, "count", citation(), lang, [rival], tier="sure", best=best
        )
    if tier == "likely":
        return Answer(
            question, None, 0.6, "count", citation(), lang, [rival], tier="likely", best=best
        )
    if tier == "evidence":
        return Answer(
            question, None, 0.3, "count", citation(None), lang, tier="evidence", best=best
        )
    return Answer(question, None, 0.1, "count", None, lang, reason="no_match", best=best)


# ---------------------------------------------------------------------- the terminal


def test_a_sure_answer_in_the_terminal() -> None:
    text = render_text(reply("sure"))
    assert text.splitlines()[0] == "答案: 285个服务站"
    assert f"> {PASSAGE}" in text and f"《{TITLE}》" in text and "其他相关数字: 4个" in text


def test_a_likely_answer_in_the_terminal_marks_it_in_its_passage() -> None:
    text = render_text(reply("likely"))
    assert text.splitlines()[0] == "可能是: 285个服务站（请核对原文）"
    assert "> 全市建成4个退役军人服务中心、**285个服务站**,构建起" in text
    assert f"《{TITLE}》" in text and "其他相关数字: 4个" in text
    english = render_text(reply("likely", "en"))
    assert english.splitlines()[0] == "Probably: 285个服务站 (check the passage)"
    assert "Source: 《" in english and "Other figures: 4个" in english


def test_the_closest_passage_in_the_terminal() -> None:
    text = render_text(reply("evidence"))
    assert text.splitlines()[0] == "没有找到确切答案，最相关的原文："
    assert f"> {PASSAGE}" in text and "**" not in text and f"《{TITLE}》" in text
    assert "其他相关数字" not in text and "285个服务站（" not in text  # no answer is asserted
    english = render_text(reply("evidence", "en"))
    assert english.splitlines()[0] == "No exact answer found; the closest passage:"


def test_an_abstention_in_the_terminal_quotes_nothing() -> None:
    text = render_text(reply("none"))
    assert text.startswith("抱歉，文章中没有找到这个问题的答案。") and ">" not in text
    assert render_text(reply("none", "en")).startswith("Sorry, the articles do not answer that.")


# ---------------------------------------------------------------------- Telegram HTML


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("tier", ["sure", "likely", "evidence", "none"])
def test_every_tier_is_valid_telegram_html(tier: str, lang: str) -> None:
    html_text = render_html(reply(tier, lang))
    assert check_html(html_text) is None, html_text
    quoted = "<blockquote>" in html_text
    assert quoted == (tier != "none")


def test_a_likely_answer_in_telegram_is_bolded_in_its_passage() -> None:
    html_text = render_html(reply("likely"))
    assert html_text.startswith("可能是: <b>285个服务站</b>（请核对原文）")
    assert "<blockquote>全市建成4个退役军人服务中心、<b>285个服务站</b>,构建起" in html_text
    english = render_html(reply("likely", "en"))
    assert english.startswith("Probably: <b>285个服务站</b> (check the passage)")


def test_the_closest_passage_in_telegram_bolds_nothing() -> None:
    html_text = render_html(reply("evidence"))
    assert html_text.startswith("没有找到确切答案，最相关的原文：\n<blockquote>")
    assert "<b>" not in html_text.split("<blockquote>")[1]


# ---------------------------------------------------------------------- JSON


def test_json_states_an_answer_only_when_sure() -> None:
    sure, likely = answer_json(reply("sure")), answer_json(reply("likely"))
    evidence, none = answer_json(reply("evidence")), answer_json(reply("none"))
    assert (sure["tier"], sure["answer"], sure["guess"]) == ("sure", "285个服务站", None)
    assert (likely["tier"], likely["answer"]) == ("likely", None)
    assert likely["guess"]["answer"] == "285个服务站" and likely["guess"]["confidence"] == 0.6
    assert likely["guess"]["citation"]["title"] == TITLE
    assert (evidence["tier"], evidence["answer"], evidence["guess"]) == ("evidence", None, None)
    assert evidence["citation"]["text"] == PASSAGE
    assert (none["tier"], none["answer"], none["guess"], none["citation"]) == (
        "none",
        None,
        None,
        None,
    )


# ---------------------------------------------------------------------- the real seeds


@pytest.fixture(scope="module")
def answerer(seed_index: Path) -> Answerer:
    return Answerer(load_index(seed_index))


def test_tiers_follow_the_two_thresholds(answerer: Answerer) -> None:
    """Every reply's tier is the one its confidence calls for (a question naming a place no
    article writes aside), and the thresholds are ordered."""
    scorer = answerer.scorer
    assert 0 < scorer.likely_threshold <= scorer.threshold < 1
    questions = [
        "哈密有多少个服务站?",
        "张掖投入了多少资金?",
        "哈密一共建了多少服务站",
        "哈密服务站数量",
        "How many service stations does Hami have?",
        "张掖为部队划拨了多少土地",
        "哈密有多少拥军门店",
    ]
    for question in questions:
        answer = answerer.answer(question)
        if answer.confidence >= scorer.threshold:
            assert answer.tier == "sure" and answer.answer, question
        elif answer.confidence >= scorer.likely_threshold:
            assert answer.tier == "likely" and answer.answer is None and answer.guess, question
        else:
            assert answer.tier in ("evidence", "none") and answer.offered is None, question
        if answer.tier != "none":  # whatever the tier, the quoted passage is the best span's
            assert answer.best and answer.citation.text == answer.best.citation.text


def test_a_place_no_article_names_gets_its_reason_not_a_passage(answerer: Answerer) -> None:
    answer = answerer.answer("上海有多少个服务站?")
    assert answer.tier == "none" and answer.citation is None
    assert answer.reason == "unknown_name:上海"
    assert render_text(answer).startswith("文章中没有提到上海。")


def test_the_closest_passage_holds_what_was_asked(answerer: Answerer) -> None:
    """哈密一共建了多少服务站 (an unsure count): its best span's passage writes 285个服务站,
    quoted whatever the tier."""
    answer = answerer.answer("哈密一共建了多少服务站")
    assert answer.tier in ("sure", "likely", "evidence")
    assert "285个服务站" in answer.citation.text and TITLE in answer.citation.title


def run_ask(index: Path, *questions: str) -> list[dict]:
    script = Path(sys.executable).with_name("qabot")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("QABOT_")}
    result = subprocess.run(
        [*command, "ask", "--json", "--index", str(index), "-"],
        input="\n".join(questions) + "\n",
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=REPO,
        env=environment,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_qabot_ask_json_keeps_its_contract(seed_index: Path) -> None:
    """`answer` is null unless the reply is sure; `tier` and `guess` say the rest."""
    replies = run_ask(
        seed_index, "哈密有多少个服务站?", "张掖投入了多少资金?", "上海有多少个服务站?"
    )
    for item in replies:
        assert item["tier"] in ("sure", "likely", "evidence", "none")
        assert (item["answer"] is not None) == (item["tier"] == "sure")
        assert (item["guess"] is not None) == (item["tier"] == "likely")
        assert (item["citation"] is None) == (item["tier"] == "none")
    assert replies[0]["tier"] == "sure" and replies[0]["answer"] == "285个服务站"
    offered = replies[1]["answer"] or replies[1]["guess"]["answer"]
    assert offered == "1.6亿元"
    assert replies[2]["tier"] == "none"
