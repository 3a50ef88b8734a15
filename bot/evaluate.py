"""Score the answerer on question sets, per split, kind and language (`qabot eval`).

Verdicts, as `data/eval/README.md` defines them: an answerable question is **right** when the
answer is at most 40 characters, contains an accepted answer and its cited passage contains
the evidence (**citation miss** when only the passage is wrong); otherwise a stated answer is a
**wrong answer** and an abstention is **wrongly abstained**. An unanswerable question is right
when the bot abstains, a **false answer** when it states one. Beside the counts: the share of
stated answers that are right, and the expected calibration error of `confidence`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from bot.qa.answerer import Answerer
from bot.qa.datasets import Case, cites_evidence, is_right_span, read_cases
from bot.qa.result import Answer

VERDICTS = ("right", "wrong_answer", "wrong_abstain", "false_answer", "citation_miss")
ECE_BINS = 10

__all__ = ["Outcome", "evaluate", "judge", "read_cases", "summary", "table"]


@dataclass(frozen=True)
class Outcome:
    """One question's verdict, with what the bot said and how sure it was."""

    case: Case
    verdict: str
    answer: str | None
    confidence: float
    kind: str

    @property
    def stated(self) -> bool:
        return self.answer is not None


def judge(case: Case, answer: Answer) -> str:
    if not case.answerable:
        return "right" if answer.answer is None else "false_answer"
    if answer.answer is None:
        return "wrong_abstain"
    if not is_right_span(answer.answer, case):
        return "wrong_answer"
    if answer.citation is None or not cites_evidence(answer.citation.text, case):
        return "citation_miss"
    return "right"


def evaluate(answerer: Answerer, cases: Iterable[Case]) -> list[Outcome]:
    outcomes = []
    for case in cases:
        answer = answerer.answer(case.question)
        kind = (case.kind or answer.kind) if case.answerable else "unanswerable"
        outcomes.append(Outcome(case, judge(case, answer), answer.answer, answer.confidence, kind))
    return outcomes


def expected_calibration_error(outcomes: list[Outcome]) -> float:
    """|confidence - share right| over stated answers, averaged across ten confidence bins."""
    stated = [o for o in outcomes if o.stated]
    if not stated:
        return 0.0
    bins: dict[int, list[Outcome]] = defaultdict(list)
    for outcome in stated:
        bins[min(int(outcome.confidence * ECE_BINS), ECE_BINS - 1)].append(outcome)
    total = 0.0
    for members in bins.values():
        right = sum(o.verdict == "right" for o in members) / len(members)
        confidence = sum(o.confidence for o in members) / len(members)
        total += len(members) * abs(confidence - right)
    return total / len(stated)


@dataclass(frozen=True)
class Summary:
    """Counts of one group of outcomes and the figures the issue reports."""

    n: int
    counts: dict[str, int]
    answerable: int
    stated: int
    stated_right: int
    ece: float

    @property
    def answerable_right(self) -> float:
        right = self.counts["right"] - self.unanswerable_right
        return right / self.answerable if self.answerable else 0.0

    @property
    def unanswerable_right(self) -> int:
        return self.n - self.answerable - self.counts["false_answer"]

    @property
    def precision(self) -> float:
        return self.stated_right / self.stated if self.stated else 1.0


def summary(outcomes: list[Outcome]) -> Summary:
    counts = dict.fromkeys(VERDICTS, 0)
    for outcome in outcomes:
        counts[outcome.verdict] += 1
    stated = [o for o in outcomes if o.stated]
    return Summary(
        n=len(outcomes),
        counts=counts,
        answerable=sum(o.case.answerable for o in outcomes),
        stated=len(stated),
        stated_right=sum(o.verdict == "right" for o in stated),
        ece=expected_calibration_error(outcomes),
    )


def table(outcomes: list[Outcome], title: str = "") -> str:
    """Rows by language and by kind, and a total: counts, % of answerable right, % of stated right."""
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        groups[f"lang {outcome.case.lang}"].append(outcome)
        groups[f"kind {outcome.kind}"].append(outcome)
    header = (
        f"{title or 'group':<22}{'n':>5}{'right':>7}{'wrong':>7}{'abst.':>7}{'false':>7}"
        f"{'cite':>6}{'ans.right':>11}{'stated ok':>11}{'ECE':>7}"
    )
    lines = [header, "-" * len(header)]
    for name in sorted(groups) + ["TOTAL"]:
        s = summary(groups[name] if name != "TOTAL" else outcomes)
        c = s.counts
        lines.append(
            f"{name:<22}{s.n:>5}{c['right']:>7}{c['wrong_answer']:>7}{c['wrong_abstain']:>7}"
            f"{c['false_answer']:>7}{c['citation_miss']:>6}{s.answerable_right:>10.1%}"
            f"{s.precision:>11.1%}{s.ece:>7.3f}"
        )
    return "\n".join(lines)
