"""Bad articles: the build skips what it cannot use with a one-line reason, never crashes, never
hangs, and what it indexes is exactly what it indexes without the junk around it.

tests/test_build.py already covers the plain kinds of junk (empty, blank, binary, undecodable,
wrong extension, nothing but navigation) one by one; here they all sit together with the
harder ones: huge files, odd and undecodable names, folders nested a thousand deep, symbolic
links of every kind, a named pipe, inputs that used to make the Markdown reader or the
passage splitter quadratic, and a reader that raises something unexpected.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import index.build as build_module
from index.build import build_index
from index.ingest import UNBROKEN_MAX, iter_article_files, markdown_to_text, parse_text
from index.store import load_index

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "data" / "articles"
QABOT = Path(sys.executable).with_name("qabot")

QINGSHAN = (
    "青山县双拥工作综述\n来源：青山日报\n2023年05月18日 09:30\n"
    "青山县共建成128个退役军人服务站，投入资金2.3亿元，为驻地部队划拨训练用地860余亩。\n"
    "青山县已连续四次被评为省级双拥模范县。\n"
)
DEPTH = 1200  # folders nested deeper than Python's recursion limit


def make_dirs(path: Path) -> None:
    """`mkdir -p` without recursion (Path.mkdir(parents=True) recurses once per level)."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        folder.mkdir()


def remove_tree(top: Path) -> None:
    """`rm -rf` without recursion: shutil.rmtree, and so pytest's clean-up of old temporary
    folders, recurses once per level and would fail on what these tests make."""
    folders, stack = [], [os.fsencode(top)]
    while stack:
        folder = stack.pop()
        folders.append(folder)
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    os.unlink(entry.path)
    for folder in reversed(folders):
        os.rmdir(folder)


def article(place: str, stations: int) -> str:
    return QINGSHAN.replace("青山", place).replace("128", str(stations))


# Usable articles with odd names and places: they must be indexed, junk or no junk.
GOOD = {
    "news report 2024.txt": article("白水", 11),
    "哈密 新闻（二）.txt": article("石河", 12),
    "-rf --help.txt": article("东山", 13),
    "--.md": "# 西岭县双拥工作综述\n\n西岭县共建成14个退役军人服务站，投入资金2.3亿元。\n",
    "UPPER CASE.TXT": article("北岗", 15),
    "nested/a/b/c/deep article.html": (
        "<html><head><title>南岸县双拥工作综述</title></head><body><article>"
        "<p>南岸县共建成16个退役军人服务站，投入资金2.3亿元，为驻地部队划拨训练用地860余亩。</p>"
        "</article></body></html>"
    ),
    "/".join(["d"] * DEPTH) + "/bottom.txt": article("深谷", 17),
    "with blob.txt": article("长岭", 18) + "0123456789abcdef" * 1000 + "\n",
}

# Files the build must skip, with a word of the reason it must give.
JUNK: dict[str, tuple[bytes | None, str]] = {
    "empty.txt": (b"", "empty"),
    "spaces.md": (b" \n\t\r\n   ", "empty"),
    "photo.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40, "binary"),
    "nul.html": (b"<html><body><p>\xe5\x93\x88\x00\x00</p></body></html>", "binary"),
    "garbled.txt": (bytes((i * 131 + 7) % 128 + 128 for i in range(6000)), "encod"),
    "bad utf-16.txt": (b"\xff\xfe" + b"\x00\xd8" * 50, "UTF-16"),
    "report.pdf": (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "not an article file"),
    "archive.zip": (b"PK\x03\x04" + bytes(100), "not an article file"),
    "no extension": (QINGSHAN.encode(), "not an article file"),
    "script.sh": (b"#!/bin/sh\nrm -rf /\n", "not an article file"),
    "menu.html": ("<html><body><nav>首页 | 新闻 | 登录</nav></body></html>".encode(), "no article"),
    "script only.html": (b"<html><script>alert(1)</script></html>", "no article"),
    "deep tags.html": (b"<html><body>" + b"<div>" * 20000 + b"</body></html>", "no article"),
    "blob.txt": (b"QUJDRE" * 400_000, "no article"),  # 2.4 MB of base64 on one line
    "brackets.md": (b"[" * 1_000_000, "no article"),
    "blank lines.md": (b"\n" * 200_000 + b"-", "no article"),
    "huge.txt": (None, "too large"),  # 25 MB, made sparse below
    "z copy of qingshan.txt": (QINGSHAN.encode(), "same content as qingshan.txt"),
}


