"""End to end against the fake Bot API: a conversation with the bot. Follow-up questions in a
private chat and in a group, a source link people can open, 👍 recorded and shown in /stats,
and an inline query answered."""

from __future__ import annotations

import pytest
from fake_bot_api import BotProcess, FakeBotAPI, check_html, prepare_corpus, visible_text

ADMIN = 7001
GROUP = -100700
PORT_URL = "https://news.example.com/2024/yibin-port.html"
PORT_PAGE = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>宜宾港集装箱吞吐量创新高</title>
<link rel="canonical" href="{PORT_URL}"></head>
<body><article><h1>宜宾港集装箱吞吐量创新高</h1>
<p>2023年，宜宾港完成集装箱吞吐量118万标箱，同比增长12%，创历史新高。</p>
<p>宜宾港位于长江上游，是四川最大的内河港口。</p>
</article></body></html>
"""


@pytest.fixture(scope="module")
def bot(fake, tmp_path_factory):
    root = tmp_path_factory.mktemp("telegram-conversation")
    data_dir, index_path = prepare_corpus(root, extra={"yibin-port.html": PORT_PAGE})
    process = BotProcess(
        fake,
        root,
        data_dir,
        index_path,
        env={"QABOT_ADMIN_IDS": str(ADMIN), "QABOT_RATE_LIMIT_PER_MINUTE": "60"},
    ).start()
    yield process
    process.stop()


ask = FakeBotAPI.ask  # ask(fake, chat_id, text): the bot's next message in that chat


def test_follow_up_in_a_private_chat(fake, bot):
    first = ask(fake, 7101, "哈密为部队划拨了多少土地?")
    assert "<b>5.4万亩" in first.text
    follow_up = ask(fake, 7101, "那张掖呢?")
    assert "理解为：张掖为部队划拨了多少土地?" in visible_text(follow_up.text)
    assert "<b>2000多亩</b>" in follow_up.text and "张掖市创建双拥模范城" in follow_up.text
    assert check_html(follow_up.text) is None


def test_follow_ups_in_a_group_are_each_members_own(fake, bot):
    mention = "@QabotTestBot "
    ask(fake, GROUP, mention + "哈密为部队划拨了多少土地?", user_id=7201)
    ask(fake, GROUP, mention + "哈密有多少名双拥志愿者?", user_id=7202)
    first = ask(fake, GROUP, mention + "那张掖呢?", user_id=7201)
    assert "张掖为部队划拨了多少土地" in visible_text(first.text)
    assert "<b>2000多亩</b>" in first.text
    second = ask(fake, GROUP, mention + "那张掖呢?", user_id=7202)
    assert "张掖有多少名双拥志愿者" in visible_text(second.text)
    assert "2000多亩" not in second.text


def test_the_source_is_a_link_and_the_answer_is_marked_in_the_quote(fake, bot):
    reply = ask(fake, 7301, "宜宾港2023年集装箱吞吐量是多少?")
    assert "118万标箱" in reply.text
    assert f'<a href="{PORT_URL}">' in reply.text  # the title opens the article
    quote = reply.text.split("<blockquote>")[1].split("</blockquote>")[0]
    assert "<b>118万标箱</b>" in quote
    assert check_html(reply.text) is None


def test_thumbs_up_is_logged_and_shown_in_stats(fake, bot):
    answer = ask(fake, ADMIN, "哈密有多少个服务站?")
    thumbs_up = next(b for b in answer.buttons if b["text"] == "👍")
    query = fake.press_button(answer, thumbs_up["callback_data"])
    assert fake.callback_answer(query)["text"] == "谢谢反馈！"
    fake.wait_for(lambda: not any(b["text"] == "👍" for b in answer.buttons), 10, "buttons gone")
    # a stranger cannot rate someone else's answer
    stranger = fake.press_button(answer.raw, thumbs_up["callback_data"], user_id=7999)
    assert fake.callback_answer(stranger)["text"] != "谢谢反馈！"
    ask(fake, ADMIN, "北京有多少人口?")  # not in the articles: an unanswered question
    stats = visible_text(ask(fake, ADMIN, "/stats").text)
    assert "1个赞" in stats
    assert "北京有多少人口" in stats.split("最常问但未回答的问题")[1]


def test_stats_are_for_administrators_only(fake, bot):
    reply = ask(fake, 7401, "/stats")
    assert "管理员" in visible_text(reply.text)


def test_an_inline_query_is_answered_with_its_source(fake, bot):
    query = fake.send_inline_query(7501, "哈密有多少个服务站")
    [result] = fake.inline_answer(query)["results"]
    assert result["type"] == "article" and "285个服务站" in result["title"]
    content = result["input_message_content"]
    assert "双拥花开哈密城" in content["message_text"]
    assert content.get("parse_mode", "HTML").lower() == "html"
    assert check_html(content["message_text"]) is None


def test_start_greets_thanks_are_welcomed(fake, bot):
    assert ask(fake, 7601, "/start").text.startswith("你好，Tester！")
    assert "不客气" in ask(fake, 7601, "谢谢").text
    assert "285个服务站" in ask(fake, 7601, "哈密有多少个服务站? 2").text
