"""Turn scraped article files (.txt, .md, .html in UTF-8, GBK/GB18030 or Big5) into clean `Article`s.

Reading: the encoding is detected (UTF-8 first, then charset-normalizer), HTML bodies and
metadata come from trafilatura. Cleaning: site navigation, share buttons, editor lines,
"related news" and comment boxes are dropped, repeated paragraphs kept once, pinyin glosses
such as `双拥(shuāngyōng)` removed while real parentheticals like `(县)` stay. Title, date,
source and author are taken from where the page states them.
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

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
        raise UnreadableFile("unknown text encoding")
    # In detector order, the first guess that reads as text. Short GBK/Big5 texts are often
    # guessed as BOM-less UTF-16 or Shift-JIS (half-width katakana), which are never right here.
    for match in results:
        if match.encoding.startswith(("utf_16", "utf_32")):
            continue  # UTF-16/32 files carry a BOM (handled above)
        text = str(match)
        if not _looks_garbled(text):
            return text
    raise UnreadableFile(f"undecodable text (best guess {best.encoding})")


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
        raise UnreadableFile(f"too large ({size // (1024 * 1024)} MB > {MAX_FILE_BYTES // (1024 * 1024)} MB)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"cannot read: {exc.strerror or exc}") from exc
    text = decode_bytes(data)
    relative = path.relative_to(data_dir).as_posix() if path.is_relative_to(data_dir) else path.name
    if suffix in HTML_SUFFIXES or _looks_like_html(text):
        article = parse_html(text, relative)
    elif suffix in {".md", ".markdown"}:
        article = parse_text(markdown_to_text(text), relative)
    else:
        article = parse_text(text, relative)
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


def _looks_like_html(text: str) -> bool:
    head = text[:2000].lower()
    return "<html" in head or "<!doctype html" in head or ("<body" in head and "</" in head)


def parse_html(html: str, path: str) -> Article:
    """Extract body and metadata with trafilatura, then clean the body like plain text."""
    import trafilatura  # imported here: it is slow to import and only HTML needs it

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
    return article


def _stated_metadata(html: str, article: Article) -> _Meta:
    """Source, author and date from the page's own header lines (`来源：… 作者：…`), which the
    extractor leaves out of the body: the page's lines before the article's first paragraph."""
    stated = _Meta()
    first = _key(article.paragraphs[0])[:12] if article.paragraphs else ""
    for raw in _strip_tags(html).splitlines():
        line = raw.replace("\u3000", " ").replace("\xa0", " ").strip()
        if first and first in _key(line):
            break
        if line:
            _take_metadata(line, stated)
    return stated


def _clean_html_title(title: str | None) -> str | None:
    if not title:
        return None
    # "Headline - Site name" / "Headline_Site": keep the headline
    title = re.split(r"\s+[-|–—_]\s+|_", title.strip())[0].strip()
    return title or None


def _strip_tags(html: str) -> str:
    from lxml import html as lxml_html

    try:
        tree = lxml_html.fromstring(html)
    except Exception:  # noqa: BLE001 - lxml raises several unrelated types on junk
        return ""
    for bad in tree.xpath("//script|//style|//nav|//footer|//header"):
        bad.drop_tree()
    return tree.text_content()


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
CLOSERS = "”」』\"’）)》"
_PINYIN_LETTERS = "a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ"
_TONE_MARKS = set("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ")
PINYIN_GLOSS_RE = re.compile(rf"(?<=[\u4e00-\u9fff])[(（]([{_PINYIN_LETTERS}'’ ]{{1,60}})[)）]")
BOILERPLATE_RE = re.compile(
    r"^[【\[（(]?\s*(您?当前(的)?位置|所在位置|首页\s*[>»]|分享到|分享至|关闭(窗口|本页)?$|"
    r"【?\s*大\s*中\s*小|上一篇|下一篇|最新相关|"
    r"热点推荐|推荐阅读|延伸阅读|评论列表|暂无评论|发表评论|网友评论|我要评论|"
    r"版权所有|copyright|©|.*icp备|返回(顶部|首页)|"
    r"(责任)?编辑\s*[:：]|责编\s*[:：]|审核\s*[:：]|校对\s*[:：]|监制\s*[:：]|[一二三终]审\s*[:：]|"
    r"本文来源|原标题\s*[:：]|【?纠错】?$|欢迎$|你\s*发表评论|阅读(量|数)?\s*[:：]?\s*\d*$)",
    re.IGNORECASE,
)
# Page furniture whose first word can also start a sentence of the article ("注册志愿者达...",
# "相关报道显示..."): only a line that does not end like a sentence is furniture.
NAV_WORD_RE = re.compile(
    r"^[【\[（(]?\s*(扫一扫|微信扫|打印|字号|相关(新闻|推荐|阅读|文章|链接|报道)|登录|注册|"
    r"点击(查看|进入)|收藏|举报)"
)
BREADCRUMB_RE = re.compile(r"(>>|»|\s>\s).*(>>|»|\s>\s)|^[^。，,]{0,40}(>>|»)[^。，,]{0,40}$")
SOURCE_RE = re.compile(r"(?:来源|來源|稿源|出处|出處|信息来源)\s*[:：]\s*([^\s:：|]{2,40})")
AUTHOR_RE = re.compile(
    r"(?:作者|记者|記者|撰稿|撰文|文/|文\s*[:：])\s*[:：]?\s*(?:本报|本台)?(?:记者|通讯员|特约记者)?\s*"
    r"([\u4e00-\u9fff·]{2,12}(?:\s+[\u4e00-\u9fff·]{2,4})*)"
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
    """Read date/source/author from a short header line; True when the line is only metadata."""
    if len(line) > META_LINE_MAX or _ends_sentence(line) and "来源" not in line:
        return False
    date = DATE_RE.search(line)
    source = SOURCE_RE.search(line)
    author = AUTHOR_RE.search(line)
    if not (date or source or author):
        return False
    leftover = line
    for match in (date, source, author):
        if match:
            leftover = leftover.replace(match.group(0), " ")
    leftover = re.sub(r"(发布|发表|更新)?(时间|日期)\s*[:：]?|来源|作者|记者|[\s:：|/,，]", "", leftover)
    if len(leftover) > (12 if source or author else 6):
        return False  # a real sentence that happens to mention a date
    if date and not meta.date:
        meta.date = f"{int(date['y']):04d}-{int(date['m']):02d}-{int(date['d']):02d}"
    if source and not meta.source:
        meta.source = source.group(1)
    if author and not meta.author:
        meta.author = author.group(1).strip()
    return True


def _take_credit(line: str, meta: _Meta) -> str:
    """Strip a closing credit like `(新疆双拥办)` or `(某某中心记者 张三` from a paragraph."""
    match = CREDIT_RE.search(line)
    if not match or not _ends_sentence(line[: match.start()]):
        return line
    credit = match.group(1).strip()
    author = re.search(r"(?:记者|通讯员|作者)\s*([\u4e00-\u9fff·]{2,4}(?:\s+[\u4e00-\u9fff·]{2,4})*)", credit)
    if author:
        meta.author = meta.author or author.group(1)
        organisation = credit[: author.start()].strip()
        if organisation and not meta.source:
            meta.source = organisation
    elif credit != "完" and not meta.source:
        meta.source = credit
    return line[: match.start()].rstrip()


def parse_text(text: str, path: str, title: str | None = None) -> Article:
    """Clean a plain-text page into an `Article` (see the module docstring for what is dropped)."""
    meta = _Meta()
    lines = []
    for raw in text.splitlines():
        line = raw.replace("\u3000", " ").replace("\xa0", " ").strip()
        if not line or _is_boilerplate(line) or _is_blob(line):
            continue
        line = strip_pinyin_glosses(line)
        if _take_metadata(line, meta):
            continue
        lines.append(line)

    if title is None and lines:
        first = lines[0]
        if len(first) <= 80 and not first.endswith(("。", "！", "？", ".")):
            title = first
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
        path=path, title=title, blocks=blocks, date=meta.date, source=meta.source, author=meta.author
    )