def write_corpus(root: Path, with_junk: bool) -> Path:
    data = root / "articles"
    data.mkdir(parents=True)
    for name in ("hami-shuangyong-model-city.txt", "zhangye-shuangyong-model-city-2024-08-01.txt"):
        shutil.copy(SEEDS / name, data / name)
    (data / "qingshan.txt").write_text(QINGSHAN, encoding="utf-8")
    for name, text in GOOD.items():
        target = data / name
        make_dirs(target.parent)
        target.write_text(text, encoding="utf-8")
    if not with_junk:
        return data
    for name, (content, _) in JUNK.items():
        if content is None:
            with open(data / name, "wb") as stream:
                stream.truncate(25 * 1024 * 1024)
        else:
            (data / name).write_bytes(content)
    # names that are not UTF-8, hidden files and folders, a folder named like an article
    with open(os.path.join(os.fsencode(data), b"latin1 caf\xe9.txt"), "wb") as stream:
        stream.write(QINGSHAN.encode("gbk"))
    (data / ".hidden.txt").write_text(article("隐藏", 99), encoding="utf-8")
    (data / ".git").mkdir()
    (data / ".git" / "notes.txt").write_text(article("隐藏", 98), encoding="utf-8")
    (data / "folder.txt").mkdir()
    os.mkfifo(data / "pipe.txt")  # reading it would block forever
    (data / "\x1b[31mred\u202etxt.exe\n.txt").write_bytes(b"")  # a name that would steer a terminal
    # symbolic links: inside, outside, broken, looping, to folders
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(article("外面", 77), encoding="utf-8")
    (data / "z link to qingshan.txt").symlink_to("qingshan.txt")
    (data / "link outside.txt").symlink_to(outside / "secret.txt")
    (data / "broken link.txt").symlink_to("nowhere.txt")
    (data / "loop.txt").symlink_to("loop.txt")
    (data / "outside folder").symlink_to(outside, target_is_directory=True)
    (data / "nested" / "up").symlink_to("..", target_is_directory=True)
    (data / "pipe link.txt").symlink_to("pipe.txt")
    return data


SKIPPED_SPECIALS = {
    "latin1 caf\ufffd.txt": "not valid UTF-8",
    "folder.txt": None,  # a folder: walked into, nothing in it
    "z link to qingshan.txt": "same content as qingshan.txt",
    "link outside.txt": "outside the data folder",
    "broken link.txt": "broken symbolic link",
    "loop.txt": "symbolic link loop",
    "outside folder": "outside the data folder",
    "nested/up": "not a regular file",
    "pipe link.txt": "not a regular file",
    "pipe.txt": "not a regular file",
    "\\x1b[31mred\\u202etxt.exe\\n.txt": "empty",
}


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    clean_root = tmp_path_factory.mktemp("clean")
    junk_root = tmp_path_factory.mktemp("junk")
    clean_data = write_corpus(clean_root, with_junk=False)
    junk_data = write_corpus(junk_root, with_junk=True)
    try:
        clean = build_index(clean_data, clean_root / "index.sqlite")
        junk = build_index(junk_data, junk_root / "index.sqlite")
        yield clean, junk, junk_data, junk_root / "index.sqlite"
    finally:
        remove_tree(clean_root)
        remove_tree(junk_root)


def content(index):
    articles = [(a.path, a.sha256, a.title, a.date, a.source, a.author) for a in index.articles]
    return articles, index.passages, index.tokens


def test_junk_around_the_articles_changes_nothing_in_the_index(builds):
    (clean_index, clean_report), (junk_index, _), _, _ = builds
    assert not clean_report.skipped
    assert content(junk_index) == content(clean_index)
    paths = {a.path for a in junk_index.articles}
    assert set(GOOD) <= paths  # odd names, nested folders, a thousand folders deep
    assert "qingshan.txt" in paths and len(paths) == len(GOOD) + 3


def test_every_junk_file_is_skipped_with_a_one_line_reason(builds):
    _, (_, report), _, _ = builds
    reasons = dict(report.skipped)
    for name, (_, word) in JUNK.items():
        assert word in reasons.get(name, ""), (name, reasons.get(name))
    for name, word in SKIPPED_SPECIALS.items():
        if word is None:
            assert name not in reasons
        else:
            assert word in reasons.get(name, ""), (name, reasons.get(name))
    for name, reason in report.skipped:
        assert "\n" not in name + reason and 0 < len(reason) < 100, (name, reason)
    hidden = [name for name, _ in report.skipped if "隐藏" in name or name.startswith(".")]
    assert not hidden


