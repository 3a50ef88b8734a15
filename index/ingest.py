"""Turn scraped article files (.txt, .md, .html in UTF-8, GBK/GB18030 or Big5) into clean `Article`s.

Reading: the encoding is detected (UTF-8 first, then charset-normalizer), HTML bodies and
metadata come from trafilatura (after the page's reader comments are cut out), Markdown and
text front matter (`---` `title: …` `---`) gives metadata. Cleaning: site navigation (also
`首页 | 新闻` link bars), share buttons, editor lines (`【责任编辑：王五】`, also at a paragraph's
end), "related news" and reader comments are dropped, table rows read as text (`服务站：128个。`),
repeated paragraphs kept once, pinyin glosses such as `双拥(shuāngyōng)` removed while real
parentheticals like `(县)` stay. Title, date, source and author are taken from where the page
states them (header lines however spaced, `标题：` labels, newspaper datelines such as
`遵义日报 2023年12月5日 第01版`, `栏目：` lines). The article's address, for people to open,
is the page's `<link rel="canonical">`, else its `<meta property="og:url">`, or a text file's
front matter `url:`; only absolute http(s) URLs are kept (`index.urls.web_url`).
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from charset_normalizer import from_bytes

from index.urls import web_url

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml", ".shtml"}
ARTICLE_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES
MAX_FILE_BYTES = 20 * 1024 * 1024


class UnreadableFile(Exception):
    """A file that cannot be used as an article; the message says why in a few words."""


@dataclass
class Block:
    """A paragraph of the article body, or a section heading."""

    text: str
    heading: bool = False


@dataclass
class Article:
    """One cleaned article: metadata and body blocks, text as the article wrote it."""

    path: str
    title: str
    blocks: list[Block]
    date: str | None = None
    source: str | None = None
    author: str | None = None
    url: str | None = None  # where people can read it: an absolute http(s) URL, or None

    @property
    def paragraphs(self) -> list[str]:
        return [b.text for b in self.blocks if not b.heading]


# ---------------------------------------------------------------- reading and decoding


def decode_bytes(data: bytes) -> str:
    """Decode article bytes: UTF-8 (with or without BOM), else the detected legacy encoding."""
    if not data.strip():
        raise UnreadableFile("empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise UnreadableFile("undecodable UTF-16") from exc
    if b"\x00" in data[:8192]:
        raise UnreadableFile("binary file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    results = from_bytes(data)
    best = results.best()
    if best is None:
        return _decode_chinese_legacy(data)
    # In detector order, the first guess that reads as text. Short GBK/Big5 texts are often
    # guessed as BOM-less UTF-16 or Shift-JIS (half-width katakana), which are never right here.
    for match in results:
        if match.encoding.startswith(("utf_16", "utf_32")):
            continue  # UTF-16/32 files carry a BOM (handled above)
        text = str(match)
        if not _looks_garbled(text):
            return text
    raise UnreadableFile(f"undecodable text (best guess {best.encoding})")


LEGACY_CHINESE = ("gb18030", "big5hkscs")


def _decode_chinese_legacy(data: bytes) -> str:
    """What the detector gave up on: a GB18030 file with four-byte characters (⼈, ⾦), or a
    Big5-HKSCS one; the first of them that decodes strictly and reads as text."""
    for encoding in LEGACY_CHINESE:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not _looks_garbled(text):
            return text
    raise UnreadableFile("unknown text encoding")


def _looks_garbled(text: str) -> bool:
    sample = text[:20000]
    if not sample:
        return True
    bad = sum(
        1
        for c in sample
        if c == "\ufffd"
        or "\uff61" <= c <= "\uff9f"  # half-width katakana: Big5/GBK bytes read as Shift-JIS
        or (unicodedata.category(c) in {"Cc", "Co", "Cs"} and c not in "\n\r\t\f")
    )
    return bad / len(sample) > 0.02


def read_article(path: Path, data_dir: Path) -> Article:
    """Read and clean one file; raises `UnreadableFile` with a short reason."""
    suffix = path.suffix.lower()
    if suffix not in ARTICLE_SUFFIXES:
        raise UnreadableFile(f"not an article file ({suffix or 'no extension'})")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise UnreadableFile(
            f"too large ({size // (1024 * 1024)} MB > {MAX_FILE_BYTES // (1024 * 1024)} MB)"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"cannot read: {exc.strerror or exc}") from exc
    text = decode_bytes(data)
    relative = path.relative_to(data_dir).as_posix() if path.is_relative_to(data_dir) else path.name
    if suffix in HTML_SUFFIXES or _looks_like_html(text):
        article = parse_html(text, relative)
    else:
        front, text = split_front_matter(text)
        if suffix in {".md", ".markdown"}:
            text = markdown_to_text(text)
        article = parse_text(text, relative, title=front.get("title"))
        article.date = front.get("date") or article.date
        article.source = front.get("source") or article.source
        article.author = front.get("author") or article.author
        article.url = front.get("url")
    if not article.paragraphs:
        raise UnreadableFile("no article text found")
    return article


def iter_article_files(data_dir: Path) -> Iterator[Path]:
    """Everything but folders under `data_dir` (files, symbolic links, pipes, ...: the build
    says why it skips what is not a regular file), recursively, in path order; hidden files
    and folders skipped, linked folders not entered, folders that cannot be listed passed over.

    The walk keeps its own stack (no recursion), so folders nested thousands deep are fine.
    """
    found: list[tuple[str, ...]] = []
    pending: list[tuple[str, ...]] = [()]
    while pending:
        parts = pending.pop()
        try:
            with os.scandir(data_dir.joinpath(*parts)) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    child = (*parts, entry.name)
                    try:
                        folder = entry.is_dir(follow_symlinks=False)
                    except OSError:
                        continue
                    (pending if folder else found).append(child)
        except OSError:
            continue
    for parts in sorted(found):
        yield data_dir.joinpath(*parts)


# ---------------------------------------------------------------- HTML and Markdown


MAX_HEAD_CHARS = 200_000  # how much of a page is searched for its address (heads are far shorter)
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def _looks_like_html(text: str) -> bool:
    head = text[:2000].lower()
    return "<html" in head or "<!doctype html" in head or ("<body" in head and "</" in head)


def parse_html(html: str, path: str) -> Article:
    """Extract body and metadata with trafilatura, then clean the body like plain text."""
    import trafilatura  # imported here: it is slow to import and only HTML needs it

    url = page_url(html)
    html = _drop_comment_sections(html)
    document = trafilatura.bare_extraction(
        html, with_metadata=True, include_comments=False, include_tables=True, favor_precision=True
    )
    meta = document.as_dict() if hasattr(document, "as_dict") else (document or {})
    body = meta.get("text") or ""
    if not body.strip():
        body = _strip_tags(html)
    article = parse_text(body, path, title=_clean_html_title(meta.get("title")))
    stated = _stated_metadata(html, article)
    article.date = article.date or (meta.get("date") or None) or stated.date
    article.author = article.author or stated.author or (meta.get("author") or None)
    article.source = article.source or stated.source or (meta.get("sitename") or None)
    article.url = url
    return article


class _PageAddress(HTMLParser):
    """Reads a page's head for its canonical link and `og:url`; stops at the body."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.canonical: str | None = None
        self.og_url: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            raise _HeadRead
        values = {name: value or "" for name, value in attrs}
        if tag == "link" and "canonical" in values.get("rel", "").lower().split():
            self.canonical = self.canonical or web_url(values.get("href"))
        elif tag == "meta" and values.get("property", values.get("name", "")).lower() == "og:url":
            self.og_url = self.og_url or web_url(values.get("content"))
        if self.canonical:
            raise _HeadRead

    handle_startendtag = handle_starttag


