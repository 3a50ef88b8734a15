"""End to end: administration (reindex, article files, links) and the allow-list of chats."""

from __future__ import annotations

import re
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


OUTCOMES = (
    *("已添加", "无法添加", "索引已更新", "失败", "已删除", "无法删除"),
    *("Added", "Cannot add", "Index updated", "failed", "Removed", "Cannot remove"),
)
ENGLISH_PHRASES = (
    "articles",
    "passages",
    "read,",
    "unchanged",
    "removed",
    "skipped",
    "the page answered",
    "HTTP",
    "is not in the data folder",
    "already in the data folder",
)


def ascii_words(text: str) -> list[str]:
    """The ASCII words of a reply once links, file names and numbers are taken out."""
    text = re.sub(r"https?://\S+?(?=[\s：，。（）]|$)", "", text)
    text = re.sub(r"[\w./-]+\.(?:txt|md|html|sqlite)\b", "", text)
    return re.findall(r"[A-Za-z]{2,}", text)


def chinese(text: str) -> bool:
    return re.search(r"[\u4e00-\u9fff]", text) is not None


def test_non_admin_cannot_reindex(fake, bot):
    reply = ask(fake, 43, "/reindex")
    assert "只有管理员可以重建索引" in reply.text
    time.sleep(0.5)
    assert not any("索引已更新" in m.text for m in fake.messages())


def test_admin_reindex_reports_the_index(fake, bot):
    status = ask(fake, ADMIN, "/reindex")
    assert "正在重建索引" in status.text
    outcome = final_text(fake, status, OUTCOMES)
    assert "索引已更新：2 篇文章，" in outcome and "articles" not in outcome
    assert "<b>285个服务站</b>" in ask(fake, 43, "哈密有多少个服务站?").text


def test_admin_help_mentions_administration(fake, bot):
    admin_help = ask(fake, ADMIN, "/help").text
    assert "/reindex" in admin_help and "/remove 文件名 删除文章" in admin_help
    other_help = ask(fake, 43, "/help").text
    assert "/reindex" not in other_help and "/remove" not in other_help
    english = ask(fake, ADMIN, "/help", language_code="en").text
    assert "/remove FILE_NAME deletes an article" in english


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

    link = fake.base_url + "/pages/no-such-page.html"
    missing = ask(fake, ADMIN, link)
    assert final_text(fake, missing, OUTCOMES) == f"无法添加 {link}：网页返回了错误状态码 404"


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
    assert "索引已更新" in outcome and "新读 1 篇" in outcome
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


def test_a_chinese_admin_gets_only_chinese_replies(fake, bot):
    """/reindex and a failed link: the build report and the reason in Chinese, no English."""
    status = ask(fake, ADMIN, "/reindex")
    outcome = final_text(fake, status, OUTCOMES)
    assert re.fullmatch(
        r"索引已更新：6 篇文章，\d+ 个段落（新读 0 篇，未变 6 篇，移除 0 篇），跳过 0 个文件",
        outcome,
    ), outcome
    link = fake.base_url + "/pages/gone.html"
    failed = final_text(fake, ask(fake, ADMIN, link), OUTCOMES)
    assert failed == f"无法添加 {link}：网页返回了错误状态码 404"
    for reply in (status.text, outcome, failed):
        assert ascii_words(reply) == [], reply
        assert not any(phrase in reply for phrase in ENGLISH_PHRASES), reply


def test_an_english_admin_gets_only_english_replies(fake, bot):
    status = ask(fake, ADMIN, "/reindex", language_code="en")
    assert status.text.startswith("Rebuilding the index")
    outcome = final_text(fake, status, OUTCOMES)
    assert re.fullmatch(
        r"Index updated: 6 articles, \d+ passages \(0 read, 6 unchanged, 0 removed\), 0 skipped",
        outcome,
    ), outcome
    link = fake.base_url + "/pages/gone.html"
    failed = final_text(fake, ask(fake, ADMIN, link, language_code="en"), OUTCOMES)
    assert failed == f"Cannot add {link}: the page answered HTTP 404"
    assert not any(chinese(reply) for reply in (status.text, outcome, failed))


