"""Property-based tests that tests/test_properties.py does not have: whole files through
ingestion (any bytes, any suffix), a build never disturbed by junk beside an article, file
names for uploads, the index file's round trip, search on any query, and any answer rendered
as Telegram would accept it (HTML that parses, messages under 4,096 characters).

tests/test_properties.py already covers normalisation, tokenisation, figures, `parse_text`,
`decode_bytes` and answers quoted from their citation for any question text.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from fake_bot_api import check_html, utf16_len
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.qa.answerer import Answerer
from bot.render import answer_json, render_html, render_text
from bot.telegram import MAX_MESSAGE, render_more, split_html
from index.add import add_bytes, safe_filename
from index.build import build_index
from index.ingest import ARTICLE_SUFFIXES, UnreadableFile, markdown_to_text, read_article
from index.passages import Passage, split_article
from index.store import ArticleRecord, CorpusIndex, load_index, save_index

REPO = Path(__file__).resolve().parents[1]
QINGSHAN = (
    "青山县双拥工作综述\n来源：青山日报\n2023年05月18日 09:30\n"
    "青山县共建成128个退役军人服务站，投入资金2.3亿元，为驻地部队划拨训练用地860余亩。\n"
    "青山县已连续四次被评为省级双拥模范县。\n"
)
few = settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))

# Bytes that look like what lands in an articles folder: text in several encodings, markup,
# binary headers, BOMs, NULs, and plain noise.
fragments = st.sampled_from(
    [
        "哈密有285个服务站。".encode(),
        "張掖投入1.6億元。".encode("big5"),
        "张掖投入1.6亿元。".encode("gbk"),
        "<html><body><p>",
        "</p></body></html>",
        "<script>x()</script>",
        "# 标题\n",
        "[链接](http://a)",
        "![图](x.png)",
        "\n\n",
        "来源：测试日报\n",
        "2024-08-01\n",
        b"\xef\xbb\xbf",
        b"\xff\xfe",
        b"\x00",
        b"\x89PNG\r\n\x1a\n",
        b"%PDF-1.4",
        "😀",
    ]
).map(lambda f: f.encode() if isinstance(f, str) else f)
file_bytes = st.one_of(
    st.binary(max_size=400),
    st.lists(st.one_of(fragments, st.binary(max_size=8)), max_size=30).map(b"".join),
)
suffixes = st.sampled_from(sorted(ARTICLE_SUFFIXES) + [".pdf", "", ".TXT"])


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("properties")


@few
@given(data=file_bytes, suffix=suffixes)
def test_any_file_is_an_article_or_says_why_in_one_line(scratch, data, suffix):
    path = scratch / f"article{suffix}"
    path.write_bytes(data)
    try:
        article = read_article(path, scratch)
    except UnreadableFile as exc:
        assert str(exc) and "\n" not in str(exc) and len(str(exc)) < 100
        return
    assert article.paragraphs and isinstance(article.title, str)
    body = "\n".join(block.text for block in article.blocks)
    for passage in split_article(article, 0):
        assert passage.text in body  # passages quote the article


@few
@given(st.text(max_size=300))
def test_markdown_to_text_never_fails(text):
    assert isinstance(markdown_to_text(text), str)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(junk=st.dictionaries(st.sampled_from(["a.txt", "b.md", "z.html", "x/y.txt"]), file_bytes))
def test_junk_beside_an_article_never_changes_its_passages(junk):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        clean, dirty = root / "clean", root / "dirty"
        for data in (clean, dirty):
            data.mkdir()
            (data / "qingshan.txt").write_text(QINGSHAN, encoding="utf-8")
        for name, content in junk.items():
            (dirty / name).parent.mkdir(parents=True, exist_ok=True)
            (dirty / name).write_bytes(content)
        reference, _ = build_index(clean, root / "clean.json")
        index, report = build_index(dirty, root / "dirty.json")
        number = [a.path for a in index.articles].index("qingshan.txt")
        mine = [(p.text, p.heading) for p in index.passages if p.article == number]
        assert mine == [(p.text, p.heading) for p in reference.passages]
        assert len(index.articles) + len(report.skipped) == 1 + len(junk)


names = st.lists(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=6)
    | st.sampled_from(["/", "\\", "..", ".", "-", ".txt", ".md", ".html", "\u202e", "\u200b"]),
    max_size=12,
).map("".join)


@few
@given(names)
def test_any_uploaded_name_stays_in_the_data_folder_as_an_article(scratch, name):
    safe = safe_filename(name)
    assert "/" not in safe and "\x00" not in safe and not safe.startswith((".", "-", " "))
    assert Path(safe).suffix in ARTICLE_SUFFIXES and len(safe) <= 110
    folder = scratch / "uploads"
    saved = add_bytes(name, QINGSHAN.encode(), folder)
    assert saved.parent == folder and saved.read_text(encoding="utf-8") == QINGSHAN
    saved.unlink()


texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@few
@given(
    articles=st.lists(
        st.tuples(
            texts, st.one_of(st.none(), texts), st.lists(st.tuples(texts, texts), max_size=3)
        ),
        max_size=3,
    )
)
def test_any_index_survives_a_round_trip(scratch, articles):
    index = CorpusIndex(analyzer="property", created="2026-01-01T00:00:00+00:00")
    for number, (title, date, passages) in enumerate(articles):
        index.articles.append(ArticleRecord(f"{number}.txt", "0" * 64, title, date, None, None))
        for position, (text, token) in enumerate(passages):
            index.passages.append(Passage(number, position, text, None))
            index.tokens.append([token])
    path = scratch / "round-trip.sqlite"
    save_index(index, path)
    again = load_index(path).in_memory()
    assert (again.articles, again.passages, again.tokens) == (
        index.articles,
        index.passages,
        index.tokens,
    )


@pytest.fixture(scope="module")
def answerer(tmp_path_factory) -> Answerer:
    folder = tmp_path_factory.mktemp("seed")
    for name in ("hami-shuangyong-model-city.txt", "zhangye-shuangyong-model-city-2024-08-01.txt"):
        shutil.copy(REPO / "data" / "articles" / name, folder / name)
    index, _ = build_index(folder, folder / "index.sqlite")
    return Answerer(index)


questions = st.one_of(
    st.text(max_size=120),
    st.lists(
        st.sampled_from(
            [
                "哈密",
                "张掖",
                "有多少",
                "个",
                "服务站",
                "投入",
                "资金",
                "<b>",
                "&amp;",
                "</i>",
                "*",
                "`",
                "How many",
                "stations",
                "?",
                "？",
                " ",
                "😀",
                "\x1b",
                "Tom",
                "北京",
            ]
        ),
        max_size=12,
    ).map("".join),
)


@few
@given(questions)
def test_search_on_any_query_ranks_positive_scores(answerer, query):
    hits = answerer.searcher.search(query, top_k=5)
    scores = [hit.score for hit in hits]
    assert all(score > 0 for score in scores) and scores == sorted(scores, reverse=True)


@few
@given(questions)
def test_any_answer_renders_as_telegram_accepts_it(answerer, question):
    answer = answerer.answer(question)
    chunks = split_html(render_html(answer))
    assert chunks
    for chunk in chunks:
        assert check_html(chunk) is None and utf16_len(chunk) <= MAX_MESSAGE
    more, _ = render_more(answer, question, 0)
    assert all(check_html(chunk) is None for chunk in split_html(more))
    assert render_text(answer).strip()
    json.dumps(answer_json(answer), ensure_ascii=False)
