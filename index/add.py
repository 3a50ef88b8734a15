"""Put a new article into the data directory: from a local file, uploaded bytes or a web link.

Names are reduced to a safe file name inside the data directory (no `../`, no leading dashes
or dots); sizes are bounded; links must be http(s) and, unless allowed, must not point at
loopback or private addresses; a page is fetched with a time-out and saved as `.html`,
carrying the link it was fetched from when it does not state its own address.
"""

from __future__ import annotations

import hashlib
import html
import ipaddress
import logging
import re
import socket
import tempfile
import time
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from index.ingest import (
    ARTICLE_SUFFIXES,
    MAX_FILE_BYTES,
    Article,
    UnreadableFile,
    decode_bytes,
    iter_article_files,
    page_url,
    read_article,
)

if TYPE_CHECKING:
    from index.store import ArticleRecord

log = logging.getLogger(__name__)
MAX_FETCH_BYTES = 5 * 1024 * 1024
HEAD_END_RE = re.compile(rb"</head\s*>", re.IGNORECASE)
HTML_START_RE = re.compile(rb"<html(?:\s[^<>]*)?>", re.IGNORECASE)
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


# Why an article cannot be added (or removed), in English (the CLI); the Telegram bot shows
# the catalogue's `add_error_<key>` in the user's language with the same fields.
REASONS = {
    "too_large": "file too large ({size} bytes, limit {limit})",
    "unreadable": "not a readable article: {reason}",
    "no_text": "no article text found in it (nothing was added)",
    "duplicate": "its article text is already in the data folder as {existing}",
    "escapes": "file name escapes the data directory",
    "not_a_file": "{path} is not a file",
    "bad_link": "not a valid link ({error})",
    "not_http": "only http:// and https:// links can be added",
    "unresolvable": "cannot resolve {host}",
    "private": (
        "{host} is a local or private address; refused "
        "(set QABOT_ALLOW_PRIVATE_FETCH=true to allow such links)"
    ),
    "http_status": "the page answered HTTP {status}",
    "not_a_page": "not a web page ({content_type})",
    "page_too_large": "page larger than {limit} bytes",
    "too_slow": "the page took longer than {seconds:g} s to download",
    "fetch_failed": "cannot fetch the page: {error}",
    # removing (index.remove)
    "not_found": "{name} is not in the data folder",
    "outside": "{name} is outside the data folder",
    "ambiguous": "{name} names several files: {paths}; give the path under the data folder",
    "not_an_article": "{name} is not an article file",
}


class AddError(Exception):
    """The article cannot be added; `key` names the reason (`REASONS`), `fields` fill it in,
    and the message (`str`) says why in English."""

    def __init__(self, key: str, /, **fields: object):
        self.key = key
        self.fields = fields
        super().__init__(REASONS[key].format(**fields))


def safe_filename(name: str, default_suffix: str = ".txt") -> str:
    """A file name that stays inside the data directory and keeps an article suffix."""
    name = unicodedata.normalize("NFKC", name).replace("\\", "/").split("/")[-1]
    name = re.sub(r"[\x00-\x1f<>:\"|?*]", "_", name)
    # invisible format characters (U+202E right-to-left override, zero-width spaces) would
    # make a name read differently from what it is
    name = "".join(c for c in name if unicodedata.category(c) not in {"Cf", "Cc"})
    name = name.strip().lstrip(".-_ ")
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    suffix = "." + suffix.lower() if suffix else ""
    if suffix not in ARTICLE_SUFFIXES:
        stem, suffix = name, default_suffix
    stem = stem.strip(". ")[:100] or "article"
    return stem + suffix


def _unique_path(directory: Path, filename: str) -> Path:
    target = directory / filename
    stem, suffix = target.stem, target.suffix
    counter = 2
    while target.exists():
        target = directory / f"{stem}-{counter}{suffix}"
        counter += 1
    return target


def text_key(article: Article) -> str:
    """What makes two articles the same text: their paragraphs, NFKC-normalised, without
    white space (a page fetched again, the same text saved in another encoding or name)."""
    text = unicodedata.normalize("NFKC", "\n".join(article.paragraphs))
    return hashlib.sha256("".join(text.split()).encode("utf-8")).hexdigest()