def test_an_article_already_there_is_refused(fake, bot, corpus):
    _, data_dir, _ = corpus
    files_before = sorted(p.name for p in data_dir.iterdir())
    again = JIUQUAN.replace("\n", "\r\n").encode("gbk")  # the same text, other bytes
    status = upload(fake, ADMIN, "jiuquan-again.txt", again)
    outcome = final_text(fake, status, OUTCOMES)
    assert outcome == "无法添加 jiuquan-again.txt：数据文件夹里已有同样的文章：jiuquan.txt"
    status = upload(fake, ADMIN, "jiuquan-again.txt", again, language_code="en")
    assert final_text(fake, status, OUTCOMES) == (
        "Cannot add jiuquan-again.txt: its article text is already in the data folder as "
        "jiuquan.txt"
    )
    assert sorted(p.name for p in data_dir.iterdir()) == files_before


def test_non_admin_cannot_remove(fake, bot, corpus):
    _, data_dir, _ = corpus
    reply = ask(fake, 48, "/remove jiuquan.txt")
    assert "只有管理员可以删除文章" in reply.text
    assert (data_dir / "jiuquan.txt").is_file()
    english = ask(fake, 48, "/remove jiuquan.txt", language_code="en")
    assert "only administrators can remove articles" in english.text


def test_admin_remove_refusals(fake, bot, corpus):
    _, data_dir, _ = corpus
    files_before = sorted(p.name for p in data_dir.iterdir())
    usage = ask(fake, ADMIN, "/remove")
    assert usage.text.startswith("用法：/remove 文件名")

    missing = final_text(fake, ask(fake, ADMIN, "/remove no-such.txt"), OUTCOMES)
    assert missing == "无法删除：数据文件夹里没有 no-such.txt（没有删除任何文件）"
    assert ascii_words(missing) == []
    outside = final_text(fake, ask(fake, ADMIN, "/remove jiuquan.txt ../index.sqlite"), OUTCOMES)
    assert outside == "无法删除：../index.sqlite 不在数据文件夹里（没有删除任何文件）"
    english = ask(fake, ADMIN, "/remove ../index.sqlite", language_code="en")
    assert final_text(fake, english, OUTCOMES) == (
        "Cannot remove: ../index.sqlite is outside the data folder (nothing was removed)"
    )
    assert sorted(p.name for p in data_dir.iterdir()) == files_before
    assert "<b>412个" in ask(fake, 44, "酒泉有多少个服务站?").text


def test_admin_remove_takes_the_article_out(fake, bot, corpus):
    _, data_dir, _ = corpus
    assert "<b>412个" in ask(fake, 44, "酒泉有多少个服务站?").text
    status = ask(fake, ADMIN, "/remove jiuquan.txt")
    assert status.text == "正在删除 jiuquan.txt 并更新索引……"
    outcome = final_text(fake, status, OUTCOMES)
    assert outcome.startswith("已删除 jiuquan.txt，它不会再用来回答问题。\n索引：5 篇文章，")
    assert "移除 1 篇" in outcome and ascii_words(outcome) == [], outcome
    assert not (data_dir / "jiuquan.txt").exists()
    after = ask(fake, 44, "酒泉有多少个服务站?").text
    assert "412" not in after and "酒泉：戈壁绿洲写满军民鱼水情" not in after
    sources = ask(fake, 44, "/sources").text
    assert "收录的文章（5 篇）" in sources and "酒泉：戈壁绿洲" not in sources

    status = ask(fake, ADMIN, "/remove jiayuguan-gbk.txt", language_code="en")
    assert status.text == "Removing jiayuguan-gbk.txt and updating the index…"
    outcome = final_text(fake, status, OUTCOMES)
    assert outcome.startswith(
        "Removed jiayuguan-gbk.txt; it no longer answers questions.\nIndex: 4 articles, "
    )
    assert "1 removed" in outcome and not chinese(outcome)
    assert "<b>96个" not in ask(fake, 45, "嘉峪关有多少个服务站?").text


def test_clean_shutdown_and_token_never_printed(fake, bot):
    assert bot.stop() == 0
    output = bot.output()
    assert fake.token not in output and fake.token.split(":")[1] not in output
    assert "Traceback" not in output
    assert "ERROR" not in output  # nothing went wrong on the way