class _HeadRead(Exception):
    """Raised by `_PageAddress` when it has read what it needs."""


def page_url(html: str) -> str | None:
    """The page's own address: the first absolute http(s) `<link rel="canonical" href>`, else
    the first `<meta property="og:url" content>`; None when it states neither (a relative,
    `javascript:` or other link is no address). Only the head is read."""
    reader = _PageAddress()
    try:
        reader.feed(html[:MAX_HEAD_CHARS])
        reader.close()
    except _HeadRead:
        pass
    except Exception:  # noqa: BLE001 - html.parser on junk markup: no address, not no article
        log.debug("cannot read the page's address", exc_info=True)
    return reader.canonical or reader.og_url


def _stated_metadata(html: str, article: Article) -> _Meta:
    """Source, author and date from the page's own header lines (`来源：… 作者：…`), which the
    extractor leaves out of the body: the page's lines before the article's first paragraph."""
    stated = _Meta()
    first = _key(article.paragraphs[0])[:12] if article.paragraphs else ""
    for raw in _strip_tags(html).splitlines():
        line = _clean_line(raw)
        if first and first in _key(line):
            break
        if line:
            _take_metadata(line, stated)
    return stated


def _clean_html_title(title: str | None) -> str | None:
    if not title:
        return None
    # "Headline - Site name" / "Headline_Site": keep the headline
    title = re.split(r"\s+[-|–—_]\s+|_", _clean_title(title))[0].strip()
    return title or None


