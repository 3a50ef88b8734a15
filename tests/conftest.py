"""Shared test fixtures: the two real seed articles copied to a temporary folder and indexed once.

Nothing here writes into the repository's own `data/` folder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "data" / "articles"
HAMI = "hami-shuangyong-model-city.txt"
ZHANGYE = "zhangye-shuangyong-model-city-2024-08-01.txt"


def copy_seeds(target: Path) -> Path:
    """Copy the seed articles into `target` (created if needed) and return it."""
    target.mkdir(parents=True, exist_ok=True)
    for name in (HAMI, ZHANGYE):
        shutil.copy(SEEDS / name, target / name)
    return target


@pytest.fixture(scope="session")
def seed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A read-only copy of the seed articles (tests that change files make their own copy)."""
    return copy_seeds(tmp_path_factory.mktemp("seed-articles"))


@pytest.fixture(scope="session")
def seed_index(seed_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed articles' index file, built once per session; do not modify it."""
    from index.build import build_index

    path = tmp_path_factory.mktemp("seed-index") / "index.sqlite"
    _, report = build_index(seed_dir, path)
    assert report.articles == 2 and not report.skipped, report.summary()
    return path


@pytest.fixture
def clean_environment(monkeypatch, tmp_path):
    """(use with `pytestmark = pytest.mark.usefixtures("clean_environment")`) No QABOT_* variables or .env file of the developer's leak into a test."""
    for name in list(os.environ):
        if name.startswith("QABOT_") and name != "QABOT_CACHE_DIR":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def fake():
    """A fake Telegram Bot API server (tests/fake_bot_api.py), one per test module."""
    from fake_bot_api import FakeBotAPI

    with FakeBotAPI() as api:
        yield api
