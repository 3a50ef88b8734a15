"""Put a new article into the data directory: from a local file, uploaded bytes or a web link.

Names are reduced to a safe file name inside the data directory (no `../`, no leading dashes
or dots); sizes are bounded; links must be http(s) and, unless allowed, must not point at
loopback or private addresses; a page is fetched with a time-out and saved as `.html`,
carrying the link it was fetched from when it does not state its own address.
"""

from __future__ import annotations

import html
import ipaddress
import logging
import re
import socket
import time
import unicodedata
from pathlib import Path
from urllib.parse import urlparse

from index.ingest import ARTICLE_SUFFIXES, MAX_FILE_BYTES, UnreadableFile, decode_bytes, page_url

log = logging.getLogger(__name__)
MAX_FETCH_BYTES = 5 * 1024 * 1024
HEAD_END_RE = re.compile(rb"</head\s*>", re.IGNORECASE)
HTML_START_RE = re.compile(rb"<html(?:\s[^<>]*)?>", re.IGNORECASE)
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class AddError(Exception):
    """The article cannot be added; the message says why."""


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


def add_bytes(name: str, data: bytes, data_dir: Path, max_bytes: int = MAX_FILE_BYTES) -> Path:
    """Save uploaded article bytes under a safe, unused name in `data_dir`."""
    if len(data) > max_bytes:
        raise AddError(f"file too large ({len(data)} bytes, limit {max_bytes})")
    try:
        decode_bytes(data)
    except UnreadableFile as exc:
        raise AddError(f"not a readable article: {exc}") from exc
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    target = _unique_path(data_dir, safe_filename(name))
    if target.resolve().parent != data_dir.resolve():
        raise AddError("file name escapes the data directory")
    temporary = target.with_name(f".{target.name}.part")
    temporary.write_bytes(data)
    temporary.replace(target)
    return target


def add_file(source: Path, data_dir: Path) -> Path:
    """Copy a local article file into `data_dir`."""
    source = Path(source)
    if not source.is_file():
        raise AddError(f"{source} is not a file")
    if source.stat().st_size > MAX_FILE_BYTES:
        raise AddError(f"{source} is too large (limit {MAX_FILE_BYTES} bytes)")
    return add_bytes(source.name, source.read_bytes(), data_dir)


def check_url(url: str, allow_private: bool = False) -> str:
    """Refuse non-http(s) links and, unless allowed, hosts that resolve to private addresses."""
    try:
        parsed = urlparse(url.strip())
        port = parsed.port
    except ValueError as exc:  # "http://[::1", a port out of range
        raise AddError(f"not a valid link ({exc})") from exc
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        raise AddError("only http:// and https:// links can be added")
    if not allow_private:
        try:
            infos = socket.getaddrinfo(parsed.hostname, port or 80, proto=socket.IPPROTO_TCP)
        except socket.gaierror as exc:
            raise AddError(f"cannot resolve {parsed.hostname}") from exc
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if not address.is_global:
                raise AddError(f"{parsed.hostname} is a local or private address; refused")
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
        raise AddError(f"{address} is a local or private address; refused")


def fetch_url(
    url: str,
    data_dir: Path,
    timeout: float = 15.0,
    max_bytes: int = MAX_FETCH_BYTES,
    allow_private: bool = False,
) -> Path:
    """Download a web page (bounded size and time) and save it as an article."""
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
                    raise AddError(f"the page answered HTTP {response.status_code}")
                content_type = response.headers.get("content-type", "")
                if content_type and not re.match(r"text/|application/(xhtml|xml)", content_type):
                    raise AddError(f"not a web page ({content_type.split(';')[0]})")
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise AddError(f"page larger than {max_bytes} bytes")
                    if time.monotonic() > deadline:
                        raise AddError(f"the page took longer than {2 * timeout:g} s to download")
                    chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise AddError(f"cannot fetch the page: {exc.__class__.__name__}") from exc
    parsed = urlparse(url)
    name = (parsed.hostname or "page") + re.sub(r"[^\w.-]+", "-", parsed.path).rstrip("-")
    return add_bytes(
        safe_filename(name[:80], ".html").rsplit(".", 1)[0] + ".html",
        with_address(b"".join(chunks), address),
        data_dir,
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