def _clean_title(title: str) -> str:
    """A title without a `标题：` label in front of it."""
    title = _clean_line(title)
    match = TITLE_LABEL_RE.match(title)
    return (title[match.end() :] if match else title).strip()


# A comment section's own heading: a whole line saying "comments" (with a count at most).
COMMENT_HEADER_RE = re.compile(
    r"[【\[（(]?\s*(?:(?:网友|读者|用户|最新|热门|全部|精彩|精选|相关)(?:评论|留言|跟帖)|"
    r"(?:评论|留言|跟帖)(?:列表|区)|(?:发表|我要|我来)(?:评论|留言|跟帖)|我来说两句|"
    r"(?:评论|留言|跟帖)\s*[（(]\s*\d{0,7}\s*[）)]|(?:共|已有)\s*\d{1,7}\s*(?:条|人)(?:评论|留言|参与|跟帖))"
    r"\s*[】\]）):：]?"
)
# The unambiguous ones, which head a section of a page (not buttons such as 发表评论).
COMMENT_SECTION_RE = re.compile(
    r"[【\[]?\s*(?:(?:网友|读者|用户|最新|热门|全部|精彩|精选)(?:评论|留言|跟帖)|"
    r"(?:评论|留言|跟帖)(?:列表|区)|(?:共|已有)\s*\d{1,7}\s*(?:条|人)(?:评论|留言|跟帖))"
    r"\s*(?:[（(]\s*\d{0,7}\s*[）)])?\s*[】\]:：]?"
)
# class/id names of comment widgets: comment-list, articleComments, pinglun, cmt_box, reply ...
COMMENT_ATTR_RE = re.compile(
    r"(?:^|[-_\s]|(?<=[a-z])(?=[A-Z]))(?:[Cc]omments?|COMMENTS?|[Pp]ing[Ll]un|[Cc]mts?|"
    r"[Rr]eply|[Rr]eplies|[Gg]uestbook|[Ll]iuyan|[Gg]entie)(?=[-_\s\dA-Z]|$)"
)
_INTERACTIVE_TAGS = {"a", "button", "input", "textarea", "label", "option", "select", "form"}
_KEEP_TAGS = {"html", "body", "main", "article", "h1"}


def _drop_comment_sections(html: str) -> str:
    """The page without its reader comments: widgets whose class or id says comment, and
    everything after a "网友评论"/"评论列表" heading in that heading's container. A part
    holding the headline (h1) or most of the page's text is never dropped."""
    if not re.search(
        r"comment|pinglun|cmt|reply|replies|guestbook|liuyan|gentie|评论|留言|跟帖", html, re.I
    ):
        return html
    from lxml import etree
    from lxml import html as lxml_html

    try:
        tree = lxml_html.fromstring(_xml_safe(html))
    except Exception:  # noqa: BLE001 - lxml raises several unrelated types on junk
        return html
    if not isinstance(tree.tag, str):
        return html
    total = len(tree.text_content())

    def droppable(element) -> bool:
        if element.tag in _KEEP_TAGS or element.getparent() is None:
            return False
        if any(True for _ in element.iter(*_KEEP_TAGS - {"html", "body"})):
            return False
        return len(element.text_content()) * 2 < total or total < 200

    doomed = []
    cut = set()  # containers already cut after a heading, and what was cut
    pending = [tree]
    while pending:  # document order; a dropped part's insides are not looked at
        element = pending.pop()
        if not isinstance(element.tag, str) or element in cut:
            continue
        names = f"{element.get('class', '')} {element.get('id', '')}"
        if COMMENT_ATTR_RE.search(names) and droppable(element):
            doomed.append(element)
            continue
        pending.extend(reversed(element))
        own = element.text or ""
        if element.tag in _INTERACTIVE_TAGS or not re.search("评论|留言|跟帖", own):
            continue
        text = _clean_line(element.text_content())
        if len(text) > 20 or not COMMENT_SECTION_RE.fullmatch(text):
            continue
        # the heading's outermost element that says nothing else, then what follows it
        parent = element.getparent()
        while (
            parent is not None
            and parent.getparent() is not None
            and element.getprevious() is None  # the heading is all its parent holds
            and element.getnext() is None
            and not _clean_line(parent.text or "")
            and not _clean_line(element.tail or "")
        ):
            element, parent = parent, parent.getparent()
        if parent in cut:
            continue  # one cut per container (each is checked once: no quadratic pages)
        cut.add(parent)
        section = [element, *element.itersiblings()]
        if all(droppable(part) for part in section):
            doomed.extend(section)
            cut.update(section)
    if not doomed:
        return html
    try:
        for element in doomed:
            if element.getparent() is not None:
                element.drop_tree()
        return etree.tostring(tree, encoding="unicode", method="html")
    except Exception:  # noqa: BLE001 - as above
        return html


