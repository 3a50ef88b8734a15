"""CMRC 2018 dev, the outside benchmark: every paragraph indexed as an article, every question
asked through `qabot ask --json -`, scored with CMRC's EM/F1 (character-level F1, punctuation
and white space removed, best over the accepted answers; an abstention scores 0): the sure
answers alone, and the sure and likely answers together (a closest passage scores 0).

    python -m bench.cmrc PATH/cmrc2018_dev.json [--out bench/out/cmrc]

The dev set is not in the repository (it is the benchmark, never training data): get it from
the ymcui/cmrc2018 repository (`squad-style-data/cmrc2018_dev.json`). Nothing is tuned on it.
"""

from __future__ import annotations

import argparse
import json
import re
import string
import subprocess
import sys
from pathlib import Path

from bot.qa.datasets import squad_cases
from index.build import build_index
from index.figures import find_figures

PUNCTUATION = set(string.punctuation) | set(
    "，。！？；：、“”‘’（）《》〈〉【】『』「」﹃﹄〔〕…—～·｀﹏＿．"
)


def _segments(text: str) -> list[str]:
    """Chinese characters one by one, runs of Latin letters and digits whole."""
    out: list[str] = []
    for piece in re.findall(r"[A-Za-z0-9]+|\S", text.lower()):
        if piece not in PUNCTUATION:
            out.append(piece)
    return out


def f1(prediction: str, gold: str) -> float:
    predicted, expected = _segments(prediction), _segments(gold)
    common = 0
    remaining = list(expected)
    for piece in predicted:
        if piece in remaining:
            remaining.remove(piece)
            common += 1
    if not common:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def exact(prediction: str, gold: str) -> float:
    return float(_segments(prediction) == _segments(gold))


def holds_figure(answers: tuple[str, ...]) -> bool:
    return any(re.search(r"\d", a) or find_figures(a) for a in answers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dev", type=Path, help="cmrc2018_dev.json (SQuAD format)")
    parser.add_argument("--out", type=Path, default=Path("bench/out/cmrc"))
    args = parser.parse_args(argv)
    articles = args.out / "articles"
    articles.mkdir(parents=True, exist_ok=True)
    cases = []
    for article, text, case in squad_cases(args.dev, "cmrc-dev"):
        path = articles / f"{article}.md"
        if not path.exists():
            path.write_text(text, encoding="utf-8")
        cases.append(case)
    index_path = args.out / "index.sqlite"
    build_index(articles, index_path)
    questions = "\n".join(" ".join(c.question.split()) for c in cases) + "\n"
    run = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", "--json", "--index", str(index_path), "-"],
        input=questions, capture_output=True, text=True, encoding="utf-8", check=True,
    )  # fmt: skip
    replies = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    assert len(replies) == len(cases), (len(replies), len(cases))
    sure = {c.id: (r["answer"] or "") for c, r in zip(cases, replies, strict=True)}
    offered = {
        c.id: (r["answer"] or (r["guess"] or {}).get("answer") or "")
        for c, r in zip(cases, replies, strict=True)
    }
    (args.out / "predictions.json").write_text(json.dumps(sure, ensure_ascii=False), "utf-8")

    def score(subset: list, predictions: dict[str, str]) -> dict:
        n = len(subset) or 1
        answered = [c for c in subset if predictions[c.id]]
        contains = sum(
            any(a.replace(" ", "") in predictions[c.id].replace(" ", "") for a in c.answers)
            for c in answered
        )
        return {
            "questions": len(subset),
            "EM": round(100 * sum(max(exact(predictions[c.id], a) for a in c.answers) for c in subset) / n, 1),
            "F1": round(100 * sum(max(f1(predictions[c.id], a) for a in c.answers) for c in subset) / n, 1),
            "answered": round(100 * len(answered) / n, 1),
            "stated_containing_gold": round(100 * contains / (len(answered) or 1), 1),
        }  # fmt: skip

    figures = [c for c in cases if holds_figure(c.answers)]
    report = {
        "all, sure answers": score(cases, sure),
        "all, sure or likely": score(cases, offered),
        "figure answers, sure": score(figures, sure),
        "figure answers, sure or likely": score(figures, offered),
    }
    print(json.dumps(report, ensure_ascii=False, indent=1))
    (args.out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
