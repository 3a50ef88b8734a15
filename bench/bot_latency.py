"""Reply latency of the Telegram bot through the fake Bot API, one by one and under bursts.

The real bot (`qabot serve`, long polling) runs as a subprocess against `tests/fake_bot_api.py`
on the seed corpus. A reply's latency is from the moment a user's message is queued at the fake
API to the moment the bot's answer arrives there (so it includes the long poll, the answer and
python-telegram-bot's rate limiter, which keeps to Telegram's limit of about 30 messages a
second). Each message of a burst comes from its own user and chat (the bot's per-user rate
limit would otherwise refuse most of them).
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NEEDED = (REPO / "bot" / "telegram" / "__init__.py", REPO / "tests" / "fake_bot_api.py")
SEQUENTIAL = 20
BURSTS = (10, 50)


def _fake_module():
    spec = importlib.util.spec_from_file_location("fake_bot_api", NEEDED[1])
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fake_bot_api", module)
    spec.loader.exec_module(module)
    return module


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def measure(log=print, sequential: int = SEQUENTIAL, bursts: tuple[int, ...] = BURSTS) -> dict:
    missing = [str(p.relative_to(REPO)) for p in NEEDED if not p.exists()]
    if missing:
        log(f"bot latency: not measured ({', '.join(missing)} missing)")
        return {"available": False, "reason": f"{', '.join(missing)} not in the repository yet"}
    fake_api = _fake_module()
    lines = (
        (REPO / "data" / "eval" / "seeds" / "questions.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
    )
    questions = [json.loads(line)["question"] for line in lines if line.strip()]
    rows = []
    with tempfile.TemporaryDirectory(prefix="qabot-bot-bench-") as scratch:
        root = Path(scratch)
        data_dir, index_path = fake_api.prepare_corpus(root)
        with fake_api.FakeBotAPI() as fake:
            bot = fake_api.BotProcess(fake, root, data_dir, index_path).start()
            try:
                chat = 10_000

                def ask(count: int) -> list[float]:
                    nonlocal chat
                    sent = []
                    for number in range(count):
                        chat += 1
                        question = questions[(chat + number) % len(questions)]
                        sent.append((chat, time.time()))
                        fake.send_text(chat, question, user_id=chat)
                    latencies = []
                    for chat_id, started in sent:
                        reply = fake.wait_for_messages(chat_id, 1, timeout=120)[0]
                        latencies.append(reply.time - started)
                    return latencies

                ask(1)  # warm-up: the first question loads what the bot loads lazily
                one_by_one = [ask(1)[0] for _ in range(sequential)]
                rows.append(_row(f"1 at a time ({sequential})", one_by_one))
                for size in bursts:
                    rows.append(_row(f"burst of {size}", ask(size)))
                    time.sleep(1.5)  # let Telegram's rate limit window pass
            finally:
                bot.stop()
    for row in rows:
        log(f"bot latency {row['burst']}: p50 {row['p50']:.3f}s p99 {row['p99']:.3f}s")
    return {"available": True, "rows": rows}


def _row(name: str, latencies: list[float]) -> dict:
    return {
        "burst": name,
        "replies": len(latencies),
        "p50": _quantile(latencies, 0.5),
        "p99": _quantile(latencies, 0.99),
        "max": max(latencies),
    }


def render(result: dict) -> str:
    if not result.get("available"):
        return f"Not measured: {result['reason']}."
    lines = [
        "| messages | replies | p50 s | p99 s | slowest s |",
        "|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        lines.append(
            f"| {row['burst']} | {row['replies']} | {row['p50']:.3f} | {row['p99']:.3f} | {row['max']:.3f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(measure()))