def _strip_tags(html: str) -> str:
    from lxml import html as lxml_html

    try:
        tree = lxml_html.fromstring(_xml_safe(html))
        for bad in tree.xpath("//script|//style|//nav|//footer|//header"):
            bad.drop_tree()
        return tree.text_content()
    except Exception:  # noqa: BLE001 - lxml raises several unrelated types on junk
        return ""


def _xml_safe(html: str) -> str:
    """Without the control characters lxml refuses in text (it fails on them mid-tree)."""
    return CONTROL_RE.sub("", html)


def markdown_to_text(text: str) -> str:
    """Plain text of Markdown: headings, emphasis, links and images reduced to their words."""
    # Patterns stay within a line and bounded, so no input makes them quadratic.
    text = re.sub(r"^[ \t]*(-{3,}|\*{3,}|_{3,})[ \t]*$", "", text, flags=re.MULTILINE)
    # link definitions ("[1]: url")
    text = re.sub(r"^[ \t]{0,3}\[[^\]\n]{1,200}\]:[ \t]*\S.*$", "", text, flags=re.MULTILINE)
    text = re.sub(r"!\[[^\[\]\n]{0,500}\](\([^()\n]{0,2000}\)|\[[^\[\]\n]{0,200}\])", "", text)
    text = re.sub(r"\[([^\[\]\n]{0,500})\](\([^()\n]{0,2000}\)|\[[^\[\]\n]{0,200}\])", r"\1", text)
    text = re.sub(
        r"^[ \t]{0,3}#{1,6}[ \t]*(.*?)([ \t]+#+)?[ \t]*$", r"\1", text, flags=re.MULTILINE
    )
    text = re.sub(r"^[ \t]{0,3}>[ \t]?", "", text, flags=re.MULTILINE)
    text = re.sub(r"^[ \t]*[-*+][ \t]+", "", text, flags=re.MULTILINE)
    text = re.sub(r"(\*\*|__|`)", "", text)
    text = re.sub(r"\*(?=\S)([^*\n]*?\S)\*", r"\1", text)  # *emphasis*
    return text


# ---------------------------------------------------------------- cleaning plain text

