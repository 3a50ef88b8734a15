"""Adding articles: file names stay inside the data folder, links are checked before fetching.

Pages are served by a local HTTP server on 127.0.0.1, so fetching needs `allow_private=True`
(which also shows that a loopback link is refused without it). No test uses the network.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from index.add import AddError, add_bytes, add_file, check_url, fetch_url, safe_filename
from index.ingest import ARTICLE_SUFFIXES, read_article

ARTICLE = ("青山县双拥工作综述\n青山县共建成128个退役军人服务站，投入资金2.3亿元。\n").encode()
PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>青山县召开拥军优属工作座谈会 - 青山新闻网</title>
<meta name="publishdate" content="2023-09-12"></head><body>
<nav><a href="/">首页</a></nav>
<div class="content"><p>9月10日，青山县召开拥军优属工作座谈会，全县已建成128个退役军人服务站。</p>
<p>县财政累计投入拥军优属资金2.3亿元，为驻地部队划拨训练用地860余亩。</p></div>
</body></html>""".encode()


# ------------------------------------------------------------------ file names

NAMES = {
    "../../x.txt": "x.txt",
    "..\\..\\windows\\x.txt": "x.txt",
    "/etc/passwd": "passwd.txt",
    "a/b/../c.md": "c.md",
    "--help.txt": "help.txt",
    "-rf .html": "rf.html",
    "哈密 新闻 2024.TXT": "哈密 新闻 2024.txt",
    "张掖市双拥工作综述.html": "张掖市双拥工作综述.html",
    "news report.md": "news report.md",
    ".bashrc": "bashrc.txt",
    "..": "article.txt",
    "": "article.txt",
    "report.exe": "report.exe.txt",
    "evil\u202etxt.exe": "eviltxt.exe.txt",
    "zero\u200bwidth.txt": "zerowidth.txt",
    "line\nbreak.txt": "line_break.txt",
    "ｘ／ｙ.txt": "y.txt",
}


@pytest.mark.parametrize(("name", "expected"), NAMES.items(), ids=list(NAMES))
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


@pytest.mark.parametrize("name", [*NAMES, "a" * 500 + ".txt", "../" * 50 + "deep.md", "\x00.txt"])
def test_added_file_stays_inside_the_data_folder(tmp_path, name):
    data = tmp_path / "data"
    saved = add_bytes(name, ARTICLE, data)
    assert saved.parent == data
    assert saved.read_bytes() == ARTICLE
    assert not saved.name.startswith(("-", "."))
    assert saved.suffix in ARTICLE_SUFFIXES
    assert len(saved.name.encode()) < 255
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # nothing escaped
    assert [p.name for p in data.iterdir()] == [saved.name]  # no temporary file left


def test_same_name_twice_does_not_overwrite(tmp_path):
    first = add_bytes("哈密.txt", ARTICLE, tmp_path)
    second = add_bytes("哈密.txt", ARTICLE.replace(b"128", b"256"), tmp_path)
    assert first != second and first.parent == second.parent == tmp_path
    assert b"128" in first.read_bytes() and b"256" in second.read_bytes()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02binary\x00" * 50, "binary"),
        (bytes((i * 131 + 7) % 128 + 128 for i in range(4000)), "encod"),
    ],
    ids=["empty", "binary", "junk"],
)
def test_unreadable_bytes_are_refused(tmp_path, data, reason):
    with pytest.raises(AddError, match=reason):
        add_bytes("article.txt", data, tmp_path / "data")
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").iterdir())


# ------------------------------------------------------------------ refused before anything is written


def test_the_same_bytes_again_are_refused(tmp_path):
    data = tmp_path / "data"
    add_bytes("qingshan.txt", ARTICLE, data)
    with pytest.raises(AddError, match="already in the data folder as qingshan.txt"):
        add_bytes("another-name.md", ARTICLE, data)
    assert [p.name for p in data.iterdir()] == ["qingshan.txt"]


def test_the_same_text_in_another_encoding_and_layout_is_refused(tmp_path):
    data = tmp_path / "data"
    (data / "2023").mkdir(parents=True)
    (data / "2023" / "qingshan.txt").write_bytes(ARTICLE)
    again = ARTICLE.decode().replace("\n", "\r\n\r\n").replace("，", "， ").encode("gb18030")
    with pytest.raises(AddError, match="already in the data folder as 2023/qingshan.txt"):
        add_bytes("qingshan-gbk.txt", again, data)
    assert [p.name for p in data.iterdir()] == ["2023"]


