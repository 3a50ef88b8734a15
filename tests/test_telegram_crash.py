"""End to end against the fake Bot API: the bot killed (SIGKILL) in the middle of a burst of
questions and started again answers every question, none twice, and its files survive."""

from __future__ import annotations

import signal
import sqlite3
import time

from fake_bot_api import BotProcess, FakeBotAPI, prepare_corpus

CHATS = 50
PER_CHAT = 4
QUESTIONS = (
    "哈密有多少个服务站?",
    "张掖投入了多少资金?",
    "哈密有多少家拥军门店?",
    "哈密有多少名双拥志愿者?",
)
KILL_AFTER = 40


def test_a_killed_bot_answers_every_question_once_after_a_restart(tmp_path):
    with FakeBotAPI() as fake:
        data_dir, index_path = prepare_corpus(tmp_path)
        chats = [9000 + n for n in range(CHATS)]
        for round_ in range(PER_CHAT):
            for chat in chats:
                fake.send_text(chat, QUESTIONS[(chat + round_) % len(QUESTIONS)])
        bot = BotProcess(fake, tmp_path, data_dir, index_path).start()
        fake.wait_for(lambda: len(fake.messages()) >= KILL_AFTER, 120, f"{KILL_AFTER} replies")
        killed_at = time.time()
        bot.stop(signal.SIGKILL)
        answered_before = len(fake.messages())
        assert answered_before < CHATS * PER_CHAT, "killed too late to test anything"

        restarted = BotProcess(fake, tmp_path, data_dir, index_path).start()
        fake.wait_for(
            lambda: len(fake.messages()) >= CHATS * PER_CHAT, 180, "every question answered"
        )
        time.sleep(2)  # anything sent twice would arrive now
        assert restarted.stop() == 0
        counts = {chat: fake.count(chat) for chat in chats}
        assert min(counts.values()) == PER_CHAT, counts  # no question lost
        # None twice, except a reply that reached Telegram in the instant before the kill,
        # before the bot could write down that it was sent: no Bot API call is idempotent,
        # so that window (a few milliseconds while the answering threads hold the GIL) can be
        # made small but not closed.
        twice = [chat for chat, count in counts.items() if count > PER_CHAT]
        print(f"\n{answered_before} replies before the kill; sent twice: {len(twice)}")
        assert len(twice) <= 2 and max(counts.values()) <= PER_CHAT + 1, counts
        for chat in twice:
            first_copy = fake.messages(chat)[-PER_CHAT - 1 :]
            assert any(killed_at - 0.5 <= m.time <= killed_at + 0.1 for m in first_copy)
        assert "answering" in restarted.output() and "Traceback" not in restarted.output()

        for name in ("updates.sqlite", "questions.sqlite"):
            with sqlite3.connect(tmp_path / "data" / name) as db:
                assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        with sqlite3.connect(tmp_path / "data" / "updates.sqlite") as db:
            pending = db.execute("SELECT count(*) FROM updates WHERE done IS NULL").fetchone()
        assert pending == (0,)
