"""Follow-up questions on the seed articles: `那张掖呢?` after a Hami question is answered from
Zhangye's article, a question of its own starts afresh, and the context expires."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.service import QAService


@pytest.fixture(scope="module")
def service(seed_dir, seed_index) -> QAService:
    return QAService(seed_dir, seed_index)


def test_place_follow_up_is_answered_from_the_other_article(service):
    first = service.ask_in("a", "哈密为部队划拨了多少土地?")
    assert first.offered and "5.4万亩" in first.offered and first.understood is None
    follow_up = service.ask_in("a", "那张掖呢?")
    assert follow_up.understood == "张掖为部队划拨了多少土地?"
    assert follow_up.offered and "2000多亩" in follow_up.offered
    assert "张掖" in follow_up.citation.title


def test_english_follow_up(service):
    service.ask_in("en", "How much land did Hami allocate to the troops?")
    follow_up = service.ask_in("en", "And Zhangye?")
    assert follow_up.understood == "How much land did Zhangye allocate to the troops?"
    assert follow_up.offered and "2000多亩" in follow_up.offered


def test_follow_up_without_the_word_na(service):
    service.ask_in("b", "张掖有多少名双拥志愿者")
    follow_up = service.ask_in("b", "哈密呢？")
    assert follow_up.understood == "哈密有多少名双拥志愿者"
    assert follow_up.offered and "320" in follow_up.offered


def test_conversations_are_kept_apart(service):
    service.ask_in(("chat", 1), "哈密为部队划拨了多少土地?")
    service.ask_in(("chat", 2), "哈密有多少个服务站?")
    assert service.ask_in(("chat", 1), "那张掖呢?").understood == "张掖为部队划拨了多少土地?"
    assert service.ask_in(("chat", 2), "那张掖呢?").understood == "张掖有多少个服务站?"


def test_a_question_of_its_own_starts_afresh(service):
    service.ask_in("c", "哈密为部队划拨了多少土地?")
    standalone = service.ask_in("c", "哈密有多少个服务站?")
    assert standalone.understood is None and "285" in standalone.answer
    # and becomes the context of the next follow-up
    assert service.ask_in("c", "张掖呢").understood == "张掖有多少个服务站?"


def test_year_and_topic_follow_ups(service):
    fu = service.follow_ups
    assert fu.complete("2022年哈密划拨了多少土地?", "那2023年呢?") == "2023年哈密划拨了多少土地?"
    assert fu.complete("哈密划拨了多少土地?", "2023年呢") == "2023年哈密划拨了多少土地?"
    assert fu.complete("哈密有多少个服务站?", "它的面积呢?") == "哈密的面积是多少？"
    assert fu.complete("How many stations does Hami have?", "What about 2023?") == (
        "How many stations does Hami have in 2023?"
    )


def test_what_is_not_a_follow_up_is_left_alone(service):
    fu = service.follow_ups
    assert fu.complete("哈密有多少个服务站?", "那张掖有多少名志愿者呢?") is None
    assert fu.complete("哈密有多少个服务站?", "张掖投入了多少资金?") is None
    assert fu.complete("哈密有多少个服务站?", "你好呢") is None


def test_small_talk_does_not_replace_the_context(service):
    service.ask_in("d", "哈密为部队划拨了多少土地?")
    thanks = service.ask_in("d", "谢谢")
    assert thanks.answer is None and thanks.reason == "small_talk"
    assert service.ask_in("d", "那张掖呢?").understood == "张掖为部队划拨了多少土地?"


def test_the_context_expires(service):
    fu = service.follow_ups
    fu.remember("e", "哈密为部队划拨了多少土地?", now=1000.0)
    assert fu.understand("e", "那张掖呢?", now=1000.0 + 60).follow_up
    late = fu.understand("e", "那张掖呢?", now=1000.0 + fu.memory_seconds + 1)
    assert not late.follow_up and late.text == "那张掖呢?"


def test_without_context_a_fragment_is_asked_as_it_is(service):
    answer = service.ask_in("fresh", "那张掖呢?")
    assert answer.understood is None and answer.offered is None


def test_qabot_chat_answers_a_follow_up(seed_index, tmp_path):
    """As a user types it: the Zhangye figure, and the question as understood."""
    qabot = Path(sys.executable).with_name("qabot")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QABOT_")}
    chat = subprocess.run(
        [str(qabot), "chat", "--index", str(seed_index)],
        input="哈密为部队划拨了多少土地?\n那张掖呢?\n",
        capture_output=True, text=True, encoding="utf-8", env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert chat.returncode == 0, chat.stderr
    first, second = chat.stdout.strip().split("\n\n")[:2]
    assert "5.4万亩" in first and "2000多亩" not in first
    assert "张掖为部队划拨了多少土地?" in second and "2000多亩" in second


def test_qabot_ask_stays_stateless(seed_index, tmp_path):
    qabot = Path(sys.executable).with_name("qabot")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QABOT_")}
    asked = subprocess.run(
        [str(qabot), "ask", "--index", str(seed_index), "-"],
        input="哈密为部队划拨了多少土地?\n那张掖呢?\n",
        capture_output=True, text=True, encoding="utf-8", env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert asked.returncode == 0, asked.stderr
    assert "5.4万亩" in asked.stdout and "2000多亩" not in asked.stdout