def test_an_indexed_article_with_another_title_is_not_read_again(tmp_path, monkeypatch):
    """With the index's articles given, a file indexed under another title is not compared."""
    from index import add as add_module
    from index.store import ArticleRecord

    data = tmp_path / "data"
    data.mkdir()
    (data / "other.txt").write_text("别的文章\n别的县建成了3个服务站。\n", encoding="utf-8")
    read = []
    real = add_module.read_article
    monkeypatch.setattr(add_module, "read_article", lambda p, d: read.append(p.name) or real(p, d))
    indexed = [ArticleRecord("other.txt", "0" * 64, "别的文章", None, None, None, None)]
    saved = add_bytes("qingshan.txt", ARTICLE, data, indexed=indexed)
    assert saved.name == "qingshan.txt" and "other.txt" not in read


@pytest.mark.parametrize(
    "page",
    [
        b"<html><head><title>x</title></head><body><nav>home</nav></body></html>",
        b"<html><body><script>var a = 1;</script></body></html>",
    ],
    ids=["navigation only", "script only"],
)
def test_a_page_without_article_text_is_refused(tmp_path, page):
    data = tmp_path / "data"
    data.mkdir()
    with pytest.raises(AddError, match="no article text") as refused:
        add_bytes("page.html", page, data)
    assert refused.value.key == "no_text"
    assert list(data.iterdir()) == []


def test_too_large_is_refused(tmp_path):
    with pytest.raises(AddError, match="too large"):
        add_bytes("big.txt", ARTICLE * 100, tmp_path, max_bytes=1000)


def test_add_file_copies_with_its_name(tmp_path):
    source = tmp_path / "in" / "青山 双拥.md"
    source.parent.mkdir()
    source.write_bytes(ARTICLE)
    saved = add_file(source, tmp_path / "data")
    assert saved == tmp_path / "data" / "青山 双拥.md"
    assert saved.read_bytes() == ARTICLE and source.exists()


@pytest.mark.parametrize("what", ["missing", "folder"])
def test_add_file_refuses_what_is_not_a_file(tmp_path, what):
    source = tmp_path / "thing.txt"
    if what == "folder":
        source.mkdir()
    with pytest.raises(AddError, match="not a file"):
        add_file(source, tmp_path / "data")


# ------------------------------------------------------------------ links


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/news.html",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "data:text/html,<p>hi</p>",
        "gopher://example.com/",
        "example.com/news.html",
        "https:///no-host",
        "http://[::1",
        "http://example.com:99999/",
    ],
)
def test_only_valid_http_links(url):
    with pytest.raises(AddError):
        check_url(url, allow_private=True)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/news.html",
        "http://127.1/",
        "http://2130706433/",
        "http://localhost:8080/admin",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://10.1.2.3/",
        "http://172.16.0.1/",
        "http://192.168.1.1/router",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "HTTP://127.0.0.1/",
    ],
)
def test_loopback_and_private_addresses_are_refused_by_default(url):
    with pytest.raises(AddError, match="private"):
        check_url(url)
    assert check_url(url, allow_private=True)  # allowed when configured


def fake_resolver(*addresses: str):
    def getaddrinfo(host, port, *args, **kwargs):
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port),
            )
            for a in addresses
        ]

    return getaddrinfo


