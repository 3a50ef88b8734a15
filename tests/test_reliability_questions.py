"""Hostile questions: empty, whitespace, emoji only, 100,000 characters, control characters,
HTML, Markdown, SQL- and shell-like text, mixed scripts, invisible characters.

Each gets a clear reply (an answer quoted from its passage, an abstention or a hint) within a
bounded time and never an exception, through the real `qabot ask` command and through the
real bot behind the fake Bot API, where whatever the user typed is shown literally.
tests/test_properties.py feeds the same kinds of text to the answerer in-process, and
tests/test_telegram_chat.py::test_user_html_and_markdown_are_shown_literally checks the echo
of a question in the "more passages" page.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from fake_bot_api import (
    BotProcess,
    check_html,
    clean_env,
    prepare_corpus,
    qabot_command,
    visible_text,
)

# One line each (they go through `qabot ask -`, one question per line).
QUESTIONS = {
    "whitespace": " \t\u3000  ",
    "emoji only": "😀🇨🇳👍🏽\u200d",
    "100k characters": "哈" * 100_000,
    "100k mixed characters": ("哈密有多少个服务站? <b>&amp;</b> `x` " * 4_000)[:100_000],
    "100k figures": "1个" * 50_000,
    "control characters": "\x00\x01\x07\x1b[31m哈密\x7f\x9b有多少个服务站\x1b[0m",
    "html": "<b>哈密</b>有多少个<a href='javascript:alert(1)'>服务站</a>?</blockquote>&amp;",
    "script": "<script>alert(1)</script>市有多少个服务站?",
    "unknown name in tags": "<i>Tom</i>有多少个服务站?",
    "markdown": "**哈密** _有多少_ `服务站` [x](http://evil.example) # ?",
    "sql": "'; DROP TABLE passages; -- 哈密有多少个服务站",
    "shell": "$(rm -rf /) `reboot` | cat /etc/passwd; 哈密有多少个服务站 && echo",
    "mixed scripts": "Hami 有多少 service stations? Хами ハミ 하미 هامي",
    "invisible characters": "\u202e哈密\u200b有多少\u200d个服务站\ufeff?",
    "a plain question": "哈密有多少个服务站?",
}
HINTS = ("请输入", "抱歉", "Sorry", "Please ask", "没有提到", "do not mention")


def is_clear_reply(answer: dict) -> bool:
    """An abstention quotes nothing; any other reply quotes a passage, which writes the answer
    it gives (sure, or a likely guess)."""
    if answer["tier"] == "none":
        return answer["citation"] is None and answer["answer"] is None
    offered = answer["answer"] or (answer["guess"] or {}).get("answer")
    return answer["citation"] is not None and (
        offered is None or offered in answer["citation"]["text"]
    )


def test_cli_answers_every_hostile_question_with_one_json_line(seed_index):
    lines = list(QUESTIONS.values())
    result = subprocess.run(
        [*qabot_command(), "ask", "--json", "--index", str(seed_index), "-"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=clean_env(),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(answers) == len(lines)
    for (name, question), answer in zip(QUESTIONS.items(), answers, strict=True):
        assert answer["question"] == question, name  # kept literally, JSON-escaped
        assert is_clear_reply(answer), (name, answer["answer"])
    assert answers[-1]["answer"] == "285个服务站"


@pytest.mark.parametrize(
    "question",
    [
        "哈密\n有多少个服务站?",  # a line break inside one argument
        "-rf <b>Tom</b> & 'q' \"dq\" \x1b]0;title\x07 有多少个服务站",
    ],
    ids=["line break", "dash, markup, quotes, terminal escape"],
)
def test_cli_text_mode_takes_any_argument(seed_index, question):
    result = subprocess.run(
        [*qabot_command(), "ask", "--index", str(seed_index), "--", question],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=clean_env(),
        timeout=60,
    )
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.strip() and "\x1b" not in result.stdout


# ---------------------------------------------------------------------- through the bot


@pytest.fixture(scope="module")
def bot(fake, tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-questions")
    data_dir, index_path = prepare_corpus(root)
    process = BotProcess(fake, root, data_dir, index_path).start()
    yield process
    process.stop()


# Telegram delivers at most 4,096 characters; one 100k message is enough for the bot.
BOT_QUESTIONS = {
    k: v for k, v in QUESTIONS.items() if k not in {"100k mixed characters", "100k figures"}
}


def test_the_bot_replies_once_to_each_hostile_question_and_shows_it_literally(fake, bot):
    chats = {}
    for number, (name, question) in enumerate(BOT_QUESTIONS.items()):
        chat = 20_000 + number
        chats[name] = chat
        fake.send_text(chat, question)
    fake.wait_for(lambda: all(fake.count(c) for c in chats.values()), 60, "a reply in each chat")
    for name, chat in chats.items():
        [reply] = fake.messages(chat)
        assert check_html(reply.text) is None and reply.parse_mode == "HTML", name
        assert "出了点问题" not in reply.text, name  # not the error notice
        shown = visible_text(reply.text)
        quotes = "<b>" in reply.text or "<blockquote>" in reply.text  # an answer or a passage
        assert quotes or any(hint in shown for hint in HINTS), (name, shown[:80])
    unknown = visible_text(fake.messages(chats["unknown name in tags"])[0].text)
    assert "没有提到Tom" in unknown
    assert "<b>285个服务站</b>" in fake.messages(chats["a plain question"])[0].text


def test_markup_in_an_echoed_name_stays_text(fake, bot):
    fake.send_text(20_100, "<b>Tom</b>&amp;有多少个服务站?")
    [reply] = fake.wait_for_messages(20_100)
    assert check_html(reply.text) is None
    assert "<b>Tom" not in reply.text  # the user's tags never format anything


def test_hostile_questions_in_a_group_with_ask_and_a_mention(fake, bot):
    group = -20_200
    for question in ("/ask <i>x</i> `y` *z*", "@QabotTestBot $(reboot) 哈密有多少个服务站"):
        before = fake.count(group)
        fake.send_text(group, question, user_id=20_201)
        [reply] = fake.wait_for_messages(group, after=before)
        assert check_html(reply.text) is None and "出了点问题" not in reply.text


def test_nothing_went_wrong_on_the_way(fake, bot):
    assert bot.stop() == 0
    output = bot.output()
    assert "Traceback" not in output and "ERROR" not in output
