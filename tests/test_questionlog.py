"""The question log (`bot/questionlog.py`) and `qabot report`: records, stats, feedback, export,
privacy of chat ids, reopening, threads, a corrupt file, and the setting that turns it off."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.cli import main
from bot.qa.datasets import read_cases
from bot.questionlog import (
    LogStats,
    QuestionLog,
    QuestionLogUnavailable,
    normalized_question,
    question_lang,
)
from bot.render import render_stats
from bot.settings import Settings

NOW = datetime(2024, 8, 7, 12, 0, tzinfo=UTC)
CHAT = 987654321
USER = 123123123
GROUP = -1001234567890


pytestmark = pytest.mark.usefixtures("clean_environment")


@pytest.fixture
def log(tmp_path):
    with QuestionLog.open(tmp_path / "data" / "questions.sqlite") as question_log:
        yield question_log


def ask(log, question, answer=None, *, understood=None, days_ago=0, chat=CHAT, user=USER):
    return log.record(
        "telegram",
        chat,
        user,
        question,
        understood,
        answer,
        0.8 if answer else 0.1,
        "哈密市双拥" if answer else None,
        at=NOW - timedelta(days=days_ago),
    )


def filled(log) -> None:
    """Eight questions over three days: 3 answered, 5 abstentions (3 of one question)."""
    ask(log, "哈密有多少个服务站?", "285个服务站", days_ago=2)
    ask(log, "哈密有几个服务站", days_ago=2)
    ask(log, "哈密有几个服务站？", days_ago=1)
    ask(log, " 哈密有几个服务站 ? ", days_ago=0)
    ask(log, "张掖投入了多少资金?", "1.6亿元")
    ask(log, "How much did Zhangye invest?", "1.6亿元")
    ask(log, "那张掖呢？", understood="张掖有几个服务站？")
    ask(log, "天气怎么样")


# ---------------------------------------------------------------------- records and stats


def test_record_returns_increasing_ids(log):
    first = ask(log, "哈密有多少个服务站?", "285个服务站")
    second = ask(log, "天气怎么样")
    assert isinstance(first, int) and second > first


def test_stats_per_day_total_and_answered_share(log):
    filled(log)
    stats = log.stats(days=7, now=NOW)
    assert isinstance(stats, LogStats)
    assert list(stats.per_day) == [date(2024, 8, 1) + timedelta(days=n) for n in range(7)]
    assert stats.per_day[date(2024, 8, 5)] == 2
    assert stats.per_day[date(2024, 8, 6)] == 1
    assert stats.per_day[date(2024, 8, 7)] == 5
    assert stats.per_day[date(2024, 8, 1)] == 0
    assert stats.total == 8 and stats.answered == 3
    assert stats.answered_share == pytest.approx(3 / 8)


def test_stats_window_leaves_out_older_questions(log):
    filled(log)
    stats = log.stats(days=1, now=NOW)
    assert list(stats.per_day) == [date(2024, 8, 7)]
    assert stats.total == 5 and stats.answered == 2


def test_unanswered_top_groups_variants_of_one_question(log):
    filled(log)
    top = log.stats(days=7, now=NOW).unanswered_top
    assert top[0].count == 3
    assert normalized_question(top[0].question) == "哈密有几个服务站"
    assert top[0].question in {"哈密有几个服务站", "哈密有几个服务站？", " 哈密有几个服务站 ? "}
    # a follow-up is listed as understood, not as the bare "那张掖呢？"
    assert [(a.question, a.count) for a in top[1:]] == [
        ("张掖有几个服务站？", 1),
        ("天气怎么样", 1),
    ]
    assert all(a.question != "哈密有多少个服务站?" for a in top)  # answered: not listed


def test_unanswered_top_is_at_most_ten(log):
    for n in range(15):
        ask(log, f"问题{n}是什么")
    assert len(log.stats(now=NOW).unanswered_top) == 10


def test_normalized_question_folds_width_space_and_punctuation():
    assert normalized_question("哈密有几个服务站？") == normalized_question("哈密 有几个服务站?")
    assert normalized_question("ＨＡＭＩ  stations!") == normalized_question("hami stations")


def test_question_lang():
    assert question_lang("How much did Zhangye invest in 2024?") == "en"
    assert question_lang("哈密有几个服务站") == "zh"
    assert question_lang("Hami 有几个服务站") == "zh"
    assert question_lang("2024?") == "zh"


def test_empty_log_stats(log):
    stats = log.stats(days=3, now=NOW)
    assert stats.total == 0 and stats.answered_share == 0.0
    assert stats.unanswered_top == [] and stats.recent_thumbs_down == []
    text = render_stats(stats)
    assert "0 answered" in text and "none" in text


# ---------------------------------------------------------------------- feedback


def test_feedback_only_by_the_same_chat_and_user(log):
    record = ask(log, "哈密有多少个服务站?", "285个服务站")
    assert not log.feedback(record, CHAT, USER + 1, -1)  # someone else in the same chat
    assert not log.feedback(record, CHAT + 1, USER, -1)  # the same user in another chat
    assert not log.feedback(record + 100, CHAT, USER, -1)  # no such record
    stats = log.stats(now=NOW)
    assert stats.thumbs_up == stats.thumbs_down == 0
    assert log.feedback(record, CHAT, USER, 1)
    stats = log.stats(now=NOW)
    assert (stats.thumbs_up, stats.thumbs_down) == (1, 0)


def test_rerating_replaces_the_rating(log):
    record = ask(log, "哈密有多少个服务站?", "285个服务站")
    assert log.feedback(record, CHAT, USER, 1)
    assert log.feedback(record, CHAT, USER, -1)
    stats = log.stats(now=NOW)
    assert (stats.thumbs_up, stats.thumbs_down) == (0, 1)
    [rated] = stats.recent_thumbs_down
    assert rated.id == record and rated.question == "哈密有多少个服务站?"
    assert rated.answer == "285个服务站" and rated.article == "哈密市双拥"


def test_feedback_value_must_be_plus_or_minus_one(log):
    record = ask(log, "哈密有多少个服务站?", "285个服务站")
    with pytest.raises(ValueError):
        log.feedback(record, CHAT, USER, 0)


def test_recent_thumbs_down_newest_rating_first(log):
    first = ask(log, "哈密有多少个服务站?", "285个服务站")
    second = ask(log, "张掖投入了多少资金?", "781万元")
    log.feedback(second, CHAT, USER, -1, at=NOW)
    log.feedback(first, CHAT, USER, -1, at=NOW + timedelta(minutes=1))
    assert [r.id for r in log.stats(now=NOW).recent_thumbs_down] == [first, second]


# ---------------------------------------------------------------------- privacy, durability


def test_chat_and_user_ids_are_not_stored_in_clear(tmp_path):
    path = tmp_path / "q.sqlite"
    with QuestionLog.open(path) as log:
        for chat, user in ((CHAT, USER), (GROUP, USER)):
            log.record("telegram", chat, user, "哈密有几个服务站", None, None, 0.1, None)
        assert log.chat_key(CHAT, USER) != log.chat_key(GROUP, USER)
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("q.sqlite"))
    assert "哈密有几个服务站".encode() in stored  # the text is there, the ids are not
    for number in (CHAT, USER, GROUP):
        assert str(number).encode() not in stored
        assert str(abs(number)).encode() not in stored
    connection = sqlite3.connect(path)
    (key,) = connection.execute("SELECT chat_key FROM questions WHERE id = 1").fetchone()
    connection.close()
    assert len(key) == 64 and str(CHAT) not in key


def test_two_logs_hash_the_same_chat_differently(tmp_path):
    with QuestionLog.open(tmp_path / "a.sqlite") as a, QuestionLog.open(tmp_path / "b.sqlite") as b:
        assert a.chat_key(CHAT, USER) != b.chat_key(CHAT, USER)


def test_survives_reopening(tmp_path):
    path = tmp_path / "q.sqlite"
    with QuestionLog.open(path) as log:
        record = ask(log, "哈密有多少个服务站?", "285个服务站")
        key = log.chat_key(CHAT, USER)
    with QuestionLog.open(path, create=False) as log:
        assert log.chat_key(CHAT, USER) == key  # the salt is kept: old records can be rated
        assert log.feedback(record, CHAT, USER, 1)
        ask(log, "天气怎么样")
        stats = log.stats(now=NOW)
    assert stats.total == 2 and stats.thumbs_up == 1
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    connection.close()


def test_concurrent_records_from_threads(log):
    ids: list[int] = []
    errors: list[Exception] = []

    def worker(n: int) -> None:
        try:
            for i in range(25):
                ids.append(log.record("telegram", n, n, f"问题{n}-{i}", None, None, 0.1, None))
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(ids) == len(set(ids)) == 200
    assert log.stats(now=datetime.now(UTC)).total == 200


def test_corrupt_file_is_unavailable(tmp_path):
    path = tmp_path / "q.sqlite"
    path.write_bytes(b"this is not a database\n" * 200)
    with pytest.raises(QuestionLogUnavailable):
        QuestionLog.open(path)


def test_another_database_is_unavailable_and_untouched(tmp_path):
    path = tmp_path / "index.sqlite"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE passages (text TEXT)")
    connection.commit()
    connection.close()
    before = path.read_bytes()
    with pytest.raises(QuestionLogUnavailable, match="not a question log"):
        QuestionLog.open(path)
    assert path.read_bytes() == before


def test_unwritable_place_is_unavailable(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(QuestionLogUnavailable):
        QuestionLog.open(blocker / "questions.sqlite")  # its folder is a file


def test_missing_log_without_create(tmp_path):
    with pytest.raises(QuestionLogUnavailable, match="no question log"):
        QuestionLog.open(tmp_path / "none.sqlite", create=False)
    assert not (tmp_path / "none.sqlite").exists()


def test_closed_log_is_unavailable(tmp_path):
    log = QuestionLog.open(tmp_path / "q.sqlite")
    log.close()
    log.close()  # twice is harmless
    with pytest.raises(QuestionLogUnavailable):
        ask(log, "天气怎么样")


# ---------------------------------------------------------------------- export


def test_export_is_an_eval_set_the_reader_reads(log, tmp_path):
    filled(log)
    record = ask(log, "张掖投入了多少资金？", "781万元")
    log.feedback(record, CHAT, USER, -1)
    target = tmp_path / "out" / "questions.jsonl"
    written = log.export(target)
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert written == len(rows) == 6  # 9 records, deduplicated by normalized question
    cases = read_cases(target)
    assert [c.question for c in cases] == [r["question"] for r in rows]
    assert len({c.id for c in cases}) == 6
    by_question = {normalized_question(r["question"]): r for r in rows}
    for row in rows:
        assert row["labelled"] is False
        assert {"id", "question", "answers", "article", "evidence", "lang", "answerable"} <= set(
            row
        )
        assert row["answerable"] is bool(row["answers"])
    stated = by_question[normalized_question("哈密有多少个服务站")]
    assert stated["answers"] == ["285个服务站"] and stated["bot_confidence"] == 0.8
    assert stated["lang"] == "zh" and stated["feedback"] is None
    disputed = by_question[normalized_question("张掖投入了多少资金")]
    assert disputed["answers"] == [] and disputed["bot_answer"] == "781万元"
    assert disputed["feedback"] == -1 and disputed["times_asked"] == 2
    english = by_question[normalized_question("How much did Zhangye invest")]
    assert english["lang"] == "en" and english["answers"] == ["1.6亿元"]
    abstained = by_question[normalized_question("哈密有几个服务站")]
    assert abstained["answers"] == [] and abstained["bot_answer"] is None
    assert abstained["times_asked"] == 3
    follow_up = by_question[normalized_question("张掖有几个服务站")]
    assert follow_up["question"] == "张掖有几个服务站？" and follow_up["asked"] == "那张掖呢？"


def test_export_of_an_empty_log(log, tmp_path):
    assert log.export(tmp_path / "empty.jsonl") == 0
    assert read_cases(tmp_path / "empty.jsonl") == []


# ---------------------------------------------------------------------- the report


def test_render_stats_plain_text(log):
    filled(log)
    record = ask(log, "张掖投入了多少资金？", "781万元")
    log.feedback(record, CHAT, USER, -1)
    text = render_stats(log.stats(days=7, now=NOW))
    assert "Questions in the last 7 days (UTC): 9, 4 answered (44%)" in text
    assert "  2024-08-07  6" in text
    assert "3 × 哈密有几个服务站" in text
    assert "0 thumbs up, 1 thumbs down" in text
    assert "张掖投入了多少资金？ -> 781万元 (confidence 0.80, 哈密市双拥)" in text
    assert "<" not in text and "&" not in text
    chinese = render_stats(log.stats(days=7, now=NOW), "zh")
    assert "最常问但未回答的问题" in chinese and "1个踩" in chinese


def cli(capsys, *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_qabot_report_prints_the_stats(capsys, tmp_path):
    path = tmp_path / "q.sqlite"
    with QuestionLog.open(path) as log:
        for question in ("哈密有几个服务站", "哈密有几个服务站？"):
            log.record("telegram", CHAT, USER, question, None, None, 0.1, None)
        log.record("inline", CHAT, USER, "哈密有多少个服务站?", None, "285个服务站", 0.9, "哈密")
    status, out, err = cli(capsys, "report", "--log", str(path), "--days", "3")
    assert status == 0, err
    assert "Questions in the last 3 days (UTC): 3, 1 answered (33%)" in out
    assert "2 × 哈密有几个服务站" in out
    assert len([line for line in out.splitlines() if line.startswith("  20")]) == 3


def test_qabot_report_uses_the_setting(capsys, monkeypatch, tmp_path):
    path = tmp_path / "elsewhere.sqlite"
    with QuestionLog.open(path) as log:
        log.record("telegram", CHAT, USER, "天气怎么样", None, None, 0.1, None)
    monkeypatch.setenv("QABOT_QUESTION_LOG_PATH", str(path))
    status, out, err = cli(capsys, "report")
    assert status == 0, err
    assert "1 × 天气怎么样" in out


def test_qabot_report_export(capsys, tmp_path):
    path = tmp_path / "q.sqlite"
    with QuestionLog.open(path) as log:
        filled(log)
    target = tmp_path / "labelling.jsonl"
    status, out, err = cli(capsys, "report", "--log", str(path), "--export", str(target))
    assert status == 0, err
    assert out.strip() == f"wrote 6 questions to {target}"
    assert len(read_cases(target)) == 6


def test_qabot_report_without_a_log_is_one_line_error(capsys, tmp_path):
    status, out, err = cli(capsys, "report", "--log", str(tmp_path / "none.sqlite"))
    assert status == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "none.sqlite" in lines[0]
    assert not (tmp_path / "none.sqlite").exists()


def test_qabot_report_on_a_corrupt_log_is_one_line_error(capsys, tmp_path):
    path = tmp_path / "q.sqlite"
    path.write_bytes(b"garbage" * 1000)
    status, out, err = cli(capsys, "report", "--log", str(path))
    assert status == 2 and out == ""
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1


def test_qabot_report_rejects_zero_days(capsys, tmp_path):
    path = tmp_path / "q.sqlite"
    QuestionLog.open(path).close()
    status, _, err = cli(capsys, "report", "--log", str(path), "--days", "0")
    assert status == 2 and "--days" in err


# ---------------------------------------------------------------------- settings


def test_question_log_setting_defaults_and_opt_out(monkeypatch):
    settings = Settings()
    assert settings.question_log is True
    assert str(settings.question_log_path) == os.path.join("data", "questions.sqlite")
    monkeypatch.setenv("QABOT_QUESTION_LOG", "false")
    monkeypatch.setenv("QABOT_QUESTION_LOG_PATH", "/var/lib/qabot/q.sqlite")
    settings = Settings()
    assert settings.question_log is False
    assert str(settings.question_log_path) == "/var/lib/qabot/q.sqlite"


# ---------------------------------------------------------------------- reply tiers


def test_each_reply_records_its_tier_and_the_export_carries_it(log, tmp_path):
    """A likely guess is logged as the answer offered, with its tier; it becomes an accepted
    answer in the export only once someone rated it 👍 (a sure answer unless rated 👎)."""
    sure = log.record("telegram", CHAT, USER, "哈密有多少个服务站?", None, "285个服务站", 0.9,
                      "哈密市双拥", tier="sure", at=NOW)  # fmt: skip
    likely = log.record("telegram", CHAT, USER, "张掖投入了多少资金?", None, "1.6亿元", 0.6,
                        "张掖综述", tier="likely", at=NOW)  # fmt: skip
    log.record("telegram", CHAT, USER, "哈密服务站数量", None, None, 0.3, "哈密市双拥",
               tier="evidence", at=NOW)  # fmt: skip
    log.record("telegram", CHAT, USER, "上海有多少个服务站?", None, None, 0.0, None, at=NOW)
    assert log.feedback(likely, CHAT, USER, 1, at=NOW)
    path = tmp_path / "export.jsonl"
    log.export(path)
    items = {item["question"]: item for item in map(json.loads, path.read_text().splitlines())}
    assert [items[q]["bot_tier"] for q in items] == ["sure", "likely", "evidence", "none"]
    assert items["哈密有多少个服务站?"]["answers"] == ["285个服务站"]
    assert items["张掖投入了多少资金?"]["answers"] == ["1.6亿元"]  # rated 👍
    assert (
        items["哈密服务站数量"]["answers"] == [] and items["上海有多少个服务站?"]["answers"] == []
    )
    assert sure < likely


def test_an_unrated_likely_guess_is_not_an_accepted_answer(log, tmp_path):
    log.record("telegram", CHAT, USER, "张掖投入了多少资金?", None, "1.6亿元", 0.6, "张掖综述",
               tier="likely", at=NOW)  # fmt: skip
    path = tmp_path / "export.jsonl"
    log.export(path)
    [item] = map(json.loads, path.read_text().splitlines())
    assert item["answers"] == [] and item["bot_answer"] == "1.6亿元" and not item["answerable"]


def test_a_log_written_before_tiers_opens_and_keeps_its_questions(tmp_path):
    """An older log (no tier column) gains the column; its answers read as sure."""
    path = tmp_path / "questions.sqlite"
    with QuestionLog.open(path) as old:
        old.record("telegram", CHAT, USER, "哈密有多少个服务站?", None, "285个服务站", 0.9, "哈密",
                   at=NOW)  # fmt: skip
    connection = sqlite3.connect(path)
    connection.execute("ALTER TABLE questions DROP COLUMN tier")
    connection.commit()
    connection.close()
    with QuestionLog.open(path) as reopened:
        assert reopened.stats(days=1, now=NOW).answered == 1
        reopened.export(tmp_path / "export.jsonl")
    [item] = map(json.loads, (tmp_path / "export.jsonl").read_text().splitlines())
    assert item["bot_tier"] == "sure" and item["answers"] == ["285个服务站"]
