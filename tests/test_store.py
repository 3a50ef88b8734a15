"""The index file (SQLite): a round trip keeps everything; a reader keeps the file it opened; a missing, old, corrupt or truncated file is
reported in one line naming the fix; a save that fails leaves the previous index whole."""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest

from bot.cli import main
from index.build import build_index
from index.passages import Passage
from index.store import (
    INDEX_VERSION,
    ArticleRecord,
    CorpusIndex,
    IndexUnavailable,
    load_index,
    save_index,
)

FIX = "qabot index build"
HAMI_URL = "https://www.hami.gov.cn/sy/2024/285.html?id=1&p=2"


pytestmark = pytest.mark.usefixtures("clean_environment")


def small_index() -> CorpusIndex:
    index = CorpusIndex(analyzer="test-analyzer", created="2024-08-01T10:40:00+00:00")
    index.articles = [
        ArticleRecord(
            "hami.txt", "a" * 64, "双拥花开哈密城", None, "新疆维吾尔自治区双拥办", None, HAMI_URL
        ),
        ArticleRecord("sub/張掖.html", "b" * 64, "军民同心 鱼水情深", "2024-08-01", None, "段晓梅"),
    ]
    index.passages = [
        Passage(0, 0, "全市建成4个退役军人服务中心、285个服务站。", None),
        Passage(0, 1, "捐赠牛羊216头(只)、物资610万元。", "乡村振兴,书写军民共建“同心圆”"),
        Passage(1, 0, '投入资金1.6亿元完成人武部营房改建。\n"引号" \\ 反斜杠', "强化服务"),
    ]
    index.tokens = [["285个", "285", "个", "服务站"], ["216头", "牛羊"], ["1.6亿元", "1.6亿", "元"]]
    return index


def as_tuple(index: CorpusIndex):
    return index.articles, index.passages, index.tokens, index.analyzer, index.created


# ------------------------------------------------------------------ round trip


def test_round_trip_keeps_everything(tmp_path):
    index = small_index()
    path = tmp_path / "nested" / "dir" / "index.sqlite"
    save_index(index, path)
    loaded = load_index(path)
    assert as_tuple(loaded.in_memory()) == as_tuple(index)
    assert list(loaded.articles) == index.articles and list(loaded.passages) == index.passages
    assert [loaded.passages[i] for i in range(3)] == index.passages  # read one by one
    assert loaded.passages_of(1) == range(2, 3) and loaded.passage_counts() == [2, 1]


def test_the_article_address_is_stored_and_read_back(tmp_path):
    path = tmp_path / "index.sqlite"
    save_index(small_index(), path)
    loaded = load_index(path)
    loaded.verify()
    assert [a.url for a in loaded.articles] == [HAMI_URL, None]  # one by one
    assert [a.url for a in loaded.all_articles()] == [HAMI_URL, None]  # all at once
    with contextlib.closing(sqlite3.connect(path)) as connection:
        stored = dict(connection.execute("SELECT path, url FROM articles"))
    assert stored == {"hami.txt": HAMI_URL, "sub/張掖.html": None}


def test_an_index_of_the_format_before_addresses_says_to_rebuild(seed_dir, tmp_path, capsys):
    """An index written before articles had an address (version 2, no `url` column) is
    refused with the fix, in one line; `qabot index build` then rebuilds it in full."""
    path = tmp_path / "index.sqlite"
    write(
        path,
        altered(
            "ALTER TABLE articles DROP COLUMN url; UPDATE meta SET value = '2' WHERE key = 'version'"
        ),
    )
    with pytest.raises(IndexUnavailable) as caught:
        load_index(path)
    message = str(caught.value)
    assert f"format version 2, this qabot reads version {INDEX_VERSION}" in message
    assert message.endswith("run `qabot index build` to rebuild it") and "\n" not in message
    assert main(["ask", "--index", str(path), "哈密有多少个服务站?"]) == 2
    assert FIX in capsys.readouterr().err
    _, report = build_index(seed_dir, path)
    assert (report.articles, report.read, report.reused) == (2, 2, 0)
    assert [a.url for a in load_index(path).articles] == [None, None]


def test_an_address_of_the_wrong_type_is_a_corrupt_index(tmp_path):
    path = write(
        tmp_path / "index.sqlite", altered("UPDATE articles SET url = x'41' WHERE number = 0")
    )
    with pytest.raises(IndexUnavailable, match=f"wrong type.*{FIX}"):
        load_index(path).verify()
    with pytest.raises(IndexUnavailable, match=FIX):
        load_index(path).articles[0]  # noqa: B018 - reading it is the test