def test_public_host_is_accepted(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", fake_resolver("93.184.216.34"))
    assert check_url("https://news.example.com/a/1.html") == "https://news.example.com/a/1.html"


def test_host_resolving_to_any_private_address_is_refused(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", fake_resolver("93.184.216.34", "10.0.0.5"))
    with pytest.raises(AddError, match="private"):
        check_url("https://news.example.com/")


def test_unresolvable_host_is_refused(monkeypatch):
    def fail(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with pytest.raises(AddError, match="cannot resolve"):
        check_url("https://no-such-host.example/")


# ------------------------------------------------------------------ fetching from a local server

# The page naming its own address, and the page in GBK (its bytes the way a Chinese site sends them)
CANONICAL = "https://www.qingshan.gov.cn/xw/2023/0912/1.shtml"
OWN_ADDRESS_PAGE = PAGE.replace(
    b"</head>", f'<link rel="canonical" href="{CANONICAL}"></head>'.encode(), 1
)
GBK_PAGE = PAGE.decode().replace('charset="utf-8"', 'charset="gbk"').encode("gbk")

ROUTES: dict[str, tuple[int, dict[str, str], bytes]] = {
    "/news/2023/qingshan.shtml": (200, {"Content-Type": "text/html; charset=utf-8"}, PAGE),
    "/own-address.html": (200, {"Content-Type": "text/html"}, OWN_ADDRESS_PAGE),
    "/gbk.html": (200, {"Content-Type": "text/html; charset=gbk"}, GBK_PAGE),
    "/missing.html": (404, {"Content-Type": "text/html"}, b"not found"),
    "/photo.jpg": (200, {"Content-Type": "image/jpeg"}, b"\xff\xd8\xff\xe0" * 100),
    "/huge.html": (200, {"Content-Type": "text/html"}, b"<p>" + "很长".encode() * 200_000),
    "/moved": (302, {"Location": "http://169.254.169.254/latest/"}, b""),
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path == "/slow.html":
            time.sleep(1.5)
        route = self.path.split("?", 1)[0]
        status, headers, body = ROUTES.get(route, (200, {"Content-Type": "text/html"}, PAGE))
        try:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_fetched_page_is_saved_as_html_inside_the_data_folder(server, tmp_path):
    data = tmp_path / "data"
    link = f"{server}/news/2023/qingshan.shtml"
    saved = fetch_url(link, data, allow_private=True)
    assert saved.parent == data and saved.suffix == ".html"
    assert not saved.name.startswith(("-", "."))
    # the page as served, with the link it came from as its canonical address (it names none)
    tag = f'<link rel="canonical" href="{link}">'.encode()
    assert saved.read_bytes() == PAGE.replace(b"</head>", tag + b"</head>", 1)
    article = read_article(saved, data)
    assert article.title == "青山县召开拥军优属工作座谈会"
    assert article.date == "2023-09-12"
    assert article.url == link


def test_fetching_a_loopback_page_is_refused_by_default(server, tmp_path):
    with pytest.raises(AddError, match="private"):
        fetch_url(f"{server}/news/2023/qingshan.shtml", tmp_path / "data")
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/missing.html", "HTTP 404"),
        ("/photo.jpg", "not a web page"),
        ("/huge.html", "larger than"),
        ("/moved", "HTTP 302"),  # redirects are not followed (they could lead anywhere)
    ],
)
def test_unusable_pages_are_refused_and_nothing_is_saved(server, tmp_path, path, reason):
    data = tmp_path / "data"
    with pytest.raises(AddError, match=reason):
        fetch_url(f"{server}{path}", data, allow_private=True, max_bytes=100_000)
    assert not data.exists() or not any(data.iterdir())


def test_slow_page_times_out(server, tmp_path):
    started = time.monotonic()
    with pytest.raises(AddError, match="cannot fetch"):
        fetch_url(f"{server}/slow.html", tmp_path / "data", allow_private=True, timeout=0.3)
    assert time.monotonic() - started < 1.4


def test_a_page_fetched_twice_is_refused_the_second_time(server, tmp_path):
    data = tmp_path / "data"
    first = fetch_url(f"{server}/news/2023/qingshan.shtml", data, allow_private=True)
    listing = sorted(p.name for p in data.iterdir())
    with pytest.raises(AddError, match=f"already in the data folder as {first.name}") as refused:
        fetch_url(f"{server}/news/2023/qingshan.shtml", data, allow_private=True)
    assert refused.value.key == "duplicate" and refused.value.fields == {"existing": first.name}
    # the same article from another address (other bytes: another canonical link) too
    with pytest.raises(AddError, match="already in the data folder"):
        fetch_url(f"{server}/news/2023/qingshan.shtml?from=rss", data, allow_private=True)
    assert sorted(p.name for p in data.iterdir()) == listing


def test_a_loopback_link_names_the_setting_that_allows_it(server, tmp_path):
    with pytest.raises(AddError, match="QABOT_ALLOW_PRIVATE_FETCH") as refused:
        fetch_url(f"{server}/news/2023/qingshan.shtml", tmp_path / "data")
    assert refused.value.key == "private"


def test_path_in_the_link_cannot_escape(server, tmp_path):
    data = tmp_path / "data"
    saved = fetch_url(f"{server}/../../../etc/passwd", data, allow_private=True)
    assert saved.parent == data and saved.suffix == ".html"
    assert Path(tmp_path).joinpath("etc").exists() is False


# ------------------------------------------------------------------ the link is the article's address


def test_a_page_naming_its_own_address_is_saved_unchanged(server, tmp_path):
    saved = fetch_url(f"{server}/own-address.html", tmp_path, allow_private=True)
    assert saved.read_bytes() == OWN_ADDRESS_PAGE
    assert read_article(saved, tmp_path).url == CANONICAL  # the page's word, not the mirror's


def test_the_link_is_kept_escaped_with_its_query(server, tmp_path):
    link = f"{server}/news/2023/qingshan.shtml?id=7&page=1&q=%22x%22"
    saved = fetch_url(link, tmp_path, allow_private=True)
    assert b'href="' + link.replace("&", "&amp;").encode() + b'"' in saved.read_bytes()
    assert read_article(saved, tmp_path).url == link


def test_a_gbk_page_keeps_its_encoding_and_gets_the_link(server, tmp_path):
    saved = fetch_url(f"{server}/gbk.html", tmp_path, allow_private=True)
    assert saved.read_bytes().decode("gbk").startswith(GBK_PAGE.decode("gbk")[:60])
    article = read_article(saved, tmp_path)
    assert article.url == f"{server}/gbk.html"
    assert article.title == "青山县召开拥军优属工作座谈会"


def test_index_add_of_a_link_answers_with_the_link(server, seed_dir, tmp_path, monkeypatch, capsys):
    """`qabot index add URL`, then `qabot ask --json`: the answer from the added page cites the
    link it was added from; an answer from a seed (no address) cites none."""
    import json
    import shutil

    from bot.cli import main

    for name in [n for n in os.environ if n.startswith("QABOT_") and n != "QABOT_CACHE_DIR"]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QABOT_ALLOW_PRIVATE_FETCH", "true")
    data, index = tmp_path / "articles", tmp_path / "index.sqlite"
    shutil.copytree(seed_dir, data)
    link = f"{server}/news/2023/qingshan.shtml"
    where = ["--data-dir", str(data), "--index", str(index)]
    assert main(["index", "add", link, *where]) == 0, capsys.readouterr().err
    assert "3 articles" in capsys.readouterr().out

    def ask(question: str) -> dict:
        assert main(["ask", "--json", "--index", str(index), question]) == 0
        return json.loads(capsys.readouterr().out)

    reply = ask("青山县建成了多少个退役军人服务站?")
    assert "128个" in (reply["answer"] or reply["guess"]["answer"])
    assert reply["citation"]["url"] == link
    assert reply["citation"]["title"] == "青山县召开拥军优属工作座谈会"
    seed = ask("哈密有多少个服务站?")
    assert (seed["answer"] or seed["guess"]["answer"]) == "285个服务站"
    assert seed["citation"]["url"] is None
    # the terminal reply names the link on its source line
    assert main(["ask", "--index", str(index), "青山县建成了多少个退役军人服务站?"]) == 0
    source = capsys.readouterr().out.strip().splitlines()[2]
    assert "青山县召开拥军优属工作座谈会" in source and source.endswith(link)


def test_every_reason_has_a_chinese_text_with_the_same_fields():
    """The bot says why in the admin's language: each reason (English here, for the CLI)
    has a Chinese catalogue entry taking the same fields."""
    import string

    from bot.messages import MESSAGES
    from index.add import REASONS

    def fields(template: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name}

    for key, english in REASONS.items():
        chinese = MESSAGES["zh"][f"add_error_{key}"]
        assert fields(chinese) <= fields(english), key
        words = re.sub(r"\{[^}]*\}|QABOT_\w+=\w+|https?://", "", chinese)
        assert not re.search(r"[A-Za-z]{2,}", words), chinese
