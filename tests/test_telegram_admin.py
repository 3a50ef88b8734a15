"""End to end: administration (reindex, article files, links) and the allow-list of chats."""

from __future__ import annotations

import time

import pytest
from fake_bot_api import BotProcess, FakeBotAPI, check_html, prepare_corpus

ADMIN = 42
ALLOWED = list(range(43, 70))
GROUP = -3001

JIUQUAN = """酒泉：戈壁绿洲写满军民鱼水情
2024-05-20 来源：酒泉日报

酒泉市地处河西走廊西端，驻军单位多、双拥任务重。近年来，酒泉市把双拥工作纳入全市经济社会发展总体规划，连续四次获得“全国双拥模范城”称号。

全市建成退役军人服务中心8个、退役军人服务站412个，实现市、县、乡、村四级全覆盖。

为支持部队建设，酒泉市累计投入2.3亿元，用于改善驻军营区道路、供水和供暖设施。驻酒部队官兵参与防沙治沙，累计植树造林12.6万亩，在戈壁滩上筑起一道绿色屏障。

每逢“八一”建军节，市领导带队走访慰问驻军部队和优抚对象，送去慰问金和慰问品。
"""

DUNHUANG = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>敦煌：丝路古城谱写双拥新篇 - 敦煌融媒</title></head>
<body>
<nav><a href="/">首页</a> | <a href="/news">新闻</a></nav>
<article>
<h1>敦煌：丝路古城谱写双拥新篇</h1>
<p class="meta">2024-06-12　来源：敦煌融媒</p>
<p>敦煌市坚持把双拥工作作为促进经济社会发展的重要举措，军地双方同心协力，共同书写丝路古城的双拥新篇章。</p>
<p>近三年来，敦煌市为驻军部队协调解决营区用地1260亩，新建军人军属服务驿站57个，开通“拥军专线”公交3条。</p>
<p>驻敦部队每年组织官兵参加莫高窟文物保护志愿服务，累计服务游客18万人次，成为丝路上一道亮丽的风景线。</p>
</article>
<footer>版权所有 敦煌融媒</footer>
</body></html>
"""


@pytest.fixture(scope="module")
def fake():
    with FakeBotAPI() as api:
        yield api


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("telegram-admin")
    data_dir, index_path = prepare_corpus(root)
    return root, data_dir, index_path


@pytest.fixture(scope="module")
def bot(fake, corpus):
    root, data_dir, index_path = corpus
    env = {
        "QABOT_ADMIN_IDS": str(ADMIN),
        "QABOT_ALLOWED_CHAT_IDS": ",".join(map(str, [*ALLOWED, GROUP])),
        "QABOT_ALLOW_PRIVATE_FETCH": "true",  # the test page is served from 127.0.0.1
        "QABOT_MAX_UPLOAD_BYTES": "100000",
    }
    process = BotProcess(fake, root, data_dir, index_path, env=env).start()
    yield process
    process.stop()


def ask(fake: FakeBotAPI, chat_id: int, text: str, **kwargs):
    before = fake.count(chat_id)
    fake.send_text(chat_id, text, **kwargs)
    return fake.wait_for_messages(chat_id, after=before)[0]


def upload(fake: FakeBotAPI, chat_id: int, name: str, content: bytes, **kwargs):
    before = fake.count(chat_id)
    fake.send_document(chat_id, name, content, **kwargs)
    return fake.wait_for_messages(chat_id, after=before)[0]


def final_text(fake: FakeBotAPI, message, marker_words: tuple[str, ...], timeout: float = 30):
    """Wait until a status message was edited into its outcome (one of `marker_words`)."""

    def done():
        current = next(
            m for m in fake.messages(message.chat_id) if m.message_id == message.message_id
        )
        return current.text if any(w in current.text for w in marker_words) else None

    return fake.wait_for(done, timeout, f"the outcome of {message.text!r}")


OUTCOMES = ("已添加", "无法添加", "索引已更新", "失败")


def test_non_admin_cannot_reindex(fake, bot):
    reply = ask(fake, 43, "/reindex")
    assert "只有管理员可以重建索引" in reply.text
    time.sleep(0.5)
    assert not any("索引已更新" in m.text for m in fake.messages())


def test_admin_reindex_reports_the_index(fake, bot):
    status = ask(fake, ADMIN, "/reindex")
    assert "正在重建索引" in status.text
    outcome = final_text(fake, status, OUTCOMES)
    assert "索引已更新：2 articles" in outcome
    assert "<b>285个服务站</b>" in ask(fake, 43, "哈密有多少个服务站?").text


def test_admin_help_mentions_administration(fake, bot):
    assert "/reindex" in ask(fake, ADMIN, "/help").text
    assert "/reindex" not in ask(fake, 43, "/help").text


def test_uploaded_article_becomes_answerable(fake, bot, corpus):
    _, data_dir, _ = corpus
    before = ask(fake, 44, "酒泉有多少个服务站?")
    assert "<b>" not in before.text and "抱歉" in before.text

    status = upload(fake, ADMIN, "jiuquan.txt", JIUQUAN.encode("utf-8"))
    assert "正在添加 jiuquan.txt" in status.text
    outcome = final_text(fake, status, OUTCOMES)
    assert "已添加《酒泉：戈壁绿洲写满军民鱼水情》" in outcome, outcome
    assert (data_dir / "jiuquan.txt").is_file()

    after = ask(fake, 44, "酒泉有多少个服务站?")
    assert "<b>412个" in after.text and "酒泉：戈壁绿洲写满军民鱼水情" in after.text
    assert "酒泉日报" in after.text and "2024-05-20" in after.text
    assert "<b>12.6万亩</b>" in ask(fake, 44, "酒泉累计植树造林多少亩?").text
    assert "收录的文章（3 篇）" in ask(fake, 44, "/sources").text


def test_gbk_upload_is_decoded(fake, bot):
    text = JIUQUAN.replace("酒泉", "嘉峪关").replace("412", "96")
    status = upload(fake, ADMIN, "jiayuguan-gbk.txt", text.encode("gbk"))
    assert "已添加《嘉峪关" in final_text(fake, status, OUTCOMES)
    assert "<b>96个" in ask(fake, 45, "嘉峪关有多少个服务站?").text


def test_upload_refusals(fake, bot, corpus):
    _, data_dir, _ = corpus
    files_before = sorted(p.name for p in data_dir.iterdir())

    refused = upload(fake, 46, "jiuquan2.txt", JIUQUAN.encode("utf-8"))
    assert "只有管理员可以添加文章" in refused.text

    pdf = upload(fake, ADMIN, "report.pdf", b"%PDF-1.4 ...", mime_type="application/pdf")
    assert "只能添加 .txt、.md 或 .html 文件" in pdf.text

    big = upload(fake, ADMIN, "big.txt", b"x", file_size=200_000)
    assert "文件太大" in big.text

    binary = upload(fake, ADMIN, "<b>evil</b>&co.txt", bytes(range(256)) * 20)
    assert check_html(binary.text) is None and "&lt;b&gt;evil&lt;/b&gt;&amp;co.txt" in binary.text
    assert "无法添加" in final_text(fake, binary, OUTCOMES)

    empty = upload(fake, ADMIN, "note.txt", "你好".encode())
    assert "无法添加" in final_text(fake, empty, OUTCOMES)

    assert sorted(p.name for p in data_dir.iterdir()) == files_before  # nothing left behind


def test_admin_link_added_and_non_admin_link_refused(fake, bot):
    url = fake.add_page("news/dunhuang.html", DUNHUANG.encode("utf-8"))
    refused = ask(fake, 47, url)
    assert "只有管理员可以添加文章" in refused.text

    status = ask(fake, ADMIN, url)
    assert "正在添加" in status.text
    outcome = final_text(fake, status, OUTCOMES)
    assert "已添加《敦煌：丝路古城谱写双拥新篇》" in outcome, outcome
    assert "<b>57个" in ask(fake, 47, "敦煌新建了多少个服务驿站?").text

    missing = ask(fake, ADMIN, fake.base_url + "/pages/no-such-page.html")
    assert "HTTP 404" in final_text(fake, missing, OUTCOMES)


def test_questions_in_flight_are_answered_during_a_rebuild(fake, bot, corpus):
    _, data_dir, _ = corpus
    # a large new article, so the rebuild takes a while
    paragraph = "玉门市持续推进双拥工作，军民共建成果丰硕，累计开展各类共建活动{n}次。"
    body = "玉门：石油城里的拥军情\n2024-07-01 来源：玉门日报\n\n" + "\n\n".join(
        paragraph.format(n=n) for n in range(3000)
    )
    (data_dir / "yumen.txt").write_text(body, encoding="utf-8")

    chats = list(range(50, 60))
    status_before = fake.count(ADMIN)
    fake.send_text(ADMIN, "/reindex")
    for _round in range(3):
        for chat in chats:
            fake.send_text(chat, "哈密有多少个服务站?")
    [status] = fake.wait_for_messages(ADMIN, after=status_before)
    outcome = final_text(fake, status, OUTCOMES, timeout=60)
    assert "索引已更新" in outcome and "1 read" in outcome
    finished = time.time()
    fake.wait_for(lambda: all(fake.count(c) >= 3 for c in chats), 30, "30 answers")
    answers = [m for c in chats for m in fake.messages(c)]
    assert len(answers) == 30 and all("<b>285个服务站</b>" in m.text for m in answers)
    during = sum(m.time < finished for m in answers)
    print(
        f"\nrebuild reading a 3,000-paragraph article: {during}/30 answers sent before it finished"
    )


def test_allow_list_makes_a_private_bot(fake, bot):
    stranger = ask(fake, 99, "哈密有多少个服务站?")
    assert "私人机器人" in stranger.text and "<b>285" not in stranger.text

    query = fake.press_button(
        {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": 99, "type": "private", "first_name": "x"},
            "from": fake.bot_user(),
            "text": "old",
        },
        "more:whatever:0",
    )
    assert "私人机器人" in fake.callback_answer(query)["text"]

    fake.send_text(-3999, "@QabotTestBot 哈密有多少个服务站?", user_id=43)  # group not allowed
    allowed_group = fake.send_text(GROUP, "@QabotTestBot 哈密有多少个服务站?", user_id=99)
    [answer] = fake.wait_for_messages(GROUP)
    assert answer.reply_to == allowed_group["message_id"]
    time.sleep(0.5)
    assert fake.count(-3999) == 0

    # the administrator's private chat is always open
    assert "<b>285个服务站</b>" in ask(fake, ADMIN, "哈密有多少个服务站?").text


def test_clean_shutdown_and_token_never_printed(fake, bot):
    assert bot.stop() == 0
    output = bot.output()
    assert fake.token not in output and fake.token.split(":")[1] not in output
    assert "Traceback" not in output
    assert "ERROR" not in output  # nothing went wrong on the way