SENTENCE_END = "。！？!?…；;."
CLOSERS = '”」』"’）)》'
_PINYIN_LETTERS = "a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ"
_TONE_MARKS = set("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ")
PINYIN_GLOSS_RE = re.compile(rf"(?<=[\u4e00-\u9fff])[(（]([{_PINYIN_LETTERS}'’ ]{{1,60}})[)）]")
BOILERPLATE_RE = re.compile(
    r"^[【\[（(]?\s*(您?当前(的)?位置|所在位置|首页\s*[>»]|分享到|分享至|关闭(窗口|本页)?$|"
    r"【?\s*大\s*中\s*小|上一篇|下一篇|最新相关|"
    r"热点推荐|推荐阅读|延伸阅读|评论列表|暂无评论|发表评论|网友评论|我要评论|"
    r"版权所有|copyright|©|.*icp备|返回(顶部|首页)|"
    r"责任编辑|(责任)?编辑\s*[:：]|责编\s*[:：]?|审核\s*[:：]|校对\s*[:：]|监制\s*[:：]|[一二三终]审\s*[:：]|"
    r"本文来源|原标题\s*[:：]|【?纠错】?$|欢迎$|你\s*发表评论|阅读(量|数)?\s*[:：]?\s*\d*$)",
    re.IGNORECASE,
)
# Page furniture whose first word can also start a sentence of the article ("注册志愿者达...",
# "相关报道显示..."): only a line that does not end like a sentence is furniture.
NAV_WORD_RE = re.compile(
    r"^[【\[（(]?\s*(扫一扫|微信扫|打印|字号|相关(新闻|推荐|阅读|文章|链接|报道)|登录|注册|"
    r"点击(查看|进入)|收藏|举报)"
)
BREADCRUMB_RE = re.compile(
    r"(>>|»|\s>\s).*(>>|»|\s>\s)|^[^。，,]{0,40}(>>|»)[^。，,]{0,40}$"
    # one ">" after a site's name: "九江新聞網 首頁 > 本地新聞", "湘潭大学新闻网 > 综合新闻"
    r"|^(?=[^。，,]*(?:首页|首頁|位置|网|網|频道|頻道))[^。，,]{0,40}\s?[>＞]\s?[^。，,]{0,20}$"
)
# Label words of a page's header lines; a name list stops at the next label.
META_LABELS = (
    r"来源|來源|稿源|出处|出處|作者|记者|記者|编辑|責任|责任|审核|校对|发布|發布|时间|時間|日期|"
    r"栏目|欄目|频道|頻道|版面|浏览|瀏覽|点击|點擊|阅读|閱讀|字号|字號|摄影|攝影"
)
SOURCE_RE = re.compile(
    r"(?:来源|來源|稿源|出处|出處)\s*(?:[:：]\s*|\s)\s*《?([^\s:：|【】\[\]（）()《》]{2,40})》?"
)
AUTHOR_RE = re.compile(
    r"(?:作者|记者|記者|撰稿|撰文|文/|文\s*[:：])\s*[:：]?\s*(?:本报|本台)?(?:记者|通讯员|特约记者)?\s*"
    rf"((?!{META_LABELS})[\u4e00-\u9fff·]{{2,12}}(?:\s+(?!{META_LABELS})[\u4e00-\u9fff·]{{2,4}})*)"
)
# Other header fields of a page or a newspaper's dateline: `栏目：要闻`, `星期二`, `第A3版`.
FIELD_RE = re.compile(
    r"(?:所属)?(?:栏目|欄目|频道|頻道|版面|版次|版名|分类|分類|类别|類別|关键词|关键字|關鍵詞|标签|標籤|"
    r"字数|字數|浏览次数|浏览量|瀏覽次數|点击数|点击量|點擊數|阅读量|阅读数|閱讀數|发布者|發布者)"
    r"\s*[:：]\s*[^\s:：|]{0,30}"
)
WEEKDAY_RE = re.compile(
    r"(?:星期|礼拜|禮拜|周)[一二三四五六日天]|(?:农历|農曆)[\u4e00-\u9fff]{2,8}"
)
PAGE_RE = re.compile(
    r"(?:第\s*[A-Za-z]{0,2}\s*\d{1,3}\s*版|[A-Za-z]{1,2}\s*\d{1,3}\s*版|\d{1,3}\s*版(?![\u4e00-\u9fff]))"
    r"(?:\s*[:：]\s*[\u4e00-\u9fff]{1,10})?"
)
PAPER_RE = re.compile(r"《?([\u4e00-\u9fff]{1,15}(?:报|報|刊))》?")
# Two-character labels written with a space for alignment: `来　源：`, `作　者：`.
SPACED_LABEL_RE = re.compile(r"(?<![\u4e00-\u9fff])([\u4e00-\u9fff]) +([\u4e00-\u9fff]) *(?=[:：])")
TITLE_LABEL_RE = re.compile(
    r"(?:标题|標題|题目|題目|主标题|主標題|title)\s*[:：]\s*", re.IGNORECASE
)
# An editor credit at the end of a paragraph: `……。（责任编辑：王五）`, `……。编辑：王五`.
EDITOR_WORDS = r"(?:责任编辑|責任編輯|责编|責編|编辑|編輯|审核|審核|校对|校對|监制|監製|[一二三终終]审|审校|美编)"
EDITOR_TAIL_RE = re.compile(
    rf"[【\[（(]\s*{EDITOR_WORDS}\s*[:：]?[^【】\[\]（）()]{{0,40}}[】\]）)]\s*$|"
    rf"(?<=[。！？!?”」])\s{{0,3}}(?:{EDITOR_WORDS}\s*[:：]|(?:责任编辑|責任編輯|责编|責編)\s)"
    r"\s*[^\s。，,！？]{1,20}(?:\s+[^\s。，,！？]{1,10}){0,3}$"
)
# Spaces as scraped pages write them: full-width, no-break, en/em and thin spaces, entities.
SPACE_ENTITY_RE = re.compile(r"&(?:nbsp|ensp|emsp|thinsp|#160|#xa0|#12288|#x3000);", re.IGNORECASE)
_SPACES = str.maketrans(
    {c: " " for c in "\u3000\xa0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f"}
    | {"\u200b": None, "\ufeff": None}
)
DATE_RE = re.compile(
    r"(?P<y>(?:19|20)\d{2})\s*[年\-/.]\s*(?P<m>\d{1,2})\s*[月\-/.]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*(?P<time>\d{1,2}:\d{2}(?::\d{2})?))?"
)
META_LINE_MAX = 80
HEADING_MAX = 40
CREDIT_RE = re.compile(r"[(（]([^()（）。，,！!？?]{2,40})[)）]?\s*$")
# Where a passage may be cut (the sentence and clause ends of index/passages.py). Prose pauses
# every few dozen characters; a line running this long without one is a data blob (base64,
# minified code, a table dumped on one line) that would make one giant passage.
PASSAGE_BREAK_RE = re.compile(r"[。！？!?；;…，,、：:]")
UNBROKEN_MAX = 2000


