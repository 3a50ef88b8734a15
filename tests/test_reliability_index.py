"""The index: missing, truncated, corrupted, from an older version, or being rebuilt while
questions arrive.

- Every unusable index is one line naming the problem and the fix, from `qabot ask` and from
  `qabot serve` alike (tests/test_store.py covers more shapes through `bot.cli.main`).
- A rebuild killed (SIGKILL) at random moments, and once while it writes the new file, leaves
  the old index byte for byte, so `qabot ask --json` answers exactly as before.
- Readers never see half an index while it is replaced; `QAService.rebuild()` swaps the
  answerer atomically under concurrent questions and keeps the old one when a rebuild fails.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
from fake_bot_api import clean_env, qabot_command

from bot.qa.answerer import Answerer
from bot.service import QAService
from index.build import build_index
from index.store import (
    LEFTOVER_AGE,
    CorpusIndex,
    IndexUnavailable,
    load_index,
    save_index,
)

REPO = Path(__file__).resolve().parents[1]
FIX = "run `qabot index build` to rebuild it"
KILLS = 5  # random moments, plus one while the new index is being written


def generated_article(number: int, stations: int) -> str:
    """A made-up article about county number `number` (about 2 KB, a dozen passages)."""
    lines = [f"示范县{number}号双拥工作综述", "2024-03-01 来源：测试日报"]
    for batch in range(12):
        lines.append(
            f"示范县{number}号第{batch}批共建项目累计投入资金{number + batch}万元，"
            f"建成拥军服务站{stations + batch}个，军民共建成果丰硕，群众满意度持续提升。"
            f"驻地部队官兵参加抢险救灾{batch + 3}次，植树造林{number * 2 + batch}亩。"
        )
    return "\n\n".join(lines)


def qabot(
    *args: str, stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*qabot_command(), *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=clean_env(),
        timeout=timeout,
    )


# ------------------------------------------------------------------ a rebuild killed midway


def builds_running(index_path: Path) -> list[int]:
    """Processes of `qabot index build ... --index index_path` still alive (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"build" in command and str(index_path).encode() in command:
            found.append(int(entry.name))
    return found


@pytest.mark.slow  # ~45 s: `make test-slow`
def test_a_rebuild_killed_at_any_moment_leaves_the_old_index_answering(tmp_path):
    data, index_path = tmp_path / "articles", tmp_path / "index.sqlite"
    data.mkdir()
    for name in ("hami-shuangyong-model-city.txt", "zhangye-shuangyong-model-city-2024-08-01.txt"):
        (data / name).write_bytes((REPO / "data" / "articles" / name).read_bytes())
    for number in range(200):
        (data / f"a-{number:04d}.txt").write_text(generated_article(number, 100), "utf-8")
    build = ["index", "build", "--data-dir", str(data), "--index"]
    assert qabot(*build, str(index_path)).returncode == 0
    questions = [
        "哈密有多少个服务站?",
        "张掖投入了多少资金?",
        "示范县7号第3批建成了多少个拥军服务站?",
        "示范县150号植树造林多少亩?",
        "示范县320号第1批建成了多少个拥军服务站?",  # not in the index yet
    ]
    stdin = "\n".join(questions) + "\n"
    before = qabot("ask", "--json", "--index", str(index_path), "-", stdin=stdin).stdout
    old_bytes = index_path.read_bytes()

    # what the rebuild has to do: 200 new articles, 30 changed, 10 deleted
    for number in range(200, 400):
        (data / f"b-{number:04d}.txt").write_text(generated_article(number, 100), "utf-8")
    for number in range(0, 30):
        (data / f"a-{number:04d}.txt").write_text(generated_article(number, 500), "utf-8")
    for number in range(190, 200):
        (data / f"a-{number:04d}.txt").unlink()

    # how long a complete rebuild takes, and what it gives (on a copy of the index)
    finished_path = tmp_path / "finished.sqlite"
    finished_path.write_bytes(old_bytes)
    started = time.monotonic()
    assert qabot(*build, str(finished_path)).returncode == 0
    duration = time.monotonic() - started
    after = qabot("ask", "--json", "--index", str(finished_path), "-", stdin=stdin).stdout
    assert after != before  # the rebuild changes answers, so a half-applied one would show
    finished = load_index(finished_path)

    seed = int(os.environ.get("QABOT_KILL_SEED", time.time_ns() % 10_000))
    rng = random.Random(seed)
    moments = [rng.uniform(0.05, 0.9) * duration for _ in range(KILLS)]
    outcomes = []
    for moment in [*moments, "writing"]:
        process = subprocess.Popen(
            [*qabot_command(), *build, str(index_path)],
            env=clean_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if moment == "writing":  # the moment the new index is half written
            while process.poll() is None and not list(tmp_path.glob(".index.sqlite.*.tmp")):
                time.sleep(0.0005)
        else:
            time.sleep(moment)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        if index_path.read_bytes() == old_bytes:
            outcomes.append((moment, "old index"))
            continue
        # the kill came after the new index was in place: it must be the complete new one
        replaced = load_index(index_path)
        assert (list(replaced.articles), list(replaced.passages)) == (
            list(finished.articles),
            list(finished.passages),
        )
        outcomes.append((moment, "finished first"))
        index_path.write_bytes(old_bytes)
    summary = ", ".join(
        f"{m:.2f}s: {o}" if m != "writing" else f"writing: {o}" for m, o in outcomes
    )
    print(f"\nSIGKILL seed {seed} (QABOT_KILL_SEED), full rebuild {duration:.2f}s; {summary}")
    # the killed builds' worker processes do not linger, waiting for work forever
    deadline = time.monotonic() + 10
    while builds_running(index_path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert builds_running(index_path) == []
    assert outcomes[-1][1] == "old index"  # killed while writing: nothing replaced
    assert sum(outcome == "old index" for _, outcome in outcomes) >= KILLS // 2

    load_index(index_path)  # loads
    again = qabot("ask", "--json", "--index", str(index_path), "-", stdin=stdin)
    assert again.returncode == 0 and again.stdout == before  # answers exactly as before

    # the write killed midway left its hidden temporary file (removed by a later save once
    # abandoned: test_only_abandoned_temporary_files_are_removed)
    assert list(tmp_path.glob(".index.sqlite.*.tmp"))


def test_only_abandoned_temporary_files_are_removed(tmp_path):
    import fcntl

    path = tmp_path / "index.sqlite"
    busy, dead, fresh = (tmp_path / f".index.sqlite.{n}.tmp" for n in ("busy", "dead", "fresh"))
    for leftover in (busy, dead, fresh):
        leftover.write_text("{")
    old = time.time() - LEFTOVER_AGE - 1
    for leftover in (busy, dead):
        os.utime(leftover, (old, old))
    with open(busy) as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)  # a build writing it right now
        save_index(CorpusIndex(analyzer="x"), path)
    assert busy.exists() and fresh.exists() and not dead.exists()
    assert load_index(path).analyzer == "x"


# ------------------------------------------------------------------ unusable index files


def altered(good: bytes, sql: str) -> bytes:
    """The index `good` after running `sql` on a copy of it (a hand-edited or damaged file)."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "index.sqlite"
        path.write_bytes(good)
        with contextlib.closing(sqlite3.connect(path)) as connection:
            connection.executescript(sql)
        return path.read_bytes()


def corrupt_variants(good: bytes) -> dict[str, bytes]:
    schema = bytearray(good)  # the end of page 1 holds the tables' definitions
    for position in range(4096 - 200, 4096, 7):
        schema[position] ^= 0x55
    return {
        "truncated": good[: len(good) // 2],
        "bit flips": bytes(schema),
        "older version": altered(good, "UPDATE meta SET value = '1' WHERE key = 'version'"),
        "empty": b"",
        "a date that is bytes": altered(good, "UPDATE articles SET date = x'3230'"),
        "a title that is bytes": altered(good, "UPDATE articles SET title = x'00ff'"),
        "a source that is bytes": altered(good, "UPDATE articles SET source = x'00ff'"),
        "a heading that is bytes": altered(good, "UPDATE passages SET heading = x'00'"),
        "a passage text that is bytes": altered(good, "UPDATE passages SET text = x'00ff'"),
        "a position that is text": altered(good, "UPDATE passages SET position = 'first'"),
    }


@pytest.fixture(scope="module")
def good_document(seed_index) -> bytes:
    return seed_index.read_bytes()


def test_wrong_types_in_the_index_are_a_corrupt_index(good_document, tmp_path):
    """Found when the file is opened, or when a question reads the damaged row: the same
    one-line `IndexUnavailable` either way."""
    for name, content in corrupt_variants(good_document).items():
        path = tmp_path / "index.sqlite"
        path.write_bytes(content)
        with pytest.raises(IndexUnavailable) as caught:
            load_index(path).verify()  # what the bot and `qabot chat` do at start
        assert FIX in str(caught.value) and "\n" not in str(caught.value), name
        with pytest.raises(IndexUnavailable) as caught:
            Answerer(load_index(path)).answer("哈密有多少个服务站?")  # a one-off question
        assert FIX in str(caught.value) and "\n" not in str(caught.value), name


@pytest.mark.parametrize(
    "case", ["truncated", "bit flips", "older version", "a date that is bytes", "missing"]
)
def test_ask_and_serve_report_a_bad_index_in_one_line(good_document, tmp_path, case):
    path = tmp_path / "index.sqlite"
    if case != "missing":
        path.write_bytes(corrupt_variants(good_document)[case])
    ask = qabot("ask", "--index", str(path), "哈密有多少个服务站?")
    serve = subprocess.run(
        [*qabot_command(), "serve", "--index", str(path)],
        capture_output=True,
        text=True,
        env=clean_env(
            QABOT_TELEGRAM_TOKEN="123456:SECRET-token-value",
            QABOT_TELEGRAM_API_URL="http://127.0.0.1:9/bot",  # never reached
        ),
        timeout=60,
    )
    for result in (ask, serve):
        assert result.returncode == 2 and result.stdout == "", (case, result.stderr)
        [line] = result.stderr.strip().splitlines()
        assert line.startswith("error: ") and "index.sqlite" in line and FIX in line
        assert "SECRET-token-value" not in result.stderr


# ------------------------------------------------------------------ rebuilt while questions arrive


def test_readers_never_see_half_an_index_while_it_is_replaced(seed_index, tmp_path):
    small = load_index(seed_index).in_memory()
    small.articles, small.passages, small.tokens = small.articles[:1], [], []
    big = load_index(seed_index).in_memory()
    path = tmp_path / "index.sqlite"
    save_index(big, path)
    sizes: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                sizes.append(len(load_index(path).passages))
            except BaseException as exc:  # noqa: BLE001 - any failure is the finding
                errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for reader in readers:
        reader.start()
    for round_ in range(40):
        save_index(small if round_ % 2 else big, path)
    stop.set()
    for reader in readers:
        reader.join()
    assert not errors
    assert set(sizes) <= {0, len(big.passages)} and len(sizes) > 10


@pytest.fixture
def service(seed_dir, tmp_path):
    data = tmp_path / "articles"
    data.mkdir()
    for article in seed_dir.iterdir():
        (data / article.name).write_bytes(article.read_bytes())
    path = tmp_path / "index.sqlite"
    build_index(data, path)
    qa = QAService(data, path)
    qa.load()
    return qa


def test_questions_during_rebuilds_get_the_old_or_the_new_answer(service):
    question = "哈密有多少个服务站?"
    hami = service.data_dir / "hami-shuangyong-model-city.txt"
    original = hami.read_text(encoding="utf-8")
    changed = original.replace("285个服务站", "286个服务站")
    answers: list[str | None] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def ask() -> None:
        while not stop.is_set():
            try:
                answers.append(service.ask(question).answer)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

    askers = [threading.Thread(target=ask) for _ in range(2)]
    for asker in askers:
        asker.start()
    for round_ in range(4):
        hami.write_text(changed if round_ % 2 == 0 else original, encoding="utf-8")
        service.rebuild()
    stop.set()
    for asker in askers:
        asker.join()
    assert not errors
    assert set(answers) == {"285个服务站", "286个服务站"}


def test_a_failed_rebuild_keeps_the_old_index_answering(service, monkeypatch):
    before = service.ask("哈密有多少个服务站?").answer
    (service.data_dir / "new.txt").write_text(generated_article(1, 100), encoding="utf-8")

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("index.store.os.replace", full_disk)
    with pytest.raises(OSError, match="No space left"):
        service.rebuild()
    monkeypatch.undo()
    assert service.ask("哈密有多少个服务站?").answer == before == "285个服务站"
    assert len(service.sources()) == 2
    assert len(load_index(service.index_path).articles) == 2
