"""End to end: the real `qabot serve` against the fake Bot API, as people use it in chats.

One bot process serves the whole module (module-scoped fixtures); each test uses its own chat
ids so tests do not see each other's messages.
"""

from __future__ import annotations

import statistics
import time

import pytest
from fake_bot_api import BotProcess, FakeBotAPI, check_html, prepare_corpus, visible_text

HAMI_TITLE = "双拥花开哈密城"
HAMI_SOURCE = "新疆维吾尔自治区双拥办"
ZHANGYE_TITLE = "张掖市创建双拥模范城(县)综述"


@pytest.fixture(scope="module")
def bot(fake, tmp_path_factory):
    root = tmp_path_factory.mktemp("telegram-chat")
    data_dir, index_path = prepare_corpus(root)
    process = BotProcess(
        fake, root, data_dir, index_path, env={"QABOT_RATE_LIMIT_PER_MINUTE": "20"}
    ).start()
    yield process
    process.stop()


ask = FakeBotAPI.ask  # ask(fake, chat_id, text): the bot's next message in that chat


def settle(fake: FakeBotAPI, chat_id: int, expected: int, wait: float = 0.8) -> None:
    """Give the bot a moment, then check it sent exactly `expected` messages to the chat."""
    time.sleep(wait)
    assert fake.count(chat_id) == expected, [m.text for m in fake.messages(chat_id)]


# ---------------------------------------------------------------------- answers


def test_question_answered_with_answer_quote_and_article(fake, bot):
    reply = ask(fake, 1001, "哈密有多少个服务站?")
    assert reply.parse_mode == "HTML"
    assert "<b>285个服务站</b>" in reply.text
    assert "<blockquote>" in reply.text and "285个服务站" in reply.text.split("<blockquote>")[1]
    assert HAMI_TITLE in reply.text and HAMI_SOURCE in reply.text
    assert check_html(reply.text) is None
    thumbs_up, thumbs_down = reply.buttons[:2]  # "more" only when other passages fit as well
    assert (thumbs_up["text"], thumbs_down["text"]) == ("👍", "👎")
    assert all(len(b["callback_data"].encode()) <= 64 for b in reply.buttons)


def test_money_question_and_date_in_source(fake, bot):
    reply = ask(fake, 1002, "张掖投入了多少资金?")
    assert "<b>1.6亿元</b>" in reply.text
    assert ZHANGYE_TITLE in reply.text and "2024-08-01" in reply.text


def test_english_question_gets_english_labels(fake, bot):
    reply = ask(fake, 1003, "How many service stations does Hami have?", language_code="en")
    if "<b>" in reply.text:
        assert "<b>285个" in reply.text and "Source:" in reply.text
    else:  # abstained: still in English
        assert "Sorry" in reply.text and "抱歉" not in reply.text


def test_abstention_is_kind_and_suggests_questions(fake, bot):
    reply = ask(fake, 1004, "北京有多少人口?")
    assert "抱歉" in reply.text
    assert "/sources" in reply.text and "有多少个服务站" in reply.text  # an example question
    assert not reply.buttons  # nothing to page through


def test_empty_question_after_mention_gets_a_hint(fake, bot):
    reply = ask(fake, 1005, "@QabotTestBot")
    assert "请输入一个关于文章内容的问题" in reply.text


# ---------------------------------------------------------------------- more results


def test_more_pages_through_passages_in_the_answer_message(fake, bot):
    # a question that many of Hami's passages relate to (双拥, 志愿者): more than one page
    answer = ask(fake, 1101, "哈密有多少名双拥志愿者?")
    cited = visible_text(answer.text.split("<blockquote>")[1].split("</blockquote>")[0])

    def quotes(html_text: str) -> list[str]:
        return [
            visible_text(q.split("</blockquote>")[0]) for q in html_text.split("<blockquote>")[1:]
        ]

    def press(message, data=None) -> None:
        edits = len(message.edits)
        query = fake.press_button(message, data)
        assert fake.callback_answer(query)["answered"]
        fake.wait_for(lambda: len(message.edits) > edits, 15, "the message edited")

    press(answer)
    assert fake.count(1101) == 1  # the answer's own message, edited: no new message
    assert "相关段落 1–3" in answer.text
    page1 = quotes(answer.text)
    assert len(page1) == 3 and cited not in page1 and HAMI_TITLE in answer.text
    back, forward = answer.buttons
    assert back["text"].startswith("◂") and forward["callback_data"].startswith("more:")

    press(answer)
    assert "相关段落 4–" in answer.text
    page2 = quotes(answer.text)
    assert page2 and not set(page2) & set(page1) and cited not in page2

    press(answer, answer.buttons[0]["callback_data"])  # ◂ back to the first page
    assert quotes(answer.text) == page1
    press(answer, answer.buttons[0]["callback_data"])  # ◂ back to the answer itself
    assert "<b>320名双拥志愿者</b>" in answer.text and fake.count(1101) == 1


