"""Score the answerer on a question file (`data/eval/dev.jsonl` format) the way the eval README says.

An answerable question is right when the answer is at most 40 characters, contains one of the
accepted answers and the cited passage contains the evidence; an unanswerable one is right
when the bot abstains. Text is compared after NFKC, without white space or pinyin glosses, in
simplified script.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bot.answer import Answer, Answerer
from index.analyzer import normalize
from index.ingest import strip_pinyin_glosses

MAX_ANSWER_CHARS = 40


def comparable(text: str) -> str:
    return "".join(normalize(strip_pinyin_glosses(text)).split())


@dataclass
class Outcome:
    """One question's verdict: correct, wrong_abstain, false_answer or citation_miss."""

    id: str
    question: str
    verdict: str
    answer: str | None
    group: str


def judge(case: dict, answer: Answer) -> str:
    if not case.get("answerable", True):
        return "correct" if answer.answer is None else "false_answer"
    if answer.answer is None:
        return "wrong_abstain"
    text = comparable(answer.answer)
    accepted = [comparable(a) for a in case.get("answers", [])]
    if len(answer.answer) > MAX_ANSWER_CHARS or not any(a in text for a in accepted):
        return "false_answer"
    evidence = case.get("evidence")
    if evidence and (
        answer.citation is None or comparable(evidence) not in comparable(answer.citation.text)
    ):
        return "citation_miss"
    return "correct"


def load_cases(path: Path) -> list[dict]:
    cases = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                cases.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from exc
    return cases


def evaluate(answerer: Answerer, cases: list[dict]) -> list[Outcome]:
    outcomes = []
    for case in cases:
        answer = answerer.answer(case["question"])
        group = (
            f"{answer.kind}/{case.get('lang', 'zh')}"
            if case.get("answerable", True)
            else f"unanswerable/{case.get('lang', 'zh')}"
        )
        outcomes.append(
            Outcome(
                str(case.get("id", len(outcomes) + 1)),
                case["question"],
                judge(case, answer),
                answer.answer,
                group,
            )
        )
    return outcomes


VERDICTS = ("correct", "wrong_abstain", "false_answer", "citation_miss")


def table(outcomes: list[Outcome]) -> str:
    """A plain-text table: one row per question kind/language and a total row."""
    rows: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(VERDICTS, 0))
    for outcome in outcomes:
        rows[outcome.group][outcome.verdict] += 1
        rows["TOTAL"][outcome.verdict] += 1
    header = f"{'kind/lang':<22}{'n':>4}{'correct':>9}{'wrongly abstained':>19}{'false answers':>15}{'citation misses':>17}"
    lines = [header, "-" * len(header)]
    for group in sorted(g for g in rows if g != "TOTAL") + ["TOTAL"]:
        counts = rows[group]
        lines.append(
            f"{group:<22}{sum(counts.values()):>4}{counts['correct']:>9}{counts['wrong_abstain']:>19}"
            f"{counts['false_answer']:>15}{counts['citation_miss']:>17}"
        )
    return "\n".join(lines)