def test_round_trip_of_the_seed_index(seed_index, tmp_path):
    index = load_index(seed_index).in_memory()
    copy = tmp_path / "copy.sqlite"
    save_index(index, copy)
    again = load_index(copy).in_memory()
    assert as_tuple(again) == as_tuple(index)
    assert len(again.articles) == 2 and len(again.passages) > 20


def test_index_file_is_sqlite_not_pickle(tmp_path):
    path = tmp_path / "index.sqlite"
    save_index(small_index(), path)
    with contextlib.closing(sqlite3.connect(path)) as connection:
        meta = dict(connection.execute("SELECT key, value FROM meta"))
        texts = [t for (t,) in connection.execute("SELECT text FROM passages")]
    assert meta["format"] == "qabot-index" and meta["version"] == str(INDEX_VERSION)
    assert "全市建成4个退役军人服务中心、285个服务站。" in texts  # text stored as itself


def test_save_leaves_no_temporary_files(tmp_path):
    path = tmp_path / "index.sqlite"
    save_index(small_index(), path)
    save_index(small_index(), path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.sqlite"]


def test_a_reader_keeps_the_index_it_opened_while_a_new_one_replaces_it(tmp_path):
    path = tmp_path / "index.sqlite"
    save_index(small_index(), path)
    reader = load_index(path)
    changed = small_index()
    changed.passages[2] = Passage(1, 0, "改过的段落。", None)
    save_index(changed, path)
    assert reader.passages[2].text.startswith("投入资金1.6亿元")  # the file it opened
    assert load_index(path).passages[2].text == "改过的段落。"


# ------------------------------------------------------------------ unusable index files


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def altered(sql: str) -> bytes:
    """The bytes of a valid small index after running `sql` on it."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "index.sqlite"
        save_index(small_index(), path)
        with contextlib.closing(sqlite3.connect(path)) as connection:
            connection.executescript(sql)
        return path.read_bytes()


def other_database() -> bytes:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "other.sqlite"
        with contextlib.closing(sqlite3.connect(path)) as connection:
            connection.executescript(
                "CREATE TABLE hello (world TEXT); INSERT INTO hello VALUES ('x');"
            )
        return path.read_bytes()


OLD_JSON_INDEX = json.dumps(
    {"format": "qabot-index", "version": 1, "analyzer": "x", "articles": []}
)
BAD_INDEXES = {
    "empty": "",
    "garbage": "this is not an index at all",
    "binary": bytes(range(256)),
    "json": '{"hello": "world"}',
    "old-json-index": OLD_JSON_INDEX,
    "other-database": other_database(),
    "old-version": altered("UPDATE meta SET value = '0' WHERE key = 'version'"),
    "newer-version": altered(
        f"UPDATE meta SET value = '{INDEX_VERSION + 1}' WHERE key = 'version'"
    ),
    "no-version": altered("DELETE FROM meta WHERE key = 'version'"),
    "articles-missing": altered("DROP TABLE articles"),
    "unreadable-counts": altered("UPDATE meta SET value = 'many' WHERE key = 'passages'"),
    "other-byte-order": altered("UPDATE meta SET value = 'middle' WHERE key = 'byteorder'"),
}


@pytest.mark.parametrize("content", BAD_INDEXES.values(), ids=BAD_INDEXES.keys())
def test_bad_index_is_unavailable_with_the_fix(tmp_path, content):
    path = write(tmp_path / "index.sqlite", content)
    with pytest.raises(IndexUnavailable) as caught:
        load_index(path)
    message = str(caught.value)
    assert FIX in message and "index.sqlite" in message
    assert "\n" not in message


@pytest.mark.parametrize("version", [1, INDEX_VERSION + 1])
def test_version_mismatch_says_which_versions(tmp_path, version):
    content = (
        OLD_JSON_INDEX
        if version == 1
        else altered(f"UPDATE meta SET value = '{version}' WHERE key = 'version'")
    )
    path = write(tmp_path / "index.sqlite", content)
    with pytest.raises(
        IndexUnavailable, match=f"version {version}, this qabot reads version {INDEX_VERSION}"
    ):
        load_index(path)


def test_truncated_index_is_unavailable(seed_index, tmp_path):
    data = seed_index.read_bytes()
    for cut in (len(data) // 2, len(data) - 1, 10):
        path = write(tmp_path / f"cut-{cut}.sqlite", data[:cut])
        with pytest.raises(IndexUnavailable, match=FIX):
            load_index(path)


def test_damage_found_while_reading_is_reported_with_the_fix(seed_index, tmp_path):
    """Opening reads no passage, so damage inside the file shows when a question reads it:
    then it is the same one-line `IndexUnavailable`, never another error."""
    from bot.qa.answerer import Answerer

    data = bytearray(seed_index.read_bytes())
    page = 4096
    for start in range(page, len(data) - page, page):  # every page but the header
        data[start : start + page] = bytes([0xA5]) * page
    path = write(tmp_path / "damaged.sqlite", bytes(data))
    with pytest.raises(IndexUnavailable, match=FIX):
        Answerer(load_index(path)).answer("哈密有多少个服务站?")


def test_missing_index_is_unavailable(tmp_path):
    with pytest.raises(IndexUnavailable) as caught:
        load_index(tmp_path / "never-built.sqlite")
    assert FIX in str(caught.value) and "never-built.sqlite" in str(caught.value)


def test_directory_in_place_of_the_index_is_unavailable(tmp_path):
    (tmp_path / "index.sqlite").mkdir()
    with pytest.raises(IndexUnavailable, match=FIX):
        load_index(tmp_path / "index.sqlite")


COMMANDS = [
    ["ask", "哈密有多少个服务站?"],
    ["ask", "--json", "哈密有多少个服务站?"],
    ["search", "服务站"],
    ["sources"],
    ["index", "stats"],
]


@pytest.mark.parametrize("case", ["missing", "garbage", "truncated", "newer-version"])
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_cli_reports_a_bad_index_in_one_line(tmp_path, capsys, seed_index, case, command):
    path = tmp_path / "index.sqlite"
    if case == "truncated":
        write(path, seed_index.read_bytes()[:1000])
    elif case != "missing":
        write(path, BAD_INDEXES[case])
    status = main([*command, "--index", str(path)])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert FIX in lines[0] and "Traceback" not in err


# ------------------------------------------------------------------ saves that fail


@pytest.fixture
def existing_index(tmp_path) -> Path:
    path = tmp_path / "store" / "index.sqlite"
    save_index(small_index(), path)
    return path


def _boom(*args, **kwargs):
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize(
    "target",
    ["index.store.json.dumps", "index.store.os.replace", "index.store.os.fsync"],
)
def test_failed_save_leaves_the_old_index_whole(existing_index, monkeypatch, target):
    before = existing_index.read_bytes()
    bigger = small_index()
    bigger.articles[0].title = "改过的标题"
    monkeypatch.setattr(target, _boom)
    with pytest.raises((OSError, IndexUnavailable)):
        save_index(bigger, existing_index)
    monkeypatch.undo()
    assert existing_index.read_bytes() == before
    assert load_index(existing_index).articles[0].title == "双拥花开哈密城"
    assert [p.name for p in existing_index.parent.iterdir()] == ["index.sqlite"]


def test_failed_write_midway_leaves_the_old_index_whole(existing_index, monkeypatch):
    before = existing_index.read_bytes()

    def disk_fills_up(*args, **kwargs):
        def rows():
            yield "哈密", 1.0, b"\0\0\0\0", b"\0" * 8
            raise sqlite3.OperationalError("database or disk is full")

        return 0.0, rows()

    monkeypatch.setattr("index.bm25.term_postings", disk_fills_up)
    with pytest.raises(IndexUnavailable, match="disk is full"):
        save_index(small_index(), existing_index)
    monkeypatch.undo()
    assert existing_index.read_bytes() == before
    assert [p.name for p in existing_index.parent.iterdir()] == ["index.sqlite"]


def test_build_that_cannot_save_keeps_the_old_index(seed_dir, tmp_path, monkeypatch):
    data = tmp_path / "articles"
    shutil.copytree(seed_dir, data)
    path = tmp_path / "index.sqlite"
    build_index(data, path)
    before = path.read_bytes()
    (data / "extra.txt").write_text(
        "青山县双拥工作综述\n青山县共建成128个退役军人服务站，投入资金2.3亿元。\n",
        encoding="utf-8",
    )
    monkeypatch.setattr("index.store.os.replace", _boom)
    with pytest.raises((OSError, IndexUnavailable)):
        build_index(data, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert len(load_index(path).articles) == 2


def test_unwritable_index_path_is_reported_with_the_fix(tmp_path):
    (tmp_path / "index.sqlite").mkdir()  # a folder where the file should go
    with pytest.raises(IndexUnavailable) as caught:
        save_index(small_index(), tmp_path / "index.sqlite")
    assert isinstance(caught.value, OSError)  # callers that handle OSError still do
    message = str(caught.value)
    assert "index.sqlite" in message and "--index" in message and "\n" not in message
    assert [p.name for p in tmp_path.iterdir()] == ["index.sqlite"]