def _is_blob(line: str) -> bool:
    return len(line) > UNBROKEN_MAX and max(map(len, PASSAGE_BREAK_RE.split(line))) > UNBROKEN_MAX


def strip_pinyin_glosses(line: str) -> str:
    """Remove `(pinyin)` glosses written after Chinese words; keep other parentheticals."""

    def replace(match: re.Match[str]) -> str:
        gloss = match.group(1)
        before = line[max(0, match.start() - 8) : match.start()]
        return "" if is_pinyin_gloss(gloss, before) else match.group(0)

    return PINYIN_GLOSS_RE.sub(replace, line)


def _toneless(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.lower())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.replace("ü", "v").replace("'", "").replace("’", "").replace(" ", "")


def is_pinyin_gloss(gloss: str, before: str) -> bool:
    """True when `gloss` spells the pinyin of the Chinese characters just before it."""
    target = _toneless(gloss)
    if not target.isalpha():
        return False
    from pypinyin import Style, pinyin  # imported on first use: it costs ~0.2 s at start-up

    hanzi = re.findall(r"[\u4e00-\u9fff]", before)
    for count in range(1, min(len(hanzi), 8) + 1):
        readings = [
            {_toneless(r).replace("u:", "v") for r in options}
            for options in pinyin("".join(hanzi[-count:]), style=Style.TONE, heteronym=True)
        ]
        if _spells(target, readings):
            return True
    has_tones = any(c in _TONE_MARKS for c in gloss.lower())
    return has_tones and gloss == gloss.lower()


def _spells(target: str, readings: list[set[str]]) -> bool:
    if not readings:
        return not target
    return any(
        target.startswith(reading) and _spells(target[len(reading) :], readings[1:])
        for reading in readings[0]
    )


