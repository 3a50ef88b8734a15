"""Building the index: incremental rebuilds, files that cannot be used, and BM25's pitfalls.

Rebuilds only read and tokenise what changed; a file that cannot be used is skipped with a
one-line reason while everything else is indexed; BM25 never divides by zero, never ranks a
non-matching passage and never returns a passage that scored nothing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

import index.build as build_module
from index.analyzer import tokenize
from index.build import build_index
from index.passages import Passage
from index.search import ENGINES, Searcher
from index.store import ArticleRecord, CorpusIndex, StoredIndex, load_index, save_index

HAMI = "hami-shuangyong-model-city.txt"
ZHANGYE = "zhangye-shuangyong-model-city-2024-08-01.txt"
NEW_ARTICLE = (
    "青山县双拥工作综述\n"
    "来源:青山日报\n"
    "2023年05月18日 09:30\n"
    "青山县共建成128个退役军人服务站，投入资金2.3亿元，为驻地部队划拨训练用地860余亩。\n"
    "青山县已连续四次被评为省级双拥模范县。\n"
)


class Calls:
    """Counts the articles read and the texts tokenised during a build."""

    def __init__(self, monkeypatch):
        self.read: list[str] = []
        self.tokenized = 0
        real_read, real_tokenize = build_module.read_article, build_module.tokenize

        def read_article(path, data_dir):
            self.read.append(Path(path).name)
            return real_read(path, data_dir)

        def counting_tokenize(text):
            self.tokenized += 1
            return real_tokenize(text)

        monkeypatch.setattr(build_module, "read_article", read_article)
        monkeypatch.setattr(build_module, "tokenize", counting_tokenize)

    def reset(self):
        self.read.clear()
        self.tokenized = 0


@pytest.fixture
def corpus(seed_dir, tmp_path):
    """A private copy of the seed articles with an index built from them."""
    data = tmp_path / "articles"
    shutil.copytree(seed_dir, data)
    path = tmp_path / "index.sqlite"
    build_index(data, path)
    return data, path


def titles(path: Path) -> list[str]:
    return [a.title for a in load_index(path).articles]


def paths(path: Path) -> list[str]:
    return [a.path for a in load_index(path).articles]


def best_text(index_path: Path, query: str) -> str | None:
    hits = Searcher(load_index(index_path)).search(query, top_k=1)
    return hits[0].passage.text if hits else None


# ------------------------------------------------------------------ incremental rebuilds


def test_first_build_reads_every_article(seed_dir, tmp_path, monkeypatch):
    calls = Calls(monkeypatch)
    index, report = build_index(seed_dir, tmp_path / "index.sqlite")
    assert sorted(calls.read) == [HAMI, ZHANGYE]
    assert calls.tokenized == len(index.passages)
    assert (report.articles, report.read, report.reused, report.removed) == (2, 2, 0, 0)
    assert report.passages == len(index.passages) > 20


def test_unchanged_articles_are_not_read_or_tokenised_again(corpus, monkeypatch):
    data, path = corpus
    before = load_index(path).in_memory()
    calls = Calls(monkeypatch)
    index, report = build_index(data, path)
    assert calls.read == [] and calls.tokenized == 0
    assert (report.read, report.reused, report.removed) == (0, 2, 0)
    assert index.passages == before.passages and index.tokens == before.tokens


def test_a_rebuild_reuses_the_name_readings_it_has(corpus, monkeypatch):
    """Names' and words' pinyin (for English questions) is read once: an unchanged rebuild
    keeps it without pypinyin; only a new article's words are read."""
    import index.analyzer as analyzer

    data, path = corpus
    before = load_index(path)
    assert before.name_readings["哈密"] == "hami"
    read = []
    monkeypatch.setattr(analyzer, "toneless_pinyin", lambda word: read.append(word) or "x")
    index, _ = build_index(data, path)
    assert read == [] and index.name_readings == before.name_readings
    assert index.word_readings == before.word_readings() and index.word_readings["服务"] == "fuwu"
    (data / "qingshan.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    index, _ = build_index(data, path)
    assert "青山" in read and index.name_readings["青山"] == "x"
    assert read and not set(read) & set(before.word_readings())  # only the new article's words


def test_touched_but_identical_file_is_not_read_again(corpus, monkeypatch):
    data, path = corpus
    os.utime(data / HAMI, (1, 1))
    calls = Calls(monkeypatch)
    build_index(data, path)
    assert calls.read == []


def test_changed_file_is_read_again_and_only_it(corpus, monkeypatch):
    data, path = corpus
    hami = data / HAMI
    hami.write_text(
        hami.read_text(encoding="utf-8").replace("285个服务站", "300个服务站"), encoding="utf-8"
    )
    calls = Calls(monkeypatch)
    index, report = build_index(data, path)
    assert calls.read == [HAMI]
    assert (report.read, report.reused) == (1, 1)
    assert calls.tokenized == sum(1 for p in index.passages if p.article == paths(path).index(HAMI))
    assert "300个服务站" in best_text(path, "哈密有多少个服务站")
    assert all("285个服务站" not in p.text for p in load_index(path).passages)


def test_deleted_file_disappears(corpus, monkeypatch):
    data, path = corpus
    (data / HAMI).unlink()
    calls = Calls(monkeypatch)
    _, report = build_index(data, path)
    assert calls.read == []
    assert (report.articles, report.removed) == (1, 1)
    assert paths(path) == [ZHANGYE]
    assert all(p.article == 0 for p in load_index(path).passages)
    assert "285个服务站" not in (best_text(path, "哈密285个服务站") or "")


def test_new_file_appears_and_only_it_is_read(corpus, monkeypatch):
    data, path = corpus
    (data / "sub").mkdir()
    (data / "sub" / "qingshan.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    calls = Calls(monkeypatch)
    _, report = build_index(data, path)
    assert calls.read == ["qingshan.txt"]
    assert (report.articles, report.read, report.reused) == (3, 1, 2)
    assert "sub/qingshan.txt" in paths(path)
    assert "青山县双拥工作综述" in titles(path)
    assert "128个退役军人服务站" in best_text(path, "青山县有多少个退役军人服务站")


def test_renamed_file_keeps_its_passages_under_the_new_name(corpus):
    data, path = corpus
    (data / HAMI).rename(data / "hami-renamed.txt")
    build_index(data, path)
    assert sorted(paths(path)) == ["hami-renamed.txt", ZHANGYE]
    hits = Searcher(load_index(path)).search("285个服务站", top_k=1)
    assert load_index(path).articles[hits[0].passage.article].path == "hami-renamed.txt"


def test_index_of_another_pipeline_is_rebuilt_in_full(corpus, monkeypatch):
    data, path = corpus
    monkeypatch.setattr(build_module, "pipeline_version", lambda: "some-other-version")
    calls = Calls(monkeypatch)
    build_index(data, path)
    assert sorted(calls.read) == [HAMI, ZHANGYE]


def test_corrupt_previous_index_is_rebuilt_in_full(corpus, monkeypatch):
    data, path = corpus
    path.write_text("{ not json", encoding="utf-8")
    calls = Calls(monkeypatch)
    _, report = build_index(data, path)
    assert sorted(calls.read) == [HAMI, ZHANGYE] and report.articles == 2
    assert len(load_index(path).articles) == 2


def test_rebuild_gives_the_same_index_as_a_fresh_build(corpus, tmp_path):
    data, path = corpus
    (data / "qingshan.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    incremental, _ = build_index(data, path)
    fresh, _ = build_index(data, tmp_path / "fresh.sqlite")
    assert incremental.articles == fresh.articles
    assert incremental.passages == fresh.passages
    assert incremental.tokens == fresh.tokens


def test_an_incremental_rebuild_keeps_the_addresses(corpus, monkeypatch):
    """An unchanged file is not read again and keeps its address; a file whose address
    changes is read again; a new page brings its own."""
    data, path = corpus
    qingshan = data / "qingshan.md"
    qingshan.write_text("---\nurl: https://www.qingshan.cn/xw/1.html\n---\n" + NEW_ARTICLE, "utf-8")
    page = data / "hongshan.html"
    page.write_text(
        '<html><head><title>红山镇举行八一慰问活动</title><meta property="og:url" '
        'content="https://www.hongshan.cn/a/31.html"></head><body><p>7月30日，红山镇组织开展'
        "八一建军节慰问活动，走访慰问驻地部队和优抚对象120户，送去慰问金35万元。</p></body></html>",
        encoding="utf-8",
    )
    build_index(data, path)

    def addresses() -> dict[str, str | None]:
        return {a.path: a.url for a in load_index(path).articles}

    expected = {
        HAMI: None,
        ZHANGYE: None,
        "qingshan.md": "https://www.qingshan.cn/xw/1.html",
        "hongshan.html": "https://www.hongshan.cn/a/31.html",
    }
    assert addresses() == expected
    calls = Calls(monkeypatch)
    _, report = build_index(data, path)
    assert calls.read == [] and report.reused == 4
    assert addresses() == expected
    qingshan.write_text(qingshan.read_text("utf-8").replace("/xw/1.html", "/xw/2.html"), "utf-8")
    _, report = build_index(data, path)
    assert calls.read == ["qingshan.md"] and report.reused == 3
    assert addresses() == expected | {"qingshan.md": "https://www.qingshan.cn/xw/2.html"}


def test_missing_data_directory_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        build_index(tmp_path / "nowhere", tmp_path / "index.sqlite")


# ------------------------------------------------------------------ skipped files

JUNK = {
    "empty.txt": b"",
    "blank.md": b"   \n\n\t \n",
    "photo.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8,
    "garbled.txt": bytes((i * 131 + 7) % 128 + 128 for i in range(5000)),
    "report.pdf": b"%PDF-1.4 binary stuff",
    "notes.docx": b"PK\x03\x04",
    "README": "青山县双拥工作综述".encode(),
    "menu.html": "<html><body><nav>首页 | 新闻 | 登录</nav></body></html>".encode(),
}


@pytest.fixture
def junk_build(corpus, monkeypatch):
    data, path = corpus
    for name, content in JUNK.items():
        (data / name).write_bytes(content)
    calls = Calls(monkeypatch)
    index, report = build_index(data, path)
    return data, path, index, report, calls


def test_junk_is_skipped_with_one_line_reasons(junk_build):
    _, _, _, report, _ = junk_build
    reasons = dict(report.skipped)
    assert set(reasons) == set(JUNK)
    for name, reason in reasons.items():
        assert reason and "\n" not in reason and len(reason) < 100, (name, reason)
    assert "empty" in reasons["empty.txt"] and "empty" in reasons["blank.md"]
    assert "binary" in reasons["photo.txt"]
    assert "encoding" in reasons["garbled.txt"] or "undecodable" in reasons["garbled.txt"]
    assert "not an article file" in reasons["report.pdf"]
    assert "not an article file" in reasons["README"]
    assert "no article text" in reasons["menu.html"]


def test_build_goes_on_beside_junk_and_keeps_unchanged_articles(junk_build):
    _, path, index, report, calls = junk_build
    assert report.articles == 2 and report.reused == 2 and report.removed == 0
    assert sorted(a.path for a in index.articles) == [HAMI, ZHANGYE]
    # only files that could be articles were opened as articles; the seeds were not re-read
    assert HAMI not in calls.read and ZHANGYE not in calls.read
    assert "285个服务站" in best_text(path, "哈密有多少个服务站")


def test_report_summary_counts_skipped(junk_build):
    _, _, _, report, _ = junk_build
    summary = report.summary()
    assert "2 articles" in summary and f"{len(JUNK)} skipped" in summary


def test_a_copy_of_an_indexed_article_does_not_replace_it(corpus, monkeypatch):
    data, path = corpus
    # sorts before the original: "a-copy..." < "hami-..."
    shutil.copy(data / HAMI, data / "a-copy-of-hami.txt")
    calls = Calls(monkeypatch)
    _, report = build_index(data, path)
    assert calls.read == []
    assert dict(report.skipped) == {"a-copy-of-hami.txt": f"same content as {HAMI}"}
    assert sorted(paths(path)) == [HAMI, ZHANGYE]
    assert (report.reused, report.removed) == (2, 0)


def test_identical_new_files_are_indexed_once(tmp_path):
    data = tmp_path / "articles"
    data.mkdir()
    (data / "b.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    (data / "a.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    index, report = build_index(data, tmp_path / "index.sqlite")
    assert [a.path for a in index.articles] == ["a.txt"]
    assert report.skipped == [("b.txt", "same content as a.txt")]


def test_a_sentence_an_article_repeats_is_one_passage_and_does_not_outweigh_the_others(tmp_path):
    """A scraped page that repeats one sentence thousands of times (issue 12) is indexed as the
    sentence once; another article's passage keeps its place in the ranking."""
    data = tmp_path / "articles"
    data.mkdir()
    (data / "qingshan.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    spam = "青山县退役军人服务站欢迎您。" * 5000
    (data / "spam.txt").write_text("广告页\n" + "\n".join([spam] * 4), encoding="utf-8")
    index, _ = build_index(data, tmp_path / "index.sqlite")
    spam_number = next(i for i, a in enumerate(index.articles) if a.path == "spam.txt")
    spam_passages = [index.passages[i].text for i in index.passages_of(spam_number)]
    assert len(spam_passages) == len(set(spam_passages)) == 1
    hits = Searcher(index).search("青山县 服务站 128个", top_k=1)
    assert "128个" in hits[0].passage.text


def test_hidden_files_and_folders_are_ignored(corpus):
    data, path = corpus
    (data / ".draft.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    (data / ".git").mkdir()
    (data / ".git" / "article.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    _, report = build_index(data, path)
    assert report.articles == 2 and report.skipped == []


def test_index_file_inside_the_data_folder_is_not_an_article(seed_dir, tmp_path):
    data = tmp_path / "articles"
    shutil.copytree(seed_dir, data)
    build_index(data, data / "index.sqlite")
    _, report = build_index(data, data / "index.sqlite")
    assert report.articles == 2 and report.skipped == [] and report.reused == 2


def test_empty_data_folder_gives_an_empty_index(tmp_path):
    (tmp_path / "articles").mkdir()
    index, report = build_index(tmp_path / "articles", tmp_path / "index.sqlite")
    assert report.articles == 0 and report.passages == 0
    assert Searcher(load_index(tmp_path / "index.sqlite")).search("服务站") == []


# ------------------------------------------------------------------ BM25 pitfalls


def make_index(*texts: str) -> CorpusIndex:
    index = CorpusIndex(analyzer="test")
    index.articles.append(ArticleRecord("a.txt", "0" * 64, "测试"))
    for position, text in enumerate(texts):
        index.passages.append(Passage(0, position, text))
        index.tokens.append(tokenize(text))
    return index


@pytest.fixture(params=ENGINES)
def engine(request):
    return request.param


def searcher_for(index: CorpusIndex | StoredIndex, engine: str) -> Searcher:
    """`engine` over `index`: "stored" reads it saved to a file, the others read it in memory."""
    if engine == "stored":
        if isinstance(index, CorpusIndex):
            path = Path(tempfile.mkdtemp(prefix="qabot-stored-")) / "index.sqlite"
            save_index(index, path)
            index = load_index(path)
        return Searcher(index)
    if isinstance(index, StoredIndex):
        index = index.in_memory()
    return Searcher(index, engine=engine)


def test_empty_corpus_gives_no_results(engine):
    searcher = searcher_for(make_index(), engine)
    assert searcher.search("哈密有多少个服务站") == []
    assert searcher.search("") == []


def test_corpus_without_tokens_gives_no_results(engine):
    searcher = searcher_for(make_index("。", "的"), engine)
    assert searcher.search("服务站") == []


def test_single_passage_corpus_finds_its_passage(engine):
    searcher = searcher_for(make_index("哈密市建成285个服务站。"), engine)
    hits = searcher.search("哈密服务站")
    assert len(hits) == 1 and hits[0].score > 0
    assert searcher.search("张掖") == []


def test_two_passage_corpus_ranks_the_matching_one_first(engine):
    searcher = searcher_for(make_index("哈密有285个服务站。", "张掖有963个服务站。"), engine)
    hits = searcher.search("哈密服务站")
    assert hits[0].passage.text.startswith("哈密") and hits[0].score > 0
    assert all(h.score > 0 for h in hits)
    if len(hits) > 1:
        assert hits[0].score > hits[1].score


def test_term_in_every_passage_still_ranks_and_scores_positive(engine):
    texts = ["哈密建成285个服务站。", "哈密投入5.6亿元。", "哈密划拨5.4万亩土地。"]
    searcher = searcher_for(make_index(*texts), engine)
    hits = searcher.search("哈密", top_k=5)
    assert len(hits) == 3 and all(h.score > 0 for h in hits)
    best = searcher.search("哈密5.6亿元", top_k=5)
    assert best[0].passage.text == "哈密投入5.6亿元。" and best[0].score > best[1].score > 0


def test_passages_scoring_zero_are_not_returned(engine):
    texts = ["哈密建成285个服务站。", "张掖投入1.6亿元。", "伊吾县烈士陵园。", "巴里坤湖畔。"]
    searcher = searcher_for(make_index(*texts), engine)
    hits = searcher.search("服务站", top_k=10)
    assert [h.passage.text for h in hits] == ["哈密建成285个服务站。"]
    assert searcher.search("上海迪士尼", top_k=10) == []


def test_top_k_is_respected_and_ranked(engine, seed_index):
    searcher = searcher_for(load_index(seed_index), engine)
    hits = searcher.search("双拥工作", top_k=3)
    assert len(hits) == 3
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert searcher.search("双拥工作", top_k=0) == []


@pytest.mark.parametrize("query", ["哈密有多少个服务站", "张掖投入1.6亿", "双拥", "上海"])
def test_engines_agree_on_the_seed_index(seed_index, query):
    index = load_index(seed_index)
    results = {
        engine: [
            (h.passage_id, round(h.score, 9)) for h in searcher_for(index, engine).search(query)
        ]
        for engine in ENGINES
    }
    assert len({tuple(r) for r in results.values()}) == 1, results


def test_many_new_files_are_read_on_every_core_into_the_same_index(seed_dir, tmp_path, monkeypatch):
    """Past PARALLEL_FROM_FILES new files a build reads them in worker processes (issue 12);
    the index is the one a build in one process makes, article for article."""
    data = tmp_path / "articles"
    shutil.copytree(seed_dir, data)
    for number in range(6):
        text = NEW_ARTICLE.replace("青山县", f"青山{number}县").replace("128", str(100 + number))
        (data / f"qingshan-{number}.txt").write_text(text, encoding="utf-8")
    (data / "broken.html").write_bytes(b"\x00\x01 not an article")
    alone, alone_report = build_index(data, tmp_path / "alone.sqlite")
    pools = []

    class CountedPool(build_module.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            pools.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(build_module, "ProcessPoolExecutor", CountedPool)
    monkeypatch.setattr(build_module, "PARALLEL_FROM_FILES", 2)
    monkeypatch.setattr(build_module, "MAX_WORKERS", 2)
    monkeypatch.setattr(build_module.os, "cpu_count", lambda: 2)
    pooled, pooled_report = build_index(data, tmp_path / "pooled.sqlite")
    assert len(pools) == (1 if threading.active_count() == 1 else 0)
    assert pooled_report.read == alone_report.read == 8
    assert pooled_report.skipped == alone_report.skipped and pooled_report.skipped
    assert pooled.articles == alone.articles
    assert pooled.passages == alone.passages and pooled.tokens == alone.tokens
