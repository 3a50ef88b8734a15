"""Score the answerer on question sets, per split, kind and language (`qabot eval`).

Verdicts, as `data/eval/README.md` defines them: an answerable question is **right** when the
answer is at most 40 characters, contains an accepted answer and its cited passage contains
the evidence (**citation miss** when only the passage is wrong); otherwise a stated (sure) answer
is a **wrong answer** and any other reply is **wrongly abstained**. An unanswerable question is
right when the bot states no sure answer, a **false answer** when it does. Beside the counts: the
share of stated answers that are right, and the expected calibration error of `confidence`.

What a user gets, by tier (`replies_table`): sure and likely answers right and their precision;
**useful** replies (a right sure or likely answer, or a closest passage that holds the evidence);
wrong sure answers; replies of each tier to unanswerable questions. And threshold-free
(`ranking_table`): **top-1** (the best candidate is right, whatever the tier), whether the first
passage retrieved holds the evidence, and the **coverage at 90% and 95% precision**: ranking
every question by its confidence, the largest share of them that could be answered with the
best candidate at that precision (the risk-coverage view of selective QA: Kamath, Jia and
Liang, ACL 2020).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from bot.qa.answerer import Answerer
from bot.qa.datasets import Case, cites_evidence, is_right_span, read_cases
from bot.qa.forked import forked_map
from bot.qa.result import Answer, Tier

VERDICTS = ("right", "wrong_answer", "wrong_abstain", "false_answer", "citation_miss")
ECE_BINS = 10
COVERAGE_PRECISIONS = (0.90, 0.95)

__all__ = [
    "Outcome",
    "coverage_at",
    "evaluate",
    "judge",
    "precision_coverage",
    "ranking_table",
    "read_cases",
    "replies_table",
    "summary",
    "table",
]


@dataclass(frozen=True)
class Outcome:
    """One question's verdict, with what the bot said and how sure it was."""

    case: Case
    verdict: str
    answer: str | None
    confidence: float
    kind: str
    tier: Tier = "none"
    best_right: bool = False  # the model's best candidate is right (threshold-free top-1)
    first_passage_holds: bool = False  # the first passage retrieved holds the evidence
    quote_holds: bool = False  # the passage the reply quotes holds the evidence

    @property
    def stated(self) -> bool:
        return self.answer is not None

    @property
    def useful(self) -> bool:
        """A right sure or likely answer, or a closest passage that holds the evidence."""
        if not self.case.answerable:
            return False
        if self.tier in ("sure", "likely"):
            return self.best_right
        return self.tier == "evidence" and self.quote_holds


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


def outcome(case: Case, answer: Answer) -> Outcome:
    """The verdict on one reply, with what the tiers and the threshold-free figures need."""
    kind = (case.kind or answer.kind) if case.answerable else "unanswerable"
    best = answer.best
    best_right = bool(
        case.answerable
        and best is not None
        and is_right_span(best.answer, case)
        and cites_evidence(best.citation.text, case)
    )
    first = answer.passages[0].text if answer.passages else None
    quoted = answer.citation.text if answer.quotes and answer.citation else None
    return Outcome(
        case,
        judge(case, answer),
        answer.answer,
        answer.confidence,
        kind,
        tier=answer.tier,
        best_right=best_right,
        first_passage_holds=bool(case.answerable and first and cites_evidence(first, case)),
        quote_holds=bool(case.answerable and quoted and cites_evidence(quoted, case)),
    )


CHUNK = 50  # questions a worker judges at a time


def _judge(answerer: Answerer, cases: list[Case]) -> list[Outcome]:
    return [outcome(case, answerer.answer(case.question)) for case in cases]


def evaluate(answerer: Answerer, cases: Iterable[Case], workers: int = 1) -> list[Outcome]:
    """Every case asked and judged, in order; with `workers` > 1 on that many forked processes
    (each with the answerer as it was; where fork is unavailable, in this one)."""
    return forked_map(answerer, _judge, list(cases), workers, CHUNK)


def precision_coverage(outcomes: list[Outcome]) -> list[tuple[float, float]]:
    """(coverage, precision) of answering the most confident questions first with the best
    candidate: a point per question, coverage over all questions (an unanswerable question
    answered is wrong)."""
    ranked = sorted(outcomes, key=lambda o: -o.confidence)
    points, right = [], 0
    for number, item in enumerate(ranked, 1):
        right += item.best_right
        points.append((number / len(ranked), right / number))
    return points


def coverage_at(outcomes: list[Outcome], precision: float) -> float:
    """The largest share of the questions answerable, most confident first, at `precision`."""
    reached = [c for c, p in precision_coverage(outcomes) if p >= precision]
    return max(reached, default=0.0)


def expected_calibration_error(outcomes: list[Outcome], best: bool = False) -> float:
    """|confidence - share right| averaged across ten confidence bins: over the stated (sure)
    answers, or with `best` over every question, for its best candidate (what `confidence`
    is the probability of)."""
    judged = outcomes if best else [o for o in outcomes if o.stated]
    if not judged:
        return 0.0
    bins: dict[int, list[Outcome]] = defaultdict(list)
    for item in judged:
        bins[min(int(item.confidence * ECE_BINS), ECE_BINS - 1)].append(item)
    total = 0.0
    for members in bins.values():
        right = sum(o.best_right if best else o.verdict == "right" for o in members)
        confidence = sum(o.confidence for o in members) / len(members)
        total += len(members) * abs(confidence - right / len(members))
    return total / len(judged)


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