def _key(text: str) -> str:
    """Comparison key for duplicate detection: width-folded, without spaces or punctuation."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(c for c in folded if c.isalnum())


def _is_boilerplate(line: str) -> bool:
    if BOILERPLATE_RE.search(line) and len(line) <= 60:
        return True
    if NAV_WORD_RE.search(line) and len(line) <= 60 and not _ends_sentence(line):
        return True
    return bool(BREADCRUMB_RE.search(line)) and len(line) <= 80


def _ends_sentence(line: str) -> bool:
    """True when the line ends like a sentence (closing quotes and brackets looked through)."""
    return line.rstrip().rstrip(CLOSERS)[-1:] in SENTENCE_END


@dataclass
class _Meta:
    date: str | None = None
    source: str | None = None
    author: str | None = None


def _take_metadata(line: str, meta: _Meta) -> bool:
    """Read date/source/author from a short header line; True when the line is only metadata
    (a page's `来源：… 作者：… 日期`, `栏目：要闻`, a paper's `遵义日报 2023年12月5日 第01版`)."""
    line = " ".join(line.split())
    if len(line) > META_LINE_MAX or _ends_sentence(line) and "来源" not in line:
        return False
    line = SPACED_LABEL_RE.sub(r"\1\2", line)
    date = DATE_RE.search(line)
    source = SOURCE_RE.search(line)
    author = AUTHOR_RE.search(line)
    fields = [m.group(0) for m in FIELD_RE.finditer(line)]
    page = PAGE_RE.search(line.replace(date.group(0), " ") if date else line)
    if not (date or source or author or fields or page):
        return False
    fields += [m.group(0) for m in WEEKDAY_RE.finditer(line)]  # `星期二` beside a date
    leftover = line
    for match in (date, source, author, page):
        if match:
            leftover = leftover.replace(match.group(0), " ")
    for field in fields:
        leftover = leftover.replace(field, " ")
    leftover = re.sub(
        r"(发布|发表|更新)?(时间|日期)\s*[:：]?|来源|作者|记者|[\s:：|/,，【】\[\]（）()]",
        "",
        leftover,
    )
    # A newspaper's dateline names the paper: `遵义日报 2023年12月5日 第01版`.
    paper = PAPER_RE.fullmatch(leftover) if date and not (source or author) else None
    if paper:
        leftover = ""
    if len(leftover) > (12 if source or author else 6):
        return False  # a real sentence that happens to mention a date
    if date and not meta.date:
        meta.date = f"{int(date['y']):04d}-{int(date['m']):02d}-{int(date['d']):02d}"
    if source and not meta.source:
        meta.source = source.group(1)
    elif paper and not meta.source:
        meta.source = paper.group(1)
    if author and not meta.author:
        meta.author = author.group(1).strip()
    return True


def _take_credit(line: str, meta: _Meta) -> str:
    """Strip a closing credit like `(新疆双拥办)` or `(某某中心记者 张三` from a paragraph.
    Editor credits (`（责任编辑：王五）`) are dropped and name nobody."""
    for _ in range(3):  # `……。（编辑：王五）（审核：赵六）`
        editor = EDITOR_TAIL_RE.search(line)
        if not editor:
            break
        line = line[: editor.start()].rstrip()
    match = CREDIT_RE.search(line)
    if not match or not _ends_sentence(line[: match.start()]):
        return line
    credit = match.group(1).strip()
    author = re.search(
        r"(?:记者|通讯员|作者)\s*([\u4e00-\u9fff·]{2,4}(?:\s+[\u4e00-\u9fff·]{2,4})*)", credit
    )
    if author:
        meta.author = meta.author or author.group(1)
        organisation = credit[: author.start()].strip()
        if organisation and not meta.source:
            meta.source = organisation
    elif credit != "完" and not meta.source:
        meta.source = credit
    return line[: match.start()].rstrip()


def _clean_line(raw: str) -> str:
    """One line with the many kinds of space of scraped pages as plain spaces, stripped."""
    return SPACE_ENTITY_RE.sub(" ", raw.translate(_SPACES)).strip()


# ---------------------------------------------------------------- front matter and tables

FRONT_MATTER_KEYS = {
    "title": "title",
    "标题": "title",
    "標題": "title",
    "date": "date",
    "published": "date",
    "pubdate": "date",
    "日期": "date",
    "发布日期": "date",
    "發布日期": "date",
    "发布时间": "date",
    "時間": "date",
    "时间": "date",
    "source": "source",
    "来源": "source",
    "來源": "source",
    "author": "author",
    "作者": "author",
    "记者": "author",
    "url": "url",
    "link": "url",
    "canonical": "url",
    "链接": "url",
    "原文链接": "url",
    "網址": "url",
    "网址": "url",
}
FRONT_MATTER_LINES = 60
FRONT_MATTER_ITEM_RE = re.compile(r"([^:：\s][^:：]{0,30}?)\s*[:：]\s*(.*)")


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """A leading `---` block of `key: value` lines (YAML front matter): its title, date, source,
    author and url (English or Chinese keys), and the text after it. Text without one is returned
    as it is; nested YAML, lists and unknown keys are passed over."""
    head = text.lstrip("\ufeff \t\r\n")
    if not head.startswith("---"):
        return {}, text
    lines = head.split("\n", FRONT_MATTER_LINES + 1)
    if lines[0].strip() != "---":
        return {}, text
    found: dict[str, str] = {}
    for number, raw in enumerate(lines[1 : FRONT_MATTER_LINES + 1], start=1):
        line = raw.strip()
        if line in {"---", "..."}:
            if not found:
                break  # `---` rules around text (no known key), not front matter
            return found, "\n".join(lines[number + 1 :])
        if not line or line.startswith("#") or raw[:1] in " \t-":
            continue  # blank, comment, nested value or list item
        item = FRONT_MATTER_ITEM_RE.fullmatch(line)
        if not item:
            break  # a line of text: this `---` is a rule
        key = FRONT_MATTER_KEYS.get(item.group(1).strip().lower())
        value = _clean_line(item.group(2)).strip("\"'").strip()
        if not key or not value or key in found:
            continue
        if key == "date":
            date = DATE_RE.search(value)
            if not date:
                continue
            value = f"{int(date['y']):04d}-{int(date['m']):02d}-{int(date['d']):02d}"
        elif key == "title":
            value = _clean_title(value)
        elif key == "url":
            # quotes only when they enclose it (a URL may end in one); only an absolute
            # http(s) address is one to open
            value = _clean_line(item.group(2))
            if len(value) > 1 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            value = web_url(value)
            if not value:
                continue
        found[key] = value
    return {}, text  # no closing `---`: not front matter


TABLE_CELL_MAX = 12


def _pipe_cells(line: str) -> list[str] | None:
    """The cells of a line cut by `|` (a table row or a navigation bar), else None."""
    if "|" not in line and "｜" not in line:
        return None
    return [c.strip() for c in re.split(r"[|｜]", line) if c.strip()]


def _is_table_rule(line: str) -> bool:
    """`|---|:---:|` and the like: the rule under a Markdown table's header."""
    return "-" in line and not line.strip("|｜:-—–= \t")