def test_stale_and_garbage_callbacks_are_answered(fake, bot):
    answer = ask(fake, 1102, "哈密有多少个服务站?")
    stale = fake.press_button(answer, "more:NoSuchKey:0")
    garbage = fake.press_button(answer, "this is not ours")
    assert "过期" in fake.callback_answer(stale)["text"]
    assert "过期" in fake.callback_answer(garbage)["text"]
    settle(fake, 1102, 1)


# ---------------------------------------------------------------------- commands


def test_commands_registered_at_start_up(fake, bot):
    calls = fake.calls("setMyCommands")
    by_language = {c.params.get("language_code", ""): c.params["commands"] for c in calls}
    for language in ("", "en"):
        names = {c["command"] for c in by_language[language]}
        assert {"start", "help", "sources", "ask"} <= names
    assert "reindex" not in {c["command"] for c in by_language[""]}  # admins only, not in the menu


def test_start_and_help_say_what_the_bot_knows(fake, bot):
    start = ask(fake, 1201, "/start")  # a greeting with one example
    assert start.text.startswith("你好，Tester！") and "哈密有多少个服务站" in start.text
    help_zh = ask(fake, 1201, "/help")  # the explanation
    assert help_zh.text != start.text
    assert "2 篇文章" in help_zh.text and "哈密有多少个服务站" in help_zh.text
    assert "/sources" in help_zh.text and "/ask" in help_zh.text
    assert "/reindex" not in help_zh.text  # not an administrator
    help_en = ask(fake, 1202, "/help", language_code="en")
    assert "I know 2 articles" in help_en.text and "How many service stations" in help_en.text


def test_sources_lists_the_indexed_articles(fake, bot):
    reply = ask(fake, 1203, "/sources")
    assert "收录的文章（2 篇）" in reply.text
    assert HAMI_TITLE in reply.text and ZHANGYE_TITLE in reply.text
    assert "2024-08-01" in reply.text and "19 段" in reply.text


def test_ask_command_and_unknown_command(fake, bot):
    assert "<b>285个服务站</b>" in ask(fake, 1204, "/ask 哈密有多少个服务站?").text
    assert "请输入一个关于文章内容的问题" in ask(fake, 1204, "/ask").text
    assert "/help" in ask(fake, 1204, "/frobnicate").text


# ---------------------------------------------------------------------- groups


def test_group_messages_answered_only_when_addressed(fake, bot):
    group = -2001
    user = dict(user_id=2001, chat_type="supergroup")
    fake.send_text(group, "哈密有多少个服务站?", **user)  # not addressed: ignored
    fake.send_text(group, "@SomeOtherBot 哈密有多少个服务站?", **user)  # another bot: ignored
    fake.send_text(group, "/ask@SomeOtherBot 哈密有多少个服务站?", **user)  # ditto
    mention = fake.send_text(group, "@QabotTestBot 哈密有多少个服务站?", **user)
    [answer] = fake.wait_for_messages(group)
    assert answer.reply_to == mention["message_id"]  # threaded under the question
    assert "<b>285个服务站</b>" in answer.text

    ask_command = fake.send_text(group, "/ask 张掖投入了多少资金?", **user)
    [second] = fake.wait_for_messages(group, after=1)
    assert second.reply_to == ask_command["message_id"] and "<b>1.6亿元</b>" in second.text

    reply = fake.send_text(group, "张掖投入了多少资金?", reply_to=answer.raw, **user)
    [third] = fake.wait_for_messages(group, after=2)
    assert third.reply_to == reply["message_id"] and "<b>1.6亿元</b>" in third.text

    lower = fake.send_text(group, "/ask@qabottestbot 哈密有多少个服务站?", **user)
    [fourth] = fake.wait_for_messages(group, after=3)
    assert fourth.reply_to == lower["message_id"]

    # a reply to another member's message is not for the bot
    fake.send_text(group, "哈密有多少个服务站?", reply_to=mention, user_id=2002)
    settle(fake, group, 4)


