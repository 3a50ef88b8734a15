"""The fast jieba start (dictionary read lazily from the SQLite cache) changes nothing (issue 5).

Tokens, parts of speech, names and answers on the dev questions and the seed passages are
the same whether the tokenizers load jieba's dictionary in full or read it from the cache,
before and after the cache is loaded in full; a missing, stale or corrupt cache falls back to
the full load; and `qabot ask` prints the same answers with and without the cache.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.qa.answerer import Answerer
from bot.qa.question import kind_words
from index import analyzer
from index.build import build_index
from index.search import Searcher
from index.store import CorpusIndex

REPO = Path(__file__).resolve().parents[1]
DEV = REPO / "data" / "eval" / "seeds" / "questions.jsonl"


def dev_questions() -> list[str]:
    lines = DEV.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[CorpusIndex, Path]:
    data = tmp_path_factory.mktemp("seed-articles")
    for article in (REPO / "data" / "articles").iterdir():
        shutil.copy(article, data / article.name)
    path = tmp_path_factory.mktemp("seed-index") / "index.sqlite"
    index, _ = build_index(data, path)
    return index, path


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("QABOT_CACHE_DIR", str(directory))
    return directory


@pytest.fixture(scope="module")
def full_pair() -> tuple:
    return analyzer.load_tokenizers("full")


def cached_pair(cache_dir: Path) -> tuple:
    path = analyzer.dictionary_cache_path()
    assert path is not None and path.parent == cache_dir
    if not path.exists():
        tokenizer, pos = analyzer.load_tokenizers("full")
        assert analyzer.write_dictionary_cache(tokenizer, pos, path)
    pair = analyzer.load_tokenizers("cached")
    assert not isinstance(pair[0].FREQ, dict)  # really the lazy reader
    return pair


def analyses(pair: tuple, texts: list[str]) -> list:
    with analyzer.using_tokenizers(pair):
        out = []
        for text in texts:
            normalized = analyzer.normalize(text)
            out.append(
                (
                    analyzer.tokenize(text),
                    [tuple(p) for p in analyzer.pos_tokenizer().lcut(normalized)],
                    analyzer.get_tokenizer().lcut(normalized),
                    analyzer.get_tokenizer().lcut_for_search(normalized),
                    kind_words(normalized),
                )
            )
        return out


def texts_of(index: CorpusIndex) -> list[str]:
    return dev_questions() + [p.text for p in index.passages] + [a.title for a in index.articles]


def test_cached_dictionary_gives_identical_tokens(seed_index, cache_dir, full_pair) -> None:
    index, _ = seed_index
    texts = texts_of(index)
    assert analyses(cached_pair(cache_dir), texts) == analyses(full_pair, texts)


def test_tags_before_any_cut_are_the_same(cache_dir, full_pair) -> None:
    fast = cached_pair(cache_dir)
    full = analyzer.load_tokenizers("full")  # fresh: no cut yet, user tags not merged
    for word in ("哈密", "双拥", "服务站", "北京", "不在词典里的词", "的"):
        assert fast[1].word_tag_tab.get(word) == full[1].word_tag_tab.get(word), word
        assert (word in fast[0].FREQ) == (word in full[0].FREQ)
        assert fast[0].FREQ.get(word) == full[0].FREQ.get(word)
    assert fast[0].total == full[0].total
    assert fast[0].user_word_tag_tab == full[0].user_word_tag_tab


def test_identical_answers_on_dev_questions(seed_index, cache_dir, full_pair) -> None:
    index, _ = seed_index
    fast = cached_pair(cache_dir)
    answers = {}
    for name, pair in (("full", full_pair), ("cached", fast)):
        with analyzer.using_tokenizers(pair):
            answerer = Answerer(index, Searcher(index))
            answers[name] = [answerer.answer(q) for q in dev_questions()]
    assert answers["cached"] == answers["full"]


def test_loading_everything_midway_changes_nothing(
    seed_index, cache_dir, full_pair, monkeypatch
) -> None:
    index, _ = seed_index
    monkeypatch.setattr(analyzer, "PROMOTE_AFTER", 300)
    fast = cached_pair(cache_dir)
    texts = texts_of(index)
    assert analyses(fast, texts) == analyses(full_pair, texts)
    assert isinstance(fast[0].FREQ, dict) and isinstance(fast[1].word_tag_tab, dict)
    fast[0].add_word("新造词语", 5, "n")  # writes after the swap land in the plain dicts
    assert fast[0].FREQ["新造词语"] == 5


def test_missing_stale_or_corrupt_cache_falls_back(cache_dir, full_pair) -> None:
    path = analyzer.dictionary_cache_path()
    with pytest.raises(ValueError):
        analyzer.load_tokenizers("cached")
    tokenizer, _ = analyzer.load_tokenizers("auto")  # full load, then writes the cache
    assert isinstance(tokenizer.FREQ, dict) and path.exists()
    assert not isinstance(analyzer.load_tokenizers("auto")[0].FREQ, dict)
    path.write_bytes(b"not a database at all")
    assert isinstance(analyzer.load_tokenizers("auto")[0].FREQ, dict)  # corrupt: full load
    assert not isinstance(analyzer.load_tokenizers("cached")[0].FREQ, dict)  # rewritten
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE meta SET value = ? WHERE key = 'key'", (json.dumps("old"),))
    connection.close()
    with pytest.raises(ValueError):
        analyzer.load_tokenizers("cached")  # stale: not used


def test_cache_can_be_turned_off(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("QABOT_CACHE_DIR", "off")
    assert analyzer.cache_dir() is None and analyzer.dictionary_cache_path() is None
    tokenizer, _ = analyzer.load_tokenizers("auto")
    assert isinstance(tokenizer.FREQ, dict)
    monkeypatch.delenv("QABOT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert analyzer.cache_dir() == tmp_path / "qabot"


def _run(code: str, env: dict) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_jieba_imported_without_pkg_resources_reads_the_same(tmp_path) -> None:
    env = dict(os.environ, QABOT_CACHE_DIR="off")
    sentence = "哈密市累计投入5.6亿元,为驻哈部队升级训练设施。我爱北京天安门"
    plain = _run(
        "import jieba, jieba.posseg, json;"
        f"print(json.dumps([jieba.lcut({sentence!r}), [tuple(p) for p in jieba.posseg.lcut({sentence!r})]]))",
        env,
    )
    ours = _run(
        "import sys, json; import index.analyzer; import jieba, jieba.posseg;"
        "assert 'pkg_resources' not in sys.modules;"
        f"print(json.dumps([jieba.lcut({sentence!r}), [tuple(p) for p in jieba.posseg.lcut({sentence!r})]]))",
        env,
    )
    assert ours == plain


def test_qabot_ask_prints_the_same_answers(seed_index, tmp_path) -> None:
    _, index_path = seed_index
    questions = "\n".join(dev_questions()) + "\n"
    script = Path(sys.executable).with_name("qabot")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]
    command += ["ask", "--json", "--index", str(index_path), "-"]
    outputs = {}
    for name, cache in (
        ("full", "off"),
        ("first", str(tmp_path / "c")),
        ("cached", str(tmp_path / "c")),
    ):
        env = dict(os.environ, QABOT_CACHE_DIR=cache)
        completed = subprocess.run(
            command,
            input=questions,
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert completed.returncode == 0, completed.stderr
        outputs[name] = completed.stdout
    assert list((tmp_path / "c").glob("jieba-*.sqlite"))  # the first run wrote the cache
    assert len(outputs["full"].splitlines()) == len(dev_questions())
    assert outputs["first"] == outputs["full"]
    assert outputs["cached"] == outputs["full"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_children_read_the_cache_on_their_own_connection(cache_dir, full_pair) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    texts = ["伊吾县烈士陵园内的纪念馆经过2100万元升级改造", "巴里坤县海子沿乡的牧民"]
    fast = cached_pair(cache_dir)
    with analyzer.using_tokenizers(fast):
        analyzer.tokenize("哈密")  # the parent has used its connection
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
            forked = list(pool.map(analyzer.tokenize, texts))
    with analyzer.using_tokenizers(full_pair):
        assert forked == [analyzer.tokenize(t) for t in texts]
