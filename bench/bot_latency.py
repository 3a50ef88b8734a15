"""Reply latency of the Telegram bot through the fake Bot API, under a burst of messages.

Needs `bot/telegram.py` and `tests/fake_bot_api.py` (written for issue 4). Until both exist
this reports that it could not run, and why.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NEEDED = (REPO / "bot" / "telegram.py", REPO / "tests" / "fake_bot_api.py")


def measure(log=print) -> dict:
    missing = [str(p.relative_to(REPO)) for p in NEEDED if not p.exists()]
    if missing:
        log(f"bot latency: not measured ({', '.join(missing)} missing)")
        return {"available": False, "reason": f"{', '.join(missing)} not in the repository yet"}
    return {
        "available": False,
        "reason": "the fake Bot API exists but this bench does not drive it yet",
    }


def render(result: dict) -> str:
    if not result.get("available"):
        return f"Not measured: {result['reason']}."
    lines = ["| burst | replies | p50 s | p99 s |", "|---|---|---|---|"]
    for row in result["rows"]:
        lines.append(f"| {row['burst']} | {row['replies']} | {row['p50']:.3f} | {row['p99']:.3f} |")
    return "\n".join(lines)