def read_candidate(filename: str, data: bytes) -> Article:
    """The article `data` would be once saved as `filename`, read exactly as the build reads
    it (in a temporary folder: nothing is written to the data folder). Raises `AddError`."""
    try:
        decode_bytes(data)
    except UnreadableFile as exc:
        raise AddError("unreadable", reason=str(exc)) from exc
    with tempfile.TemporaryDirectory(prefix="qabot-add-") as folder:
        path = Path(folder) / filename
        path.write_bytes(data)
        try:
            return read_article(path, Path(folder))
        except UnreadableFile as exc:
            if not str(exc).startswith("no article text"):
                raise AddError("unreadable", reason=str(exc)) from exc
            raise AddError("no_text") from exc


def find_duplicate(
    data: bytes,
    article: Article,
    data_dir: Path,
    indexed: Sequence[ArticleRecord] | None = None,
) -> str | None:
    """The data folder's file (relative path) with the same bytes or the same article text as
    `data`, or None.

    Compared are the files of the same size (bytes) and, for the text, the indexed articles
    with the same title or bytes plus the files the index does not know yet; without an index
    (`indexed` None) every file is read, as the build after the addition would.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        return None
    digest = hashlib.sha256(data).hexdigest()
    known: dict[str, ArticleRecord] = {}
    if indexed is not None:
        known = {record.path: record for record in indexed}
    key = None
    for path in iter_article_files(data_dir):
        relative = path.relative_to(data_dir).as_posix()
        try:
            if not path.is_file() or path.suffix.lower() not in ARTICLE_SUFFIXES:
                continue
            if path.stat().st_size == len(data) and path.read_bytes() == data:
                return relative
        except OSError:
            continue
        record = known.get(relative)
        if record is not None and record.title != article.title and record.sha256 != digest:
            continue  # indexed under another title: another article
        key = key or text_key(article)
        try:
            if text_key(read_article(path, data_dir)) == key:
                return relative
        except (UnreadableFile, OSError):
            continue
        except Exception:  # a parser bug on someone else's file: not a duplicate
            log.warning("cannot compare with %s", relative, exc_info=True)
    return None


def add_bytes(
    name: str,
    data: bytes,
    data_dir: Path,
    max_bytes: int = MAX_FILE_BYTES,
    indexed: Sequence[ArticleRecord] | None = None,
) -> Path:
    """Save uploaded article bytes under a safe, unused name in `data_dir`, unless they hold
    no article text or the data folder has the article already (`indexed`: the index's
    articles, to compare with fewer files; see `find_duplicate`). Nothing is written when
    the article is refused."""
    if len(data) > max_bytes:
        raise AddError("too_large", size=len(data), limit=max_bytes)
    filename = safe_filename(name)
    article = read_candidate(filename, data)
    data_dir = Path(data_dir)
    existing = find_duplicate(data, article, data_dir, indexed)
    if existing is not None:
        raise AddError("duplicate", existing=existing)
    data_dir.mkdir(parents=True, exist_ok=True)
    target = _unique_path(data_dir, filename)
    if target.resolve().parent != data_dir.resolve():
        raise AddError("escapes")
    temporary = target.with_name(f".{target.name}.part")
    temporary.write_bytes(data)
    temporary.replace(target)
    return target


def add_file(source: Path, data_dir: Path, indexed: Sequence[ArticleRecord] | None = None) -> Path:
    """Copy a local article file into `data_dir` (refused as `add_bytes` refuses)."""
    source = Path(source)
    if not source.is_file():
        raise AddError("not_a_file", path=source)
    size = source.stat().st_size
    if size > MAX_FILE_BYTES:
        raise AddError("too_large", size=size, limit=MAX_FILE_BYTES)
    return add_bytes(source.name, source.read_bytes(), data_dir, indexed=indexed)


def check_url(url: str, allow_private: bool = False) -> str:
    """Refuse non-http(s) links and, unless allowed, hosts that resolve to private addresses."""
    try:
        parsed = urlparse(url.strip())
        port = parsed.port
    except ValueError as exc:  # "http://[::1", a port out of range
        raise AddError("bad_link", error=exc) from exc
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        raise AddError("not_http")
    if not allow_private:
        try:
            infos = socket.getaddrinfo(parsed.hostname, port or 80, proto=socket.IPPROTO_TCP)
        except socket.gaierror as exc:
            raise AddError("unresolvable", host=parsed.hostname) from exc
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if not address.is_global:
                raise AddError("private", host=parsed.hostname)
    return parsed.geturl()


def _check_peer(response) -> None:
    """Refuse a page whose connection ended up at a local or private address although the
    name resolved to a public one when the link was checked (DNS rebinding)."""
    stream = response.extensions.get("network_stream")
    peer = stream.get_extra_info("server_addr") if stream is not None else None
    if not peer:
        return
    try:
        address = ipaddress.ip_address(peer[0])
    except ValueError:
        return
    if not address.is_global:
        raise AddError("private", host=address)


def fetch_url(
    url: str,
    data_dir: Path,
    timeout: float = 15.0,
    max_bytes: int = MAX_FETCH_BYTES,
    allow_private: bool = False,
    indexed: Sequence[ArticleRecord] | None = None,
) -> Path:
    """Download a web page (bounded size and time) and save it as an article (refused as
    `add_bytes` refuses)."""
    import httpx

    url = check_url(url, allow_private)
    chunks: list[bytes] = []
    size = 0
    # `timeout` bounds each wait (connecting, each read); the whole download gets twice that,
    # so a server dripping a byte at a time cannot hold the fetch for hours
    deadline = time.monotonic() + 2 * timeout
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            with client.stream("GET", url, headers={"User-Agent": "qabot/0.1"}) as response:
                if not allow_private:
                    _check_peer(response)
                address = str(response.url)  # as it was asked for: percent-encoded, IDNA host
                if response.status_code != 200:
                    raise AddError("http_status", status=response.status_code)
                content_type = response.headers.get("content-type", "")
                if content_type and not re.match(r"text/|application/(xhtml|xml)", content_type):
                    raise AddError("not_a_page", content_type=content_type.split(";")[0])
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise AddError("page_too_large", limit=max_bytes)
                    if time.monotonic() > deadline:
                        raise AddError("too_slow", seconds=2 * timeout)
                    chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise AddError("fetch_failed", error=exc.__class__.__name__) from exc
    parsed = urlparse(url)
    name = (parsed.hostname or "page") + re.sub(r"[^\w.-]+", "-", parsed.path).rstrip("-")
    return add_bytes(
        safe_filename(name[:80], ".html").rsplit(".", 1)[0] + ".html",
        with_address(b"".join(chunks), address),
        data_dir,
        indexed=indexed,
    )


def with_address(page: bytes, url: str) -> bytes:
    """The fetched page's bytes, made to carry `url` (the link it was fetched from) when the
    page states no address of its own (no absolute canonical link or `og:url`).

    The link goes into the saved page as `<link rel="canonical" href="URL">` rather than into
    a file beside it or into the index only: the saved file is the article, so its address
    travels with it (a rebuild from scratch, a copied or renamed data folder keep it), the
    build's "bytes unchanged" check covers it, and ingest reads it as it reads any page's
    canonical link, which is what the tag means (the address of this page). Everything else
    of the page is left byte for byte: the tag is put before `</head>` (the page's
    `<meta charset>` stays in its first bytes), else after `<html>`, else in front. The URL is
    HTML-escaped (quotes too) and written in ASCII (other characters as `&#...;`), so the tag
    is the same bytes in any ASCII-compatible encoding of the page (UTF-8, GBK, Big5); a UTF-16
    page is decoded and encoded again. A page that states its address is saved unchanged.
    """
    try:
        text = decode_bytes(page)
    except UnreadableFile:
        return page  # refused by `add_bytes`, with the reason
    if page_url(text) is not None:
        return page
    escaped = html.escape(url, quote=True).encode("ascii", "xmlcharrefreplace")
    tag = b'<link rel="canonical" href="' + escaped + b'">'
    utf16 = page.startswith(UTF16_BOMS)
    body = text.encode("utf-8") if utf16 else page
    places = []
    if head_end := HEAD_END_RE.search(body):
        places.append(head_end.start())
    if html_start := HTML_START_RE.search(body):
        places.append(html_start.end())
    places.append(3 if body.startswith(b"\xef\xbb\xbf") else 0)
    for place in places:
        marked = body[:place] + tag + body[place:]
        # a tag inside a comment or a script, say, is not read: try the next place
        if page_url(marked.decode("utf-8") if utf16 else decode_bytes(marked)) == url:
            return marked.decode("utf-8").encode("utf-16") if utf16 else marked
    log.warning("could not mark %s with its address", url)
    return page