def _is_link_bar(cells: list[str]) -> bool:
    """Short cells without figures or clause marks: `首页 | 新闻 | 体育`, a table's header row."""
    return all(
        len(cell) <= TABLE_CELL_MAX and not re.search(r"[\d，,。、；;！？!?]", cell)
        for cell in cells
    )


def _table_row_text(cells: list[str], header: list[str] | None) -> str:
    """A table row as a sentence: `服务站：128个。`, `青山县：服务站 128个，资金 2.3亿元。`."""
    if len(cells) == 1:
        text = cells[0]
    elif re.search(r"\d", cells[0]):
        text = "，".join(cells)
    else:
        rest = cells[1:]
        if header and len(header) == len(cells) and len(cells) > 2:
            rest = [f"{name} {cell}" for name, cell in zip(header[1:], rest, strict=True)]
        text = f"{cells[0]}：{'，'.join(rest)}"
    return text if _ends_sentence(text) else text + "。"


def _is_comment_header(line: str) -> bool:
    return len(line) <= 40 and not _ends_sentence(line) and bool(COMMENT_HEADER_RE.fullmatch(line))


def parse_text(text: str, path: str, title: str | None = None) -> Article:
    """Clean a plain-text page into an `Article` (see the module docstring for what is dropped)."""
    meta = _Meta()
    lines = []
    header: list[str] | None = None  # the header row of the table being read
    has_body = False
    for raw in text.splitlines():
        line = _clean_line(raw)
        if not line or _is_blob(line):
            continue
        if _is_comment_header(line):
            if has_body:
                break  # reader comments follow, to the end of the page
            continue
        cells = _pipe_cells(line)
        if cells is not None and line[0] in "|｜":
            # a table row: the header and rule rows are dropped, data rows read as text
            if _is_table_rule(line) or not cells:
                continue
            if _is_link_bar(cells):
                header = cells
                continue
            line = _table_row_text(cells, header)
        else:
            header = None
        if _is_boilerplate(line):
            continue
        label = TITLE_LABEL_RE.match(line)
        if label and len(line) <= 100:
            title = title or _clean_title(line) or None
            continue
        line = strip_pinyin_glosses(line)
        if _take_metadata(line, meta):
            continue
        if cells is not None and line[0] not in "|｜" and _is_link_bar(cells):
            continue  # a navigation bar: `首页 | 新闻 | 体育`
        lines.append(line)
        has_body = has_body or len(line) > HEADING_MAX or _ends_sentence(line)

    if title is None and lines:
        first = lines[0]
        if len(first) <= 80 and not first.endswith(("。", "！", "？", ".")):
            title = first
    title = _clean_title(title) if title else None
    title_key = _key(title) if title else None

    blocks: list[Block] = []
    seen: set[str] = set()
    for line in lines:
        if title_key:
            key = _key(line)
            if key == title_key:
                continue
            if key.startswith(title_key) and line.startswith(title):
                line = line[len(title) :].strip()
        line = _take_credit(line, meta)
        key = _key(line)
        if not key or key in seen:
            continue
        seen.add(key)
        heading = len(line) <= HEADING_MAX and not _ends_sentence(line)
        blocks.append(Block(line, heading=heading))

    # A page's tail after the last paragraph is navigation and widgets, not headings.
    while blocks and blocks[-1].heading:
        blocks.pop()
    if title is None:
        first = blocks[0].text if blocks else Path(path).stem
        title = re.split(r"[。！？!?，,]", first)[0][:40]
    return Article(
        path=path,
        title=title,
        blocks=blocks,
        date=meta.date,
        source=meta.source,
        author=meta.author,
    )
