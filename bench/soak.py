"""Soak: thousands of questions from many chats through the fake Bot API; every one answered
exactly once, and the bot's memory at the start and at the end.

The real bot (`qabot serve`, long polling) runs as a subprocess against
`tests/fake_bot_api.py` on the seed corpus. Questions (the dev set plus a few hostile ones)
go round-robin to `--chats` private chats, at most `--window` unanswered at a time (as many
users typing, not one dump of the whole queue). The bot's replies are Telegram-limited to
about 30 messages a second (python-telegram-bot's AIORateLimiter), so 5,000 messages take
about three minutes. Each reply is compared with what `bot.render.render_html` gives for its
question on the same index, so a reply counts only when it is the right one, once.

Memory is the bot process's resident set (`VmRSS` in /proc/<pid>/status) after a warm-up
round (each distinct question asked once), every 10% of the run, and at the end; `VmHWM`
is its peak.

    make soak                                   # 5,000 messages from 200 chats
    .venv/bin/python -m bench.soak --messages 500 --chats 50 --json out.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FAKE_API = REPO / "tests" / "fake_bot_api.py"
HOSTILE = [
    " ",
    "😀😀",
    "<b>哈密</b>有多少个服务站?",
    "'; DROP TABLE passages; --",
    "$(reboot) 张掖投入了多少资金?",
    "Hami 有多少 service stations?",
]
FIRST_CHAT = 100_000
WARM_UP_CHAT = FIRST_CHAT - 1  # and below


def _fake_module():
    if "fake_bot_api" in sys.modules:
        return sys.modules["fake_bot_api"]
    spec = importlib.util.spec_from_file_location("fake_bot_api", FAKE_API)
    module = importlib.util.module_from_spec(spec)
    sys.modules["fake_bot_api"] = module
    spec.loader.exec_module(module)
    return module


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in kB (Linux)."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


def questions() -> list[str]:
    lines = (
        (REPO / "data" / "eval" / "seeds" / "questions.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
    )
    return [json.loads(line)["question"] for line in lines if line.strip()] + HOSTILE


def expected_replies(index_path: Path, data_dir: Path, asked: list[str]) -> dict[str, list[str]]:
    """The message texts the bot must send for each question (usually one message)."""
    from bot.render import render_html
    from bot.service import QAService
    from bot.telegram import split_html

    service = QAService(data_dir, index_path)
    return {q: split_html(render_html(service.ask(q, top_k=5))) for q in set(asked)}


def run(
    messages: int = 5000,
    chats: int = 200,
    window: int = 100,
    log=print,
    timeout: float = 1800.0,
) -> dict:
    """Run the soak and return its figures (see `render`)."""
    fake_api = _fake_module()
    pool = questions()
    plan = [(FIRST_CHAT + n % chats, pool[n % len(pool)]) for n in range(messages)]
    with tempfile.TemporaryDirectory(prefix="qabot-soak-") as scratch:
        root = Path(scratch)
        data_dir, index_path = fake_api.prepare_corpus(root)
        expected = expected_replies(index_path, data_dir, [q for _, q in plan])
        per_message = {q: len(texts) for q, texts in expected.items()}
        with fake_api.FakeBotAPI() as fake:
            bot = fake_api.BotProcess(
                fake,
                root,
                data_dir,
                index_path,
                env={"QABOT_RATE_LIMIT_PER_MINUTE": "1000000", "QABOT_LOG_LEVEL": "WARNING"},
            ).start()
            try:
                # warm-up: every question once (what the bot loads lazily, its thread pool)
                for number, question in enumerate(pool):
                    fake.send_text(WARM_UP_CHAT - number, question)
                fake.wait_for(
                    lambda: all(fake.count(WARM_UP_CHAT - n) for n in range(len(pool))),
                    timeout=120,
                    message="the warm-up replies",
                )
                time.sleep(1.0)
                pid = bot.process.pid
                start_memory = memory_kb(pid)
                samples = [(0, start_memory["VmRSS"])]
                log(
                    f"soak: {messages} messages from {chats} chats; bot RSS at start {start_memory['VmRSS']} kB"
                )
                wanted = Counter()  # chat -> messages it must receive so far
                started = time.monotonic()
                deadline = started + timeout

                def received() -> int:
                    return sum(1 for m in fake.messages() if m.chat_id >= FIRST_CHAT)

                sent = 0
                next_sample = max(1, messages // 10)
                while sent < messages:
                    total = sum(wanted.values())
                    if total - received() >= window:
                        fake.wait_for(
                            lambda total=total: total - received() < window,
                            timeout=max(1.0, deadline - time.monotonic()),
                            message="the bot to catch up",
                        )
                    chat, question = plan[sent]
                    fake.send_text(chat, question)
                    wanted[chat] += per_message[question]
                    sent += 1
                    if sent % next_sample == 0:
                        samples.append((sent, memory_kb(pid)["VmRSS"]))
                        log(f"soak: {sent} sent, {received()} replies, RSS {samples[-1][1]} kB")
                total = sum(wanted.values())
                try:
                    fake.wait_for(
                        lambda: received() >= total,
                        timeout=max(1.0, deadline - time.monotonic()),
                        message="every reply",
                    )
                except TimeoutError as exc:
                    log(f"soak: {exc}")
                elapsed = time.monotonic() - started
                time.sleep(2.0)  # late duplicates would show now
                end_memory = memory_kb(pid)
                samples.append((messages, end_memory["VmRSS"]))
            finally:
                exit_status = bot.stop()
            output = bot.output()
            got: dict[int, Counter] = {}
            for message in fake.messages():
                if message.chat_id >= FIRST_CHAT:
                    got.setdefault(message.chat_id, Counter())[message.text] += 1
    want: dict[int, Counter] = {}
    for chat, question in plan:
        want.setdefault(chat, Counter()).update(expected[question])
    answered = lost = duplicated = wrong = 0
    for chat, texts in want.items():
        have = got.get(chat, Counter())
        answered += sum((texts & have).values())
        lost += sum((texts - have).values())
        extra = have - texts
        duplicated += sum(n for text, n in extra.items() if text in texts)
        wrong += sum(n for text, n in extra.items() if text not in texts)
    replies = sum(sum(c.values()) for c in want.values())
    result = {
        "messages": messages,
        "chats": chats,
        "distinct_questions": len(expected),
        "replies_expected": replies,
        "answered": answered,
        "lost": lost,
        "duplicated": duplicated,
        "wrong": wrong,
        "seconds": round(elapsed, 1),
        "replies_per_second": round(answered / elapsed, 1) if elapsed else None,
        "rss_start_kb": start_memory["VmRSS"],
        "rss_end_kb": end_memory["VmRSS"],
        "rss_peak_kb": end_memory["VmHWM"],
        "rss_samples_kb": samples,
        "exit_status": exit_status,
        "errors_logged": sum(
            1 for line in output.splitlines() if line.startswith(("ERROR", "Traceback"))
        ),
    }
    log(render(result))
    return result


def render(result: dict) -> str:
    return (
        f"soak: {result['messages']} messages from {result['chats']} chats "
        f"({result['distinct_questions']} distinct questions) in {result['seconds']} s "
        f"({result['replies_per_second']} replies/s): {result['answered']} of "
        f"{result['replies_expected']} replies right, {result['lost']} lost, "
        f"{result['duplicated']} duplicated, {result['wrong']} wrong; bot RSS "
        f"{result['rss_start_kb'] / 1024:.1f} MB at start, {result['rss_end_kb'] / 1024:.1f} MB "
        f"at the end (peak {result['rss_peak_kb'] / 1024:.1f} MB); exit status "
        f"{result['exit_status']}, {result['errors_logged']} errors logged"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--window", type=int, default=100, help="most unanswered at a time")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    result = run(args.messages, args.chats, args.window)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    ok = not (result["lost"] or result["duplicated"] or result["wrong"] or result["exit_status"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