def test_group_mention_inside_the_text(fake, bot):
    group = -2002
    message = fake.send_text(group, "请问 @qabottestbot 哈密有多少个服务站?", user_id=2003)
    [answer] = fake.wait_for_messages(group)
    assert answer.reply_to == message["message_id"] and "<b>285个服务站</b>" in answer.text


# ---------------------------------------------------------------------- escaping


def test_user_html_and_markdown_are_shown_literally(fake, bot):
    question = "**哈密**有多少个服务站? & <>"
    answer = ask(fake, 1301, question)
    assert "<b>285个服务站</b>" in answer.text
    fake.press_button(answer)
    fake.wait_for(lambda: answer.edits, 15, "the page")
    assert "**哈密**有多少个服务站? &amp; &lt;&gt;" in answer.text  # escaped in the HTML
    assert question in visible_text(answer.text)  # and shown as typed

    tags = ask(fake, 1302, "<b>Tom</b> 有多少个服务站?")
    assert "<b>Tom</b>" not in tags.text and check_html(tags.text) is None
    script = ask(fake, 1303, "<i>哈密有多少个服务站?</i><script>alert(1)</script>")
    assert "<script>" not in script.text and check_html(script.text) is None
    markdown = ask(fake, 1304, "/ask [链接](http://example.com) *粗体* _斜体_ `代码`")
    assert check_html(markdown.text) is None


# ---------------------------------------------------------------------- load


QUESTIONS = [
    ("哈密有多少个服务站?", "<b>285个服务站</b>"),
    ("张掖投入了多少资金?", "<b>1.6亿元</b>"),
    ("哈密市累计投入多少资金?", "<b>5.6亿元</b>"),
    ("哈密连续几次荣膺全国双拥模范城?", "<b>六次</b>"),
    ("北京有多少人口?", "抱歉"),
]


def test_burst_of_100_messages_from_50_chats_answered_once_each(fake, bot):
    chats = range(5000, 5050)
    expected: dict[int, list[str]] = {}
    sent_at: dict[int, float] = {}
    start = time.time()
    for number, chat in enumerate(chats):
        for turn in range(2):
            question, marker = QUESTIONS[(number + turn) % len(QUESTIONS)]
            fake.send_text(chat, question)
            expected.setdefault(chat, []).append(marker)
        sent_at[chat] = time.time()

    fake.wait_for(
        lambda: all(fake.count(chat) >= 2 for chat in chats), timeout=60, message="100 replies"
    )
    elapsed = time.time() - start
    time.sleep(0.8)
    latencies = []
    for chat in chats:
        replies = fake.messages(chat)
        assert len(replies) == 2, [r.text for r in replies]  # once each, no duplicates
        for marker in expected[chat]:
            assert sum(marker in r.text for r in replies) >= expected[chat].count(marker)
        latencies += [r.time - sent_at[chat] for r in replies]
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[int(0.99 * (len(latencies) - 1))]
    print(
        f"\nburst: 100 questions from 50 chats answered in {elapsed:.2f}s; p50 {p50:.2f}s, p99 {p99:.2f}s"
    )
    assert elapsed < 30


def test_rate_limit_per_user(fake, bot):
    chat = 7001
    for _ in range(25):
        fake.send_text(chat, "哈密有多少个服务站?")
    fake.wait_for_messages(chat, 21, timeout=30)
    settle(fake, chat, 21, wait=1.0)  # 20 answers and one "slow down", not 25 replies
    texts = [m.text for m in fake.messages(chat)]
    assert sum("<b>285个服务站</b>" in t for t in texts) == 20
    assert sum("太快" in t for t in texts) == 1
    # other users are not affected
    assert "<b>285个服务站</b>" in ask(fake, 7002, "哈密有多少个服务站?").text


# ---------------------------------------------------------------------- last: shutdown and secrets


def test_clean_shutdown_and_token_never_printed(fake, bot):
    assert bot.running
    assert bot.stop() == 0  # SIGTERM: a clean exit
    output = bot.output()
    assert "@QabotTestBot is answering (polling)" in output
    assert fake.token not in output and fake.token.split(":")[1] not in output
    assert "Traceback" not in output
    assert "ERROR" not in output  # nothing went wrong on the way
