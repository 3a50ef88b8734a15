"""Cold start: wall time of a one-off `qabot ask` on the seed corpus, from a new process,
for a Chinese and an English question.

Compared with `python -c "import jieba; jieba.initialize()"` (loading jieba's dictionary alone,
from jieba's own cache) and with `qabot ask` when the dictionary cache is turned off
(`QABOT_CACHE_DIR=off`: jieba's normal loading). Every command runs `runs` times, interleaved;
the table gives the median and the fastest run. Also: where the import time goes.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUESTION = "哈密有多少个服务站?"
ENGLISH_QUESTION = "How many service stations does Hami have?"


def _qabot() -> list[str]:
    script = Path(sys.executable).with_name("qabot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def _wall(command: list[str], env: dict, cwd: Path) -> float:
    start = time.perf_counter()
    completed = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {completed.stderr.strip()[-300:]}")
    return elapsed


def import_breakdown(env: dict, cwd: Path, top: int = 8) -> list[tuple[str, float]]:
    """Self import time of `bot.cli` by top-level package (python -X importtime), largest first."""
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import bot.cli"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    totals: Counter[str] = Counter()
    for line in completed.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        parts = line.split("|")
        if len(parts) < 3:
            continue
        totals[parts[2].strip().split(".")[0]] += int(parts[0].split(":")[1])
    return [(name, us / 1e6) for name, us in totals.most_common(top)]


def measure(runs: int = 7, log=print) -> dict:
    with tempfile.TemporaryDirectory(prefix="qabot-coldstart-") as scratch:
        scratch_dir = Path(scratch)
        cache = scratch_dir / "cache"
        index = scratch_dir / "index.sqlite"
        path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
        base = {k: v for k, v in os.environ.items() if not k.startswith("QABOT_")}
        env = dict(base, PYTHONPATH=path, QABOT_CACHE_DIR=str(cache))
        env_off = dict(env, QABOT_CACHE_DIR="off")
        log("cold start: building the seed index (and, once, the dictionary cache)")
        build = [*_qabot(), "index", "build", "--data-dir", str(REPO / "data" / "articles")]
        _wall([*build, "--index", str(index)], env, scratch_dir)
        jieba_alone = [sys.executable, "-c", "import jieba; jieba.initialize()"]
        _wall(jieba_alone, env, scratch_dir)  # jieba writes its own cache on a first run
        ask = [*_qabot(), "ask", "--index", str(index), QUESTION]
        ask_english = [*_qabot(), "ask", "--index", str(index), ENGLISH_QUESTION]
        commands = {
            "python -c pass": ([sys.executable, "-c", "pass"], env),
            'python -c "import jieba; jieba.initialize()"': (jieba_alone, env),
            "qabot ask (dictionary cache)": (ask, env),
            "qabot ask, English (dictionary cache)": (ask_english, env),
            "qabot ask (QABOT_CACHE_DIR=off)": (ask, env_off),
            'python -c "import bot.cli"': ([sys.executable, "-c", "import bot.cli"], env),
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, (command, command_env) in commands.items():
                times[name].append(_wall(command, command_env, scratch_dir))
        answer = subprocess.run(ask, env=env, cwd=scratch_dir, capture_output=True, text=True)
        breakdown = import_breakdown(env, scratch_dir)
    result = {
        "runs": runs,
        "question": QUESTION,
        "answer": answer.stdout.strip().splitlines()[0] if answer.stdout.strip() else "",
        "median": {k: statistics.median(v) for k, v in times.items()},
        "min": {k: min(v) for k, v in times.items()},
        "imports": breakdown,
    }
    jieba = result["median"]['python -c "import jieba; jieba.initialize()"']
    result["ratio"] = result["median"]["qabot ask (dictionary cache)"] / jieba
    result["ratio_off"] = result["median"]["qabot ask (QABOT_CACHE_DIR=off)"] / jieba
    result["ratio_english"] = result["median"]["qabot ask, English (dictionary cache)"] / jieba
    fastest = result["min"]['python -c "import jieba; jieba.initialize()"']
    result["ratio_fastest"] = result["min"]["qabot ask (dictionary cache)"] / fastest
    return result


def render(result: dict) -> str:
    lines = [
        f"| command ({result['runs']} runs each, interleaved) | median s | fastest s |",
        "|---|---|---|",
    ]
    for name, median in result["median"].items():
        lines.append(f"| `{name}` | {median:.3f} | {result['min'][name]:.3f} |")
    lines.append("")
    lines.append(
        f"`qabot ask {result['question']}` ({result['answer']}) takes "
        f"{result['ratio']:.2f}x the time of loading jieba's dictionary alone (medians; "
        f"{result['ratio_fastest']:.2f}x comparing the fastest runs; goal: at most 0.5x); with "
        f"the cache turned off, {result['ratio_off']:.2f}x. The English question "
        f"`{ENGLISH_QUESTION}` takes {result['ratio_english']:.2f}x (goal: at most 0.5x). "
        '`python -c "import bot.cli"` '
        "shows how much of it is only importing the program (below: by package)."
    )
    return "\n".join(lines)


def render_imports(result: dict) -> str:
    lines = ["| package | import time s (self, summed) |", "|---|---|"]
    for name, seconds in result["imports"]:
        lines.append(f"| {name} | {seconds:.3f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    outcome = measure()
    print(render(outcome))
    print()
    print(render_imports(outcome))
