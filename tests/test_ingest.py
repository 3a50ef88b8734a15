"""Ingestion: scraped pages become clean articles (text, Markdown, HTML; UTF-8, GBK, Big5).

The two real seed pages carry everything a scrape drags along (navigation, share buttons,
editor lines, related-news and comment boxes, the whole body twice, pinyin glosses); what a
user can be quoted must be the article's own text, once, with its real parentheticals.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from index.build import build_index
from index.ingest import UnreadableFile, decode_bytes, parse_text, read_article
from index.passages import split_article, split_sentences
from index.search import Searcher
from index.store import load_index

SEEDS = Path(__file__).resolve().parents[1] / "data" / "articles"
HAMI = "hami-shuangyong-model-city.txt"
ZHANGYE = "zhangye-shuangyong-model-city-2024-08-01.txt"
PAGES = Path(__file__).resolve().parent / "fixtures" / "pages"

BOILERPLATE = (
    "您当前的位置",
    "当前位置",
    "分享到",
    "编辑:",
    "编辑：",
    "最新相关新闻",
    "相关新闻",
    "相关推荐",
    "评论列表",
    "暂无评论",
    "发表评论",
    "欢迎",
    ">>",
    "快抢沙发",
)
PINYIN_GLOSS = re.compile(r"[\u4e00-\u9fff][(（][A-Za-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü' ]+[)）]")

HAMI_TITLE = "全国双拥模范城(县)巡礼新疆哈密市:双拥花开哈密城 军民同心谱新篇"
HAMI_FIRST = (
    "哈密市这座因香甜哈密瓜闻名的城市,更以连续六次荣膺“全国双拥模范城”的佳绩,"
    "书写着军民团结的动人篇章。"
)
ZHANGYE_TITLE = "军民同心 鱼水情深—— 张掖市创建双拥模范城(县)综述"
ZHANGYE_FIRST = "张掖是中国工农红军西路军征战河西的主战场,传承红色基因,军民同心、鱼水情深的优良传统在这里从未间断。"


@pytest.fixture(scope="module")
def seeds():
    """name -> (article, passages) for the two seed files, read as the index reads them."""
    result = {}
    for number, name in enumerate((HAMI, ZHANGYE)):
        article = read_article(SEEDS / name, SEEDS)
        result[name] = (article, split_article(article, number))
    return result


def passage_texts(seeds, name: str) -> list[str]:
    return [p.text for p in seeds[name][1]]


def all_texts(seeds, name: str) -> list[str]:
    """Everything of an article that can be shown: paragraphs, headings, passages."""
    article, passages = seeds[name]
    return [b.text for b in article.blocks] + [p.text for p in passages]


# ------------------------------------------------------------------ the real seed pages


@pytest.mark.parametrize("name", [HAMI, ZHANGYE])
def test_no_boilerplate_in_any_passage_or_heading(seeds, name):
    for text in all_texts(seeds, name):
        for marker in BOILERPLATE:
            assert marker not in text, f"{marker!r} left in {text[:60]!r}"


@pytest.mark.parametrize("name", [HAMI, ZHANGYE])
def test_no_pinyin_gloss_left(seeds, name):
    for text in all_texts(seeds, name):
        assert not PINYIN_GLOSS.search(text), PINYIN_GLOSS.search(text).group(0)


def test_hami_glosses_are_gone_but_the_words_stay(seeds):
    body = "\n".join(passage_texts(seeds, HAMI))
    for gloss in ("(zhe)", "(shuāngyōng)", "(piānzhāng)", "(nóngmù)", "(de)", "(hāmìshì)"):
        assert gloss not in body
    for words in ("书写着军民团结", "双拥工作纳入地方经济", "农牧村落", "纵向到底的服务网络"):
        assert words in body


@pytest.mark.parametrize(
    ("name", "parenthetical"),
    [
        (ZHANGYE, "双拥模范城(县)"),
        (ZHANGYE, "退役军人服务中心(站)"),
        (ZHANGYE, "村(社区)"),
        (ZHANGYE, "乡镇(街道)"),
        (HAMI, "牛羊216头(只)"),
        (HAMI, "(进机关、进学校、进军营、进社区、进企业、进农村)"),
        (HAMI, "15家A级景区"),
    ],
)
def test_real_parentheticals_are_kept(seeds, name, parenthetical):
    assert any(parenthetical in text for text in passage_texts(seeds, name))


@pytest.mark.parametrize("name", [HAMI, ZHANGYE])
def test_no_duplicate_paragraph_passage_or_sentence(seeds, name):
    article, passages = seeds[name]
    paragraphs = [b.text for b in article.blocks]
    assert len(paragraphs) == len(set(paragraphs))
    texts = [p.text for p in passages]
    assert len(texts) == len(set(texts))
    sentences = [s.strip() for t in texts for s in split_sentences(t) if len(s.strip()) > 8]
    repeated = {s for s in sentences if sentences.count(s) > 1}
    assert not repeated


def test_zhangye_metadata(seeds):
    article, _ = seeds[ZHANGYE]
    assert article.title == ZHANGYE_TITLE
    assert article.date == "2024-08-01"
    assert article.source == "张掖市融媒体中心"
    assert article.author == "段晓梅"


def test_hami_title_found_once_and_not_in_the_body(seeds):
    article, passages = seeds[HAMI]
    assert article.title == HAMI_TITLE
    assert passages[0].text.startswith("哈密市这座因香甜哈密瓜闻名的城市")
    assert not any(HAMI_TITLE in p.text for p in passages)
    assert not any("巡礼新疆哈密市" in p.text for p in passages)


@pytest.mark.parametrize(
    ("name", "sentences"),
    [
        (
            HAMI,
            [
                HAMI_FIRST,
                "全市建成4个退役军人服务中心、285个服务站,构建起横向到边、纵向到底的服务网络。",
                "市政府第一时间划拨5.4万亩土地用于营区建设",
                "让军民团结的钢铁长城在边疆大地更加坚不可摧、巍然屹立!",
            ],
        ),
        (
            ZHANGYE,
            [
                ZHANGYE_FIRST,
                "投入资金1.6亿元完成人武部营房改建",
                "为驻地部队划拨土地2000多亩",
                "让“红色基因”浇灌的双拥之花越开越艳、永放光芒。",
            ],
        ),
    ],
)
def test_body_sentences_present_exactly_once(seeds, name, sentences):
    body = "\n".join(passage_texts(seeds, name))
    for sentence in sentences:
        assert body.count(sentence) == 1, sentence


def test_closing_credit_is_metadata_not_text(seeds):
    zhangye = "\n".join(passage_texts(seeds, ZHANGYE))
    assert "段晓梅" not in zhangye and "(张掖市融媒体中心记者" not in zhangye
    hami_article, hami_passages = seeds[HAMI]
    assert hami_article.source == "新疆维吾尔自治区双拥办"
    assert not any("(新疆维吾尔自治区双拥办)" in p.text for p in hami_passages)


@pytest.mark.parametrize("name", [HAMI, ZHANGYE])
def test_passages_are_quotable_and_in_reading_order(seeds, name):
    article, passages = seeds[name]
    assert [p.position for p in passages] == list(range(len(passages)))
    for passage in passages:
        assert 0 < len(passage.text) <= 240
        assert passage.text == passage.text.strip()
    # the section headings are context for the passages after them, not passages themselves
    headings = [b.text for b in article.blocks if b.heading]
    assert headings and not any(p.text in headings for p in passages)
    assert any(p.heading == headings[0] for p in passages)


# ------------------------------------------------------------------ encodings

SIMPLIFIED = (PAGES / "qingshan-simplified.txt").read_text(encoding="utf-8")
TRADITIONAL = (PAGES / "baisha-traditional.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (SIMPLIFIED, "utf-8"),
        (SIMPLIFIED, "utf-8-sig"),
        (SIMPLIFIED, "utf-16"),
        (SIMPLIFIED, "gbk"),
        (SIMPLIFIED, "gb18030"),
        (SIMPLIFIED.replace("周晓燕", "刘䶮"), "gb18030"),  # 䶮 is not in GBK
        (TRADITIONAL, "big5"),
        (TRADITIONAL, "utf-8"),
    ],
)
def test_encoding_is_detected(text, encoding):
    assert decode_bytes(text.encode(encoding)) == text


@pytest.mark.parametrize(
    "sentence",
    [
        "白沙縣共有96個退役軍人服務站。",
        "白沙縣雙擁工作綜述",
        "全縣投入資金9600萬元。",
    ],
)
def test_short_big5_text_is_not_mistaken_for_japanese(sentence):
    assert decode_bytes(sentence.encode("big5")) == sentence


@pytest.mark.parametrize(
    ("text", "encoding", "suffix"),
    [
        (SIMPLIFIED, "gbk", ".txt"),
        (SIMPLIFIED, "gb18030", ".txt"),
        (TRADITIONAL, "big5", ".txt"),
    ],
)
def test_legacy_encoded_article_reads_like_utf8(tmp_path, text, encoding, suffix):
    utf8 = tmp_path / f"utf8{suffix}"
    utf8.write_text(text, encoding="utf-8")
    legacy = tmp_path / f"legacy{suffix}"
    legacy.write_bytes(text.encode(encoding))
    expected = read_article(utf8, tmp_path)
    article = read_article(legacy, tmp_path)
    assert (article.title, article.date, article.source) == (
        expected.title,
        expected.date,
        expected.source,
    )
    assert article.blocks == expected.blocks


def test_legacy_article_metadata_and_clean_text(tmp_path):
    path = tmp_path / "baisha.txt"
    path.write_bytes(TRADITIONAL.encode("big5"))
    article = read_article(path, tmp_path)
    assert article.title == "白沙縣雙擁工作綜述"
    assert article.date == "2022-09-20"
    assert article.source == "白沙日報"
    text = "\n".join(b.text for b in article.blocks)
    assert "全縣建成96個退役軍人服務站" in text
    for marker in ("您當前的位置", "分享到", "編輯", "相關新聞"):
        assert marker not in text


NEWS_PAGE = (PAGES / "qingshan-news.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("encoding", "declared"),
    [
        ("gbk", "gbk"),
        ("gb18030", "gb2312"),
        ("gbk", "utf-8"),  # the page lies about its charset: the bytes decide
        ("big5", "big5"),
        ("big5", None),  # no charset declared at all
    ],
)
def test_html_in_legacy_encodings(tmp_path, encoding, declared):
    page = NEWS_PAGE
    if encoding == "big5":
        page = to_traditional(page)
    if declared is None:
        page = re.sub(r"<meta http-equiv[^>]*>", "", page)
    else:
        page = page.replace("charset=utf-8", f"charset={declared}")
    path = tmp_path / "page.html"
    path.write_bytes(page.encode(encoding))
    article = read_article(path, tmp_path)
    title = "青山县召开拥军优属工作座谈会"
    first = "全县已建成1个县级退役军人服务中心、128个退役军人服务站"
    if encoding == "big5":
        title, first = to_traditional(title), to_traditional(first)
    assert article.title == title
    assert article.date == "2023-09-12"
    assert any(first in b.text for b in article.blocks)


def to_traditional(text: str) -> str:
    """Traditional script that Big5 can encode (the characters this module's pages use)."""
    from opencc import OpenCC

    return OpenCC("s2tw").convert(text)


# ------------------------------------------------------------------ traditional script in the index


@pytest.fixture(scope="module")
def traditional_index(tmp_path_factory):
    data = tmp_path_factory.mktemp("big5-articles")
    (data / "baisha.txt").write_bytes(TRADITIONAL.encode("big5"))
    (data / "qingshan.txt").write_bytes(SIMPLIFIED.encode("gbk"))
    path = tmp_path_factory.mktemp("big5-index") / "index.sqlite"
    _, report = build_index(data, path)
    assert report.articles == 2 and not report.skipped
    return load_index(path)


@pytest.mark.parametrize("query", ["白沙县退役军人服务站", "白沙縣退役軍人服務站", "9600万元"])
def test_traditional_article_matches_simplified_and_traditional_queries(traditional_index, query):
    hits = Searcher(traditional_index).search(query)
    assert hits, query
    best = hits[0].passage
    assert traditional_index.articles[best.article].path == "baisha.txt"
    # the passage a reply quotes is the article's own traditional text
    assert "全縣建成96個退役軍人服務站" in best.text
    assert "服务站" not in best.text


def test_traditional_article_is_cited_verbatim(traditional_index):
    from bot.qa.answerer import Answerer

    answer = Answerer(traditional_index).answer("白沙县有多少个退役军人服务站?")
    assert answer.citation is not None
    assert "96個退役軍人服務站" in answer.citation.text
    assert answer.citation.title == "白沙縣雙擁工作綜述"


# ------------------------------------------------------------------ HTML pages


@pytest.fixture(scope="module")
def news_page():
    article = read_article(PAGES / "qingshan-news.html", PAGES)
    return article, split_article(article, 0)


def test_html_title_and_date(news_page):
    article, _ = news_page
    assert article.title == "青山县召开拥军优属工作座谈会"
    assert article.date == "2023-09-12"


def test_html_source_and_author_as_the_page_states_them(news_page):
    article, _ = news_page
    assert article.source == "青山日报"  # "来源：青山日报", not the site's name
    assert article.author == "周晓燕"


def test_html_date_is_the_article_date_not_the_top_bar_date(tmp_path):
    page = NEWS_PAGE.replace(
        '<div class="topbar">', '<div class="topbar">今天是2026年11月22日 星期日 '
    ).replace("<span>发布时间：2023-09-12 10:20</span>", "")
    path = tmp_path / "page.html"
    path.write_text(page, encoding="utf-8")
    assert read_article(path, tmp_path).date == "2023-09-12"


def test_html_passages_are_the_article_only(news_page):
    _, passages = news_page
    texts = [p.text for p in passages]
    assert texts[0].startswith("9月10日，青山县召开拥军优属工作座谈会")
    assert any("128个退役军人服务站" in t and "村（社区）" in t for t in texts)
    assert texts[-1].startswith("下一步，青山县将继续深化军地共建")
    assert len(texts) == len(set(texts))
    page_furniture = (
        "首页",
        "新闻中心",
        "登录",
        "注册",
        "本地要闻",
        "您当前的位置",
        "分享到",
        "微信",
        "字号",
        "打印",
        "责任编辑",
        "相关新闻",
        "八一慰问活动",
        "评论",
        "抢沙发",
        "版权所有",
        "ICP",
        "广告",
        "var site",
        "color:",
        "<",
    )
    for text in texts + [p.heading or "" for p in passages]:
        for furniture in page_furniture:
            assert furniture not in text, f"{furniture!r} in {text!r}"


def test_html_section_heading_is_context(news_page):
    _, passages = news_page
    stores = next(p for p in passages if "63家" in p.text)
    assert stores.heading == "拥军门店遍布城乡"


def test_html_title_from_title_tag_and_date_from_meta_only(tmp_path):
    page = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>红山镇举行八一慰问活动 - 红山新闻网</title>
<meta name="publishdate" content="2024-07-31">
</head><body>
<div class="nav"><a href="/">首页</a> | <a href="/news">新闻</a></div>
<div class="article-body">
<p>7月30日，红山镇党委、政府组织开展八一建军节慰问活动，走访慰问驻地部队和优抚对象120户。</p>
<p>活动中，慰问组为官兵送去慰问金和慰问品，价值共计35万元，并与官兵座谈交流。</p>
</div>
<div class="share">分享到：<a>微信</a> <a>微博</a></div>
</body></html>"""
    path = tmp_path / "hongshan.html"
    path.write_text(page, encoding="utf-8")
    article = read_article(path, tmp_path)
    assert article.title == "红山镇举行八一慰问活动"
    assert article.date == "2024-07-31"
    texts = [p.text for p in split_article(article, 0)]
    assert any("慰问优抚对象" in t or "优抚对象120户" in t for t in texts)
    assert not any("分享到" in t or "首页" in t for t in texts)


def test_html_content_without_html_suffix_is_still_html(tmp_path):
    path = tmp_path / "saved-page.txt"
    path.write_text(NEWS_PAGE, encoding="utf-8")
    article = read_article(path, tmp_path)
    assert article.title == "青山县召开拥军优属工作座谈会"
    assert not any("<" in b.text or "分享到" in b.text for b in article.blocks)


# ------------------------------------------------------------------ Markdown


@pytest.fixture(scope="module")
def markdown_article():
    article = read_article(PAGES / "hongshi.md", PAGES)
    return article, split_article(article, 0)


def test_markdown_title_date_and_source(markdown_article):
    article, _ = markdown_article
    assert article.title == "红石市：拥军热潮涌动科技城"
    assert article.date == "2023-11-08"
    assert article.source == "红石日报"


def test_markdown_syntax_is_not_quoted(markdown_article):
    _, passages = markdown_article
    texts = [p.text for p in passages]
    body = "\n".join(texts)
    assert "红石市在全国双拥模范城评选中实现“三连冠”" in body
    assert "红石市共建成退役军人服务站412个" in body
    assert "红石市退役军人事务局" in body  # a link's words stay, its address goes
    for syntax in ("#", "**", "*", "![", "](", "https://", "images/", "---", "- 建成"):
        assert syntax not in body, syntax
    for navigation in ("返回首页", "上一篇", "下一篇"):
        assert navigation not in body
    assert next(p for p in passages if "412个" in p.text).heading == "服务保障更贴心"


def test_markdown_emphasis_and_heading_marks_are_dropped(tmp_path):
    path = tmp_path / "note.md"
    path.write_text(
        "## 青山县双拥工作简报 ##\n\n"
        "全县*新建*服务站12个，投入资金**300万元**，参见[通知][1]。\n\n"
        "### 下一步工作 ###\n\n"
        "青山县将继续推进拥军优属工作。\n\n"
        "[1]: https://example.com/notice\n",
        encoding="utf-8",
    )
    article = read_article(path, tmp_path)
    assert article.title == "青山县双拥工作简报"
    texts = [b.text for b in article.blocks]
    assert "全县新建服务站12个，投入资金300万元，参见通知。" in texts
    assert "下一步工作" in texts
    assert not any("example.com" in t or "[" in t or "*" in t for t in texts)


# ------------------------------------------------------------------ body text that looks like page furniture


@pytest.mark.parametrize(
    "sentence",
    [
        "注册志愿者人数达到3200名，服务时长超过10万小时。",
        "登录“i青山”平台即可在线办理优待证。",
        "相关报道显示，全县共建成服务站128个。",
        "收藏家张三向纪念馆捐赠革命文物120件。",
        "打印机、电脑等办公设备已配发到128个服务站。",
        "举报电话12345全天开放，群众反映的问题件件有回音。",
    ],
)
def test_body_sentences_starting_with_a_navigation_word_are_kept(tmp_path, sentence):
    path = tmp_path / "article.txt"
    path.write_text(
        "青山县双拥工作综述\n"
        "全县双拥工作扎实推进，军民关系更加融洽。\n"
        f"{sentence}\n"
        "青山县已连续四次被评为省级双拥模范县。\n"
        "登录 | 注册\n收藏\n打印本页\n相关新闻\n",
        encoding="utf-8",
    )
    article = read_article(path, tmp_path)
    texts = [b.text for b in article.blocks]
    assert sentence in texts
    assert not any(t in {"登录 | 注册", "收藏", "打印本页", "相关新闻"} for t in texts)


# ------------------------------------------------------------------ files that are not articles


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b" \n\t\n\r\n", "empty"),
        ("picture.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary"),
        ("junk.txt", bytes((i * 97 + 13) % 128 + 128 for i in range(4000)), "encoding"),
        ("notes.docx", b"PK\x03\x04not really a document", "not an article file"),
        (
            "nav-only.html",
            "<html><body><nav>首页 | 新闻</nav></body></html>".encode(),
            "no article",
        ),
    ],
    ids=["empty", "blank", "binary", "junk", "docx", "nav-only"],
)
def test_unusable_files_raise_a_short_reason(tmp_path, name, data, reason):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(UnreadableFile) as caught:
        read_article(path, tmp_path)
    message = str(caught.value)
    assert reason in message
    assert "\n" not in message and len(message) < 100


def test_a_dated_body_line_is_not_mistaken_for_metadata():
    article = parse_text("标题\n2023年5月18日 青山县举行双拥大会\n正文第一段。", "x.txt")
    assert any("青山县举行双拥大会" in block.text for block in article.blocks)


# ------------------------------------------------------------------ pages in layouts not seen before

XINHE = "xinhe-comments.html"
XINHE_TEXT = (
    "4月28日，新河县召开双拥工作推进会，总结一年来双拥工作取得的成效。",
    "会议通报，新河县已建成退役军人服务站156个，覆盖全部乡镇和行政村，累计走访慰问优抚对象3200余户。",
    "下一步，新河县将持续深化军地共建，推动双拥工作提质增效。",
)
BODY_LINES = (
    "全县双拥工作扎实推进，军民关系更加融洽。\n全县共建成退役军人服务站128个，实现全覆盖。\n"
)


def read_text_article(tmp_path, text: str, name: str = "article.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    article = read_article(path, tmp_path)
    return article, [p.text for p in split_article(article, 0)]


def shown(article) -> list[str]:
    """What a user can be shown of an article: passages and their headings."""
    passages = split_article(article, 0)
    return [p.text for p in passages] + [p.heading for p in passages if p.heading]


@pytest.mark.parametrize("layout", ["pinglun-box", "comment", "article-comments", "box"])
def test_html_reader_comments_are_not_passages(tmp_path, layout):
    page = (PAGES / XINHE).read_text(encoding="utf-8").replace("pinglun-box", layout)
    article, texts = read_text_article(tmp_path, page, "page.html")
    assert [t for t in texts if "：" not in t] == list(XINHE_TEXT)
    for comment in ("500个", "1亿元", "新河老兵", "路人甲", "网友评论", "发表评论", "说两句"):
        assert not any(comment in t for t in shown(article)), comment
    assert article.date == "2023-05-01"  # the article's date, not a comment's


def test_text_reader_comments_are_not_passages_nor_dates(tmp_path):
    article, texts = read_text_article(
        tmp_path,
        "青山县双拥工作综述\n"
        + BODY_LINES
        + "网友评论\n网友小明 2023-09-12 12:00\n听说全县其实建成了500个服务站，比报道多得多。\n"
        "青山人 2023-09-12 13:05\n为家乡点赞！\n发表评论\n",
    )
    assert texts == BODY_LINES.split()
    assert article.date is None


def test_html_page_metadata_with_full_width_and_no_break_spaces(tmp_path):
    article, texts = read_text_article(
        tmp_path, (PAGES / XINHE).read_text(encoding="utf-8"), "page.html"
    )
    assert article.title == "新河县双拥工作再上新台阶"  # `<title>标题：… | 新河网`
    assert (article.source, article.author, article.date) == ("新河日报", "赵明", "2023-05-01")
    assert not any("来" in t and "源" in t or "作者" in t or "赵明" in t for t in texts)


@pytest.mark.parametrize(
    ("lines", "source", "author", "date"),
    [
        ("来源：\u3000新华网", "新华网", None, None),
        ("作者:\u00a0张三", None, "张三", None),
        (
            "来源：人民日报\u3000\u3000作者：李四\u3000\u30002023-05-01",
            "人民日报",
            "李四",
            "2023-05-01",
        ),
        ("来\u3000源：新华网\n作\u3000者：张三", "新华网", "张三", None),
        ("来源：&nbsp;新华网\u3000\u3000作者：&#12288;张三", "新华网", "张三", None),
        ("【来源：《人民日报》】", "人民日报", None, None),
        (
            "作者：张三\u3000来源：新华网\u3000时间：2023-05-01\u3000浏览次数：1234",
            "新华网",
            "张三",
            "2023-05-01",
        ),
        (
            "来源：人民日报" + "\u3000" * 40 + "作者：李四" + "\u3000" * 40 + "2023-05-01",
            "人民日报",
            "李四",
            "2023-05-01",
        ),
    ],
)
def test_spaced_source_and_author_lines_are_metadata(tmp_path, lines, source, author, date):
    article, texts = read_text_article(tmp_path, f"青山县双拥工作综述\n{lines}\n{BODY_LINES}")
    assert (article.source, article.author, article.date) == (source, author, date)
    assert texts == BODY_LINES.split()
    assert article.title == "青山县双拥工作综述"


def test_table_rows_read_as_text_and_link_bars_go(tmp_path):
    article, texts = read_text_article(
        tmp_path,
        "青山县双拥工作综述\n首页 | 新闻 | 体育\n首页｜要闻｜专题｜\n"
        + BODY_LINES
        + "| 地区 | 服务站 | 资金 |\n|:---|---:|---|\n| 东城镇 | 12个 | 300万元 |\n"
        "| 西城镇 | 9个 | 210万元 |\n\n| 指标 | 数值 |\n| --- | --- |\n| 示范店 | 63家 |\n"
        "| 工作内容 | 开展走访慰问，覆盖全部优抚对象 |\n",
    )
    assert texts[:2] == BODY_LINES.split()
    joined = "\n".join(shown(article))
    assert "东城镇：服务站 12个，资金 300万元。" in joined
    assert "示范店：63家。" in joined
    assert "工作内容：开展走访慰问，覆盖全部优抚对象。" in joined
    for furniture in ("|", "｜", "首页", "体育", "---", "指标"):
        assert furniture not in joined, furniture


def test_html_table_figures_are_kept_as_text(tmp_path):
    _, texts = read_text_article(tmp_path, (PAGES / XINHE).read_text(encoding="utf-8"), "page.html")
    assert "拥军优属资金：4500万元。" in texts and "拥军优属示范店：87家。" in texts
    assert not any("|" in t or "首页" in t or "指标" in t for t in texts)


@pytest.mark.parametrize(
    "editor",
    [
        "[责任编辑：王五]",
        "【责任编辑：王五】",
        "（责任编辑：王五）",
        "责任编辑 王五",
        "(编辑:王五 审核:赵六)",
    ],
)
@pytest.mark.parametrize("inline", [False, True], ids=["own-line", "paragraph-end"])
def test_editor_lines_are_dropped_and_name_nobody(tmp_path, editor, inline):
    body = BODY_LINES.rstrip("\n") + ("" if inline else "\n") + editor + "\n"
    article, texts = read_text_article(tmp_path, "青山县双拥工作综述\n" + body)
    assert texts == BODY_LINES.split()
    assert article.source is None and article.author is None


@pytest.mark.parametrize(
    "front",
    [
        "title: 青山县双拥工作综述\ndate: 2023-05-01\nsource: 青山日报\nauthor: 张三",
        "title: \"青山县双拥工作综述\"\ndate: '2023-05-01'\nsource: 青山日报\nauthor: 张三\ntags:\n  - 双拥\n  - 拥军",
        "标题：青山县双拥工作综述\n日期: 2023年5月1日\n来源：青山日报\n作者：张三",
    ],
    ids=["english", "quoted-and-list", "chinese-keys"],
)
def test_markdown_front_matter_is_metadata(tmp_path, front):
    article, texts = read_text_article(
        tmp_path, f"---\n{front}\n---\n\n# 青山县双拥工作综述\n\n{BODY_LINES}", "note.md"
    )
    assert article.title == "青山县双拥工作综述"
    assert (article.date, article.source, article.author) == ("2023-05-01", "青山日报", "张三")
    assert texts == BODY_LINES.split()
    for front_matter in (":", "---", "title", "标题", "青山日报", "张三", "2023"):
        assert not any(front_matter in t for t in shown(article)), front_matter


def test_markdown_rules_around_text_are_not_front_matter(tmp_path):
    article, texts = read_text_article(
        tmp_path, "---\n\n全县双拥工作扎实推进。\n\n---\n\n全县建成服务站128个。\n", "note.md"
    )
    assert texts == ["全县双拥工作扎实推进。", "全县建成服务站128个。"]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("标题：青山县双拥工作综述\n", "a.txt"),
        ("标题:青山县双拥工作综述\n", "a.txt"),
        ("**标题：** 青山县双拥工作综述\n\n**来源：** 青山日报\n\n", "a.md"),
        ("青山新闻网\n标题：青山县双拥工作综述\n", "a.txt"),
    ],
)
def test_title_label_is_not_part_of_the_title(tmp_path, text, name):
    article, texts = read_text_article(tmp_path, text + BODY_LINES, name)
    assert article.title == "青山县双拥工作综述"
    assert not any("标题" in t for t in shown(article))


@pytest.mark.parametrize(
    ("lines", "date", "source"),
    [
        ("栏目：要闻", None, None),
        ("遵义日报 2023年12月5日 第01版", "2023-12-05", "遵义日报"),
        ("2023年12月05日 星期二 第A3版", "2023-12-05", None),
        (
            "《中国退役军人报》 2023年12月05日 星期二 第03版：要闻\n栏目：双拥",
            "2023-12-05",
            "中国退役军人报",
        ),
        ("所属频道：本地新闻\u3000\u3000关键词：双拥 拥军", None, None),
    ],
)
def test_column_and_newspaper_dateline_are_metadata_not_headings(tmp_path, lines, date, source):
    article, texts = read_text_article(tmp_path, f"青山县双拥工作综述\n{lines}\n{BODY_LINES}")
    assert (article.date, article.source) == (date, source)
    assert texts == BODY_LINES.split()
    assert [p.heading for p in split_article(article, 0)] == [None, None]


@pytest.mark.parametrize("line", ["推出5版新方案", "周一例会制度", "青山日报开展双拥宣传"])
def test_headings_that_look_a_little_like_datelines_stay(tmp_path, line):
    article, _ = read_text_article(
        tmp_path, f"青山县双拥工作综述\n{BODY_LINES}{line}\n全县新建服务站12个。\n"
    )
    assert line in [b.text for b in article.blocks if b.heading]


@pytest.mark.parametrize(
    "crumb", ["九江新聞網 首頁 > 本地新聞", "湘潭大学新闻网 > 综合新闻", "您的位置：首页＞要闻"]
)
def test_a_breadcrumb_with_one_arrow_is_not_the_title(crumb: str) -> None:
    article = parse_text(
        f"{crumb}\n九江市举行长江防汛抢险综合演练\n2024年06月06日 来源：九江日报\n\n"
        "6月5日，九江市在长江大堤举行防汛抢险综合演练，参演人员860余人。\n",
        "jiujiang.txt",
    )
    assert article.title == "九江市举行长江防汛抢险综合演练"
    assert all(crumb not in block.text for block in article.blocks)


# ------------------------------------------------------------------ the article's address


def page_with_head(head: str) -> str:
    """The Qingshan news page with `head` added to its head (what it states of itself)."""
    return NEWS_PAGE.replace("</head>", f"{head}\n</head>", 1)


@pytest.mark.parametrize(
    ("head", "url"),
    [
        (
            '<link rel="canonical" href="https://www.qingshan.gov.cn/xw/2023/0912/1.shtml">',
            "https://www.qingshan.gov.cn/xw/2023/0912/1.shtml",
        ),
        (
            '<meta property="og:url" content="http://news.qingshan.cn/a?id=7&amp;p=1">',
            "http://news.qingshan.cn/a?id=7&p=1",
        ),
        # the canonical link wins over og:url, wherever each stands in the head
        (
            '<meta property="og:url" content="https://m.qingshan.cn/1.html">\n'
            '<LINK REL="Canonical" HREF="https://www.qingshan.cn/1.html">',
            "https://www.qingshan.cn/1.html",
        ),
        # a canonical that is no address gives way to og:url
        (
            '<link rel="canonical" href="/xw/1.shtml">\n'
            '<meta property="og:url" content="https://www.qingshan.cn/xw/1.shtml">',
            "https://www.qingshan.cn/xw/1.shtml",
        ),
    ],
    ids=["canonical", "og-url", "canonical-over-og-url", "relative-canonical-then-og-url"],
)
def test_html_page_keeps_its_stated_address(tmp_path, head, url):
    path = tmp_path / "qingshan.html"
    path.write_text(page_with_head(head), encoding="utf-8")
    article = read_article(path, tmp_path)
    assert article.url == url
    assert article.title == "青山县召开拥军优属工作座谈会"  # the page reads as before


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(document.cookie)",
        "/news/2023/qingshan.shtml",
        "qingshan.shtml",
        "//www.qingshan.cn/1.html",
        "mailto:editor@qingshan.cn",
        "ftp://qingshan.cn/1.html",
        "https://",
        "https://www.qingshan.cn/a b.html",
        "",
    ],
)
def test_an_address_that_is_not_an_absolute_http_url_is_ignored(tmp_path, href):
    path = tmp_path / "qingshan.html"
    path.write_text(
        page_with_head(
            f'<link rel="canonical" href="{href}"><meta property="og:url" content="{href}">'
        ),
        encoding="utf-8",
    )
    assert read_article(path, tmp_path).url is None
    note = tmp_path / "note.md"
    note.write_text(
        f"---\ntitle: 青山县双拥工作综述\nurl: {href}\n---\n\n{BODY_LINES}", encoding="utf-8"
    )
    assert read_article(note, tmp_path).url is None


@pytest.mark.parametrize(
    ("front", "name"),
    [
        ("url: https://www.qingshan.cn/xw/1.html", "note.md"),
        ('title: 青山县双拥工作综述\nurl: "https://www.qingshan.cn/xw/1.html"', "note.txt"),
        ("来源：青山日报\n原文链接：https://www.qingshan.cn/xw/1.html", "note.markdown"),
    ],
)
def test_front_matter_url_is_the_address_and_not_text(tmp_path, front, name):
    article, texts = read_text_article(tmp_path, f"---\n{front}\n---\n\n{BODY_LINES}", name)
    assert article.url == "https://www.qingshan.cn/xw/1.html"
    assert texts == BODY_LINES.split()
    assert not any("qingshan.cn" in t for t in shown(article))


def test_seed_articles_and_pages_without_an_address_have_none(seeds, news_page):
    assert all(article.url is None for article, _ in seeds.values())
    assert news_page[0].url is None