def _groups(outcomes: list[Outcome]) -> dict[str, list[Outcome]]:
    """The outcomes by language and by kind, and all of them as TOTAL (last)."""
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for item in outcomes:
        groups[f"lang {item.case.lang}"].append(item)
        groups[f"kind {item.kind}"].append(item)
    return {**{name: groups[name] for name in sorted(groups)}, "TOTAL": outcomes}


@dataclass(frozen=True)
class Replies:
    """What users get from one group of outcomes, by tier."""

    answerable: int
    sure: int
    sure_right: int
    likely: int
    likely_right: int
    evidence: int
    evidence_holds: int
    useful: int
    wrong_sure: int
    unanswerable_replies: dict[str, int]  # tier -> replies of it to unanswerable questions
    top1: int
    first_passage: int

    @staticmethod
    def of(outcomes: list[Outcome]) -> Replies:
        answerable = [o for o in outcomes if o.case.answerable]
        unanswerable = [o for o in outcomes if not o.case.answerable]
        tiers = ("sure", "likely", "evidence")
        return Replies(
            answerable=len(answerable),
            sure=sum(o.tier == "sure" for o in outcomes),
            sure_right=sum(o.tier == "sure" and o.verdict == "right" for o in answerable),
            likely=sum(o.tier == "likely" for o in outcomes),
            likely_right=sum(o.tier == "likely" and o.best_right for o in answerable),
            evidence=sum(o.tier == "evidence" for o in outcomes),
            evidence_holds=sum(o.tier == "evidence" and o.quote_holds for o in answerable),
            useful=sum(o.useful for o in answerable),
            wrong_sure=sum(o.tier == "sure" and o.verdict != "right" for o in outcomes),
            unanswerable_replies={t: sum(o.tier == t for o in unanswerable) for t in tiers},
            top1=sum(o.best_right for o in answerable),
            first_passage=sum(o.first_passage_holds for o in answerable),
        )

    def share(self, count: int) -> float:
        """`count` as a share of the answerable questions."""
        return count / self.answerable if self.answerable else 0.0

    @property
    def sure_precision(self) -> float:
        return self.sure_right / self.sure if self.sure else 1.0

    @property
    def likely_precision(self) -> float:
        return self.likely_right / self.likely if self.likely else 1.0


def replies_table(outcomes: list[Outcome], title: str = "") -> str:
    """What a user gets, by language and kind: right sure and likely answers (of the answerable
    questions) and each tier's precision, closest passages holding the evidence, useful
    replies, wrong sure answers, and the sure/likely/evidence replies to unanswerable ones."""
    header = (
        f"{title or 'group':<22}{'n':>5}{'sure ok':>9}{'prec':>7}{'likely ok':>11}{'prec':>7}"
        f"{'psg ok':>8}{'useful':>8}{'wrong sure':>12}{'unans s/l/e':>13}"
    )
    lines = [header, "-" * len(header)]
    for name, members in _groups(outcomes).items():
        r = Replies.of(members)
        u = r.unanswerable_replies
        unanswered = f"{u['sure']}/{u['likely']}/{u['evidence']}"
        lines.append(
            f"{name:<22}{len(members):>5}{r.share(r.sure_right):>9.1%}{r.sure_precision:>7.1%}"
            f"{r.share(r.likely_right):>11.1%}{r.likely_precision:>7.1%}"
            f"{r.share(r.evidence_holds):>8.1%}{r.share(r.useful):>8.1%}{r.wrong_sure:>12}"
            f"{unanswered:>13}"
        )
    return "\n".join(lines)


def ranking_table(outcomes: list[Outcome], title: str = "") -> str:
    """Threshold-free, by language and kind: top-1 and first passage holding the evidence (of
    the answerable questions), the coverage at 90% and 95% precision (of all questions), and
    the calibration error of the confidence (every question's best candidate)."""
    header = (
        f"{title or 'group':<22}{'n':>5}{'top-1':>8}{'1st psg':>9}{'cov@90':>8}{'cov@95':>8}"
        f"{'ECE':>7}"
    )
    lines = [header, "-" * len(header)]
    for name, members in _groups(outcomes).items():
        r = Replies.of(members)
        coverage = [coverage_at(members, p) for p in COVERAGE_PRECISIONS]
        lines.append(
            f"{name:<22}{len(members):>5}{r.share(r.top1):>8.1%}{r.share(r.first_passage):>9.1%}"
            + "".join(f"{c:>8.1%}" for c in coverage)
            + f"{expected_calibration_error(members, best=True):>7.3f}"
        )
    return "\n".join(lines)


def table(outcomes: list[Outcome], title: str = "") -> str:
    """Rows by language and by kind, and a total: counts, % of answerable right, % of stated right."""
    groups = _groups(outcomes)
    header = (
        f"{title or 'group':<22}{'n':>5}{'right':>7}{'wrong':>7}{'abst.':>7}{'false':>7}"
        f"{'cite':>6}{'ans.right':>11}{'stated ok':>11}{'ECE':>7}"
    )
    lines = [header, "-" * len(header)]
    for name, members in groups.items():
        s = summary(members)
        c = s.counts
        lines.append(
            f"{name:<22}{s.n:>5}{c['right']:>7}{c['wrong_answer']:>7}{c['wrong_abstain']:>7}"
            f"{c['false_answer']:>7}{c['citation_miss']:>6}{s.answerable_right:>10.1%}"
            f"{s.precision:>11.1%}{s.ece:>7.3f}"
        )
    return "\n".join(lines)
