"""`qabot eval` and the floors it guards: the news dev split and the seed set (issue 11).

The floors are what the committed weights reach on the dev split, less a small margin: a
change that silently loses answers, or states more wrong ones, fails here. The test split is
never scored by the tests (it is reported, not tuned to).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.evaluate import evaluate, summary
from bot.qa.answerer import Answerer
from bot.qa.datasets import index_of, news_split, seed_set

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "data" / "eval" / "seeds" / "questions.jsonl"
# Floors on the dev split, set from the committed weights' figures (see the closing note of
# issue 11): the share of answerable questions right, and the share of stated answers right.
DEV_ANSWERABLE_RIGHT_FLOOR = 0.20
DEV_PRECISION_FLOOR = 0.75
SEEDS_ANSWERABLE_RIGHT_FLOOR = 0.75


@pytest.fixture(scope="module")
def dev_outcomes() -> list:
    dev = news_split("dev", REPO)
    return evaluate(Answerer(index_of(dev, REPO / ".cache" / "qabot")), dev.cases)


@pytest.fixture(scope="module")
def seed_outcomes() -> list:
    seeds = seed_set(REPO)
    return evaluate(Answerer(index_of(seeds, REPO / ".cache" / "qabot")), seeds.cases)


def test_dev_split_keeps_its_floors(dev_outcomes) -> None:
    result = summary(dev_outcomes)
    assert result.n >= 250
    assert result.answerable_right >= DEV_ANSWERABLE_RIGHT_FLOOR, result
    assert result.precision >= DEV_PRECISION_FLOOR, result


def test_seed_set_keeps_its_floor_and_abstains_on_every_unanswerable(seed_outcomes) -> None:
    result = summary(seed_outcomes)
    assert result.answerable_right >= SEEDS_ANSWERABLE_RIGHT_FLOOR, result
    assert result.counts["false_answer"] == 0, [
        (o.case.question, o.answer) for o in seed_outcomes if o.verdict == "false_answer"
    ]


def run_qabot(*args: str) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("qabot")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("QABOT_")}
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=REPO,
        env=environment,
        timeout=300,
    )


def rows(output: str) -> dict[str, list[str]]:
    """group -> the table's columns after the group name."""
    found = {}
    for line in output.splitlines():
        parts = line.rsplit(None, 9)
        if len(parts) == 10 and parts[1].isdigit():
            found[parts[0]] = parts[1:]
    return found


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from index.build import build_index

    path = tmp_path_factory.mktemp("index") / "index.sqlite"
    build_index(REPO / "data" / "articles", path)
    return path


def test_qabot_eval_prints_rows_by_language_and_kind(seed_index: Path) -> None:
    result = run_qabot("eval", "--index", str(seed_index), str(SEEDS))
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[0]
    for column in ("right", "wrong", "abst.", "false", "cite", "ans.right", "stated ok", "ECE"):
        assert column in header
    table = rows(result.stdout)
    cases = len(SEEDS.read_text(encoding="utf-8").splitlines())
    assert int(table["TOTAL"][0]) == cases
    for group in ("lang zh", "lang en", "lang zh-hant", "kind count", "kind unanswerable"):
        assert group in table, result.stdout


def test_qabot_eval_counts_each_kind_of_mistake(seed_index: Path, tmp_path: Path) -> None:
    """One question of each verdict: the table puts each in its column."""
    base = {"lang": "zh", "answerable": True, "evidence": None, "article": "hami"}
    cases = [
        {**base, "id": "right", "question": "哈密有多少个服务站?", "answers": ["285"]},
        {**base, "id": "wrong", "question": "哈密有多少个服务站?", "answers": ["999"]},
        {
            **base,
            "id": "false",
            "question": "哈密有多少家拥军门店?",
            "answers": [],
            "answerable": False,
        },
        {
            **base,
            "id": "cite",
            "question": "哈密有多少个服务站?",
            "answers": ["285"],
            "evidence": "不在文中",
        },
        {**base, "id": "abstain", "question": "上海有多少个退役军人服务站?", "answers": ["1"]},
    ]
    path = tmp_path / "mistakes.jsonl"
    path.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in cases) + "\n", "utf-8")
    result = run_qabot("eval", "--index", str(seed_index), str(path))
    assert result.returncode == 0, result.stderr
    right, wrong, abstained, false, cite = (int(x) for x in rows(result.stdout)["TOTAL"][1:6])
    assert (right, wrong, abstained, false, cite) == (1, 1, 1, 1, 1), result.stdout


def test_qabot_eval_reports_a_bad_question_file(seed_index: Path, tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text('{"id": "a", "question": "哈密有多少个服务站?"}\nnot json\n', "utf-8")
    result = run_qabot("eval", "--index", str(seed_index), str(path))
    assert result.returncode == 2
    assert "broken.jsonl" in result.stderr and "Traceback" not in result.stderr