def test_a_blob_line_is_dropped_and_the_rest_of_its_article_kept(builds):
    _, (junk_index, _), _, _ = builds
    number = next(i for i, a in enumerate(junk_index.articles) if a.path == "with blob.txt")
    texts = [p.text for p in junk_index.passages if p.article == number]
    assert any("18个退役军人服务站" in t for t in texts)
    assert all(len(t) < 300 for t in texts)


def test_the_cli_reports_the_junk_and_builds_again_without_rereading(builds):
    _, (junk_index, _), data, index_path = builds
    result = subprocess.run(
        [str(QABOT), "index", "build", "--data-dir", str(data), "--index", str(index_path)],
        capture_output=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("QABOT_")},
    )
    out, err = result.stdout.decode(), result.stderr.decode()
    assert result.returncode == 0, err
    assert "Traceback" not in out + err
    lines = out.splitlines()
    assert f"indexed {len(GOOD) + 3} articles" in lines[0] and "(0 read," in lines[0]
    skipped = [line for line in lines[1:] if line.startswith("  skipped ")]
    assert len(skipped) == len(lines) - 1
    assert len(skipped) == len(JUNK) + sum(w is not None for w in SKIPPED_SPECIALS.values())
    assert "  skipped latin1 caf\ufffd.txt: file name is not valid UTF-8 (rename the file)" in lines
    assert content(load_index(index_path).in_memory()) == content(junk_index)


def test_a_reader_that_raises_skips_the_file_and_the_build_goes_on(tmp_path, monkeypatch):
    data = tmp_path / "articles"
    data.mkdir()
    (data / "a.txt").write_text(QINGSHAN, encoding="utf-8")
    (data / "b.txt").write_text(article("白水", 11), encoding="utf-8")
    real = build_module.read_article

    def flaky(path, data_dir):
        if path.name == "a.txt":
            raise RecursionError("maximum recursion depth exceeded")
        return real(path, data_dir)

    monkeypatch.setattr(build_module, "read_article", flaky)
    index, report = build_index(data, tmp_path / "index.sqlite")
    assert [a.path for a in index.articles] == ["b.txt"]
    assert report.skipped == [("a.txt", "cannot read (RecursionError)")]


def test_the_walk_has_no_recursion_limit_and_keeps_path_order(tmp_path):
    deep = "/".join(["d"] * DEPTH) + "/x.txt"
    names = ["a.txt", "a/b.txt", "a b.txt", "a-c.txt", "B.txt", deep, ".h/x.txt", "a/.h.txt"]
    root = tmp_path / "walk"
    try:
        for name in names:
            make_dirs((root / name).parent)
            (root / name).write_text("x", encoding="utf-8")
        found = [p.relative_to(root).as_posix() for p in iter_article_files(root)]
    finally:
        remove_tree(root)
    visible = [n for n in names if "/." not in "/" + n]
    assert found == sorted(visible, key=lambda name: name.split("/"))  # pathlib's order


# ------------------------------------------------------------------ inputs that were quadratic

# Each of these took minutes to hours before the Markdown patterns were bounded to one line
# and blob lines dropped (e.g. 20,000 blank lines: 9 s, so 200,000: ~15 minutes); run in a
# child process with a generous time-out so a regression fails instead of hanging the suite.
SLOW_BEFORE = {
    "blank lines": '"\\n" * 300_000 + "x"',
    "spaces and newlines": '" \\n" * 300_000',
    "link definitions": '"[a\\n" * 200_000',
    "brackets": '"[" * 2_000_000',
    "image brackets": '"![" * 1_000_000',
    "list markers": '"\\n" * 300_000 + "-x"',
}


@pytest.mark.parametrize("expression", SLOW_BEFORE.values(), ids=SLOW_BEFORE.keys())
def test_markdown_reading_is_linear(expression):
    code = f"from index.ingest import markdown_to_text; markdown_to_text({expression})"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, cwd=REPO)


def test_an_unbroken_line_is_not_a_passage_but_long_prose_is():
    blob = "哈密市投入资金285万元建成服务站" * 500  # 8,000 characters, no sentence or clause end
    prose = "，".join(["哈密市投入资金285万元建成服务站"] * 400) + "。"  # 6,800 characters
    article_ = parse_text(f"标题\n{blob}\n{prose}\n", "x.txt")
    assert [b.text for b in article_.blocks] == [prose]
    assert len(blob) > UNBROKEN_MAX


def test_markdown_links_and_images_still_read_as_words():
    text = markdown_to_text("见[哈密日报](http://a.cn/x) ![图](p.png) [参考][1]\n[1]: http://b\n")
    assert text.split("\n")[0] == "见哈密日报  参考" and "http" not in text
