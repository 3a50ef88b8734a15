"""`make train`: fit the answer model on the train split, calibrate it on held-out questions,
write weights.json.

1. The kind prior: a multinomial logistic model of a question's kind from its words, fitted on
   the labelled news questions (news train and the seed set); names of places and people are
   left out (哈密 says nothing of what is asked about it).
2. The candidate model: a logistic regression over `features.FEATURES`, fitted on every
   candidate of those questions (right span = 1). Public questions are also asked with their
   own paragraph left out, and some news questions about a place no article names (the place
   swapped), so the model sees questions the index cannot answer.
3. Calibration on questions about articles the model was not fitted on: the news train
   questions out of fold (`FOLDS` folds by article, each scored by a model fitted without it)
   and the dev split (scored by the final model): the best candidate's raw log-odds -> P(right)
   (Platt). Two thresholds of that probability, chosen on the same held-out questions: a
   **sure** answer's, the lowest at which the sure answers are at least `SURE_PRECISION` right;
   a **likely** answer's, where the likely answers (between the two, on questions naming
   nothing the articles do not write) are right by the widest margin over wrong ones: below
   it, a likely answer would more often be wrong than right.

Needs scikit-learn (the `dev` extra); the bot itself only reads the JSON it writes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from bot.qa.answerer import Answerer
from bot.qa.datasets import (
    NEWS_DIR,
    PUBLIC_DIR,
    PUBLIC_SETS,
    SEED_ARTICLES,
    SEED_QUESTIONS,
    Case,
    QuestionSet,
    cites_evidence,
    comparable,
    index_of,
    is_right_span,
    news_split,
    public_set,
    seed_set,
)
from bot.qa.features import FEATURES
from bot.qa.forked import forked_map
from bot.qa.kinds import Kind
from bot.qa.lexicon import cedict_places
from bot.qa.question import kind_words
from bot.qa.reading import read_passage
from bot.qa.scoring import KindPrior, Scorer, weights_path
from index.analyzer import normalize

# Of dev's sure answers, the share that must be right. (Likely answers, offered with "check
# the passage", must be more often right than wrong at the margin: `choose_thresholds`.)
SURE_PRECISION = 0.95
FOLDS = 5  # calibration: news train questions held out by article, a fifth at a time
MIN_THRESHOLD = 0.5  # a sure answer is at least an even bet whatever dev says
PUBLIC_LIMIT = 1500  # questions of each public set: Wikipedia questions, a third of the news weight
L2 = 1.0  # weight of the L2 penalty on the feature weights
PUBLIC_WEIGHT = 0.3  # a public (Wikipedia) question weighs less than a news question
LEFT_OUT_SHARE = 0.3  # public questions also asked without their paragraph
SWAPPED_SHARE = 0.3  # news questions also asked about a place no article names
KIND_C = 3.0  # inverse L2 strength of the kind prior (best of 0.3/1/3 on dev)
KIND_MIN_COUNT = 2  # words seen fewer times do not enter the kind prior
SEED = 20261202
WORKERS = 2
CHUNK = 100  # questions a worker takes at a time


@dataclass
class Asked:
    """One question asked during training: its candidates' features and labels, and its best."""

    case: Case
    rows: list[list[float]]
    labels: list[int]
    best_right: bool
    names_unknown: bool = False  # names a place or name no article writes: never a likely reply


def kind_of_answer(text: str) -> Kind:
    """The kind whose extractor finds the whole answer text (the label of a public question)."""
    from bot.qa.candidates import spans_of

    whole = len(text.strip())
    passage = read_passage(text.strip())
    found = {
        kind
        for start, end, kind, _ in spans_of(passage.original)
        if start == 0 and end >= whole - 1
    }
    for kind in Kind:
        if kind in found:
            return kind
    return Kind.DESCRIPTION


def case_kind(case: Case) -> Kind:
    if case.kind:
        try:
            return Kind.from_label(case.kind)
        except KeyError:
            pass
    return kind_of_answer(case.answers[0]) if case.answers else Kind.DESCRIPTION


NAME_TAGS = frozenset({"ns", "nr", "nrt", "nrfg", "nt"})


def is_name(word: str) -> bool:
    """A place (CC-CEDICT names it one, or jieba tags it so), a person or an organisation."""
    from index.analyzer import pos_tokenizer

    if word in cedict_places():
        return True
    tagged = pos_tokenizer().lcut(word)
    return len(tagged) == 1 and tagged[0].flag in NAME_TAGS


def fit_kind_prior(cases: Iterable[Case]) -> KindPrior:
    """P(kind | question words), fitted on labelled news questions (the public sets' kinds,
    read off their answers, are Wikipedia's and made the prior worse on dev: 60% vs 72%)."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    words, labels = [], []
    for case in cases:
        if case.answerable and case.answers:
            asked = kind_words(normalize(case.question))
            words.append({w: 1.0 for w in asked if not is_name(w)})
            labels.append(case_kind(case).label)
    counts: dict[str, int] = {}
    for row in words:
        for word in row:
            counts[word] = counts.get(word, 0) + 1
    words = [{w: v for w, v in row.items() if counts[w] >= KIND_MIN_COUNT} for row in words]
    vectorizer = DictVectorizer()
    matrix = vectorizer.fit_transform(words)
    model = LogisticRegression(C=KIND_C, max_iter=3000)
    model.fit(matrix, labels)
    kinds = tuple(Kind.from_label(label) for label in model.classes_)
    coefficients = model.coef_.T
    table = {
        word: tuple(float(x) for x in coefficients[number])
        for word, number in vectorizer.vocabulary_.items()
        if max(abs(x) for x in coefficients[number]) >= 0.05
    }
    return KindPrior(kinds, tuple(float(b) for b in model.intercept_), table)


def ask_all(answerer: Answerer, cases: Iterable[Case], left_out: bool = False) -> list[Asked]:
    """Every case asked (on every core, forked with the answerer); with `left_out`, the gold
    article is excluded from retrieval."""
    workers = min(os.cpu_count() or 1, WORKERS)
    ask = lambda asking, chunk: _ask_serially(asking, chunk, left_out)  # noqa: E731
    return forked_map(answerer, ask, list(cases), workers, CHUNK)


def _ask_serially(answerer: Answerer, cases: Iterable[Case], left_out: bool = False) -> list[Asked]:
    paths = {Path(r.path).stem: n for n, r in enumerate(answerer.index.articles)}
    asked = []
    for case in cases:
        question = answerer.reader.read(case.question)
        exclude = paths.get(case.article) if left_out else None
        _, scored = answerer.scored(question, exclude_article=exclude)
        labels = []
        for item in scored:
            candidate = item.candidate
            right = bool(
                case.answerable
                and not left_out
                and is_right_span(candidate.text, case)
                and cites_evidence(candidate.hit.passage.text, case)
                and _short_enough(candidate.text, case)
                and (case.evidence or paths.get(case.article) == candidate.hit.passage.article)
            )
            labels.append(int(right))
        places, names = answerer.unknown_names(question)
        asked.append(
            Asked(
                case,
                [s.vector for s in scored],
                labels,
                bool(labels and labels[0]),
                names_unknown=bool(places or names),
            )
        )
    return asked


def place_swapped(answerer: Answerer, cases: Iterable[Case], rng: random.Random) -> list[Case]:
    """Unanswerable twins of some answerable questions: the place asked about swapped for one
    no article names (哈密有多少个服务站 -> 昆明有多少个服务站), so the model learns what a
    place the articles never mention says about every span they offer."""
    corpus = "\n".join(
        view.title + view.text
        for view in map(answerer.article_view, range(len(answerer.index.articles)))
    )
    absent = sorted(p for p in cedict_places() if 2 <= len(p) <= 3 and p not in corpus)
    twins = []
    for case in cases:
        if not case.answerable or rng.random() >= SWAPPED_SHARE:
            continue
        question = answerer.reader.read(case.question)
        asked = [p.text for p in question.places if p.text in question.normalized]
        if not asked or not absent:
            continue
        text = question.normalized.replace(asked[0], rng.choice(absent))
        twins.append(
            replace(case, id=case.id + "-swapped", question=text, answers=(), evidence=None,
                    answerable=False)
        )  # fmt: skip
    return twins


def _short_enough(span: str, case: Case) -> bool:
    """Not much longer than the shortest accepted answer (so a whole clause is not 'right')."""
    shortest = min(len(comparable(a)) for a in case.answers)
    return len(comparable(span)) <= max(2 * shortest, shortest + 8)


def fit_candidates(asked: list[Asked], weights: list[float]) -> tuple[list[float], float]:
    """A conditional logit over each question's candidates and one "no answer" option.

    Maximises, for every question, the log-probability of its right spans among all its
    candidates and the null option (the null option is "right" when no candidate is: an
    unanswerable question, or a right span the extractors missed). L2-regularised, fitted
    with L-BFGS; returns the feature weights and the null option's score.
    """
    import numpy as np
    from scipy.optimize import minimize

    rows = [row for item in asked for row in item.rows]
    features = np.array(rows, dtype=np.float64).reshape(len(rows), len(FEATURES))
    sizes = np.array([len(item.rows) for item in asked])
    right = np.array([label for item in asked for label in item.labels], dtype=bool)
    question_weight = np.array(weights, dtype=np.float64)
    owner = np.repeat(np.arange(len(asked)), sizes)
    answerable = np.bincount(owner, weights=right, minlength=len(asked)) > 0
    starts = np.minimum(np.concatenate([[0], np.cumsum(sizes)[:-1]]), max(len(rows) - 1, 0))

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, null = theta[:-1], theta[-1]
        scores = features @ w
        top = np.full(len(asked), null)
        if len(scores):
            top = np.where(sizes > 0, np.maximum(null, np.maximum.reduceat(scores, starts)), null)
        exp = np.exp(scores - top[owner])
        exp_null = np.exp(null - top)
        total = exp_null + np.bincount(owner, weights=exp, minlength=len(asked))
        kept = np.where(
            answerable, np.bincount(owner, weights=exp * right, minlength=len(asked)), exp_null
        )
        value = -(question_weight * (np.log(kept) - np.log(total))).sum() + L2 * (w @ w)
        share = exp / total[owner] - np.where(
            right, exp / np.where(answerable, kept, 1.0)[owner], 0.0
        )
        gradient_w = features.T @ (share * question_weight[owner]) + 2 * L2 * w
        gradient_null = (question_weight * (exp_null / total - (~answerable))).sum()
        return float(value), np.append(gradient_w, gradient_null)

    result = minimize(
        loss, np.zeros(len(FEATURES) + 1), jac=True, method="L-BFGS-B", options={"maxiter": 1000}
    )
    return [float(w) for w in result.x[:-1]], float(result.x[-1])


@dataclass(frozen=True)
class Judged:
    """One held-out question as calibration sees it: the raw log-odds of the model's best
    candidate, whether that candidate is right, and whether a likely reply may be given."""

    raw_logit: float
    right: int
    eligible: bool


def judged(scorer: Scorer, asked: Iterable[Asked]) -> list[Judged]:
    """The questions with candidates, scored by `scorer`."""
    found = []
    for item in asked:
        if not item.rows:
            continue
        scores = [scorer.score(row) for row in item.rows]
        best = max(range(len(scores)), key=scores.__getitem__)
        found.append(Judged(scorer.raw_logit(scores), item.labels[best], not item.names_unknown))
    return found


def calibrate(held_out: list[Judged]) -> tuple[tuple[float, float], float, float]:
    """Platt scaling of the best candidate's raw log-odds on questions the model was not fitted
    on; then, on the same questions, the sure and the likely thresholds (`choose_thresholds`)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    features = np.array([[j.raw_logit] for j in held_out])
    labels = np.array([j.right for j in held_out])
    model = LogisticRegression(C=100.0, max_iter=2000)
    model.fit(features, labels)
    calibration = (float(model.coef_[0][0]), float(model.intercept_[0]))
    probabilities = [float(p) for p in model.predict_proba(features)[:, 1]]
    sure, likely = choose_thresholds(
        probabilities, [j.right for j in held_out], [j.eligible for j in held_out]
    )
    return calibration, sure, likely


def fold_of_article(article: str | None) -> int:
    """The calibration fold of a news article (stable: a hash of its name)."""
    digest = hashlib.sha256((article or "").encode("utf-8")).digest()
    return digest[0] % FOLDS


def out_of_fold(
    asked: list[Asked], weights: list[float], folds: list[int | None], kind_prior: KindPrior
) -> list[Judged]:
    """Each fold's news questions scored by a model fitted without that fold's articles (the
    other folds, the seeds and the public sets), as the bot scores questions about articles
    it was not fitted on. (The kind prior is the one fitted on all of train.)"""
    held_out: list[Judged] = []
    for fold in range(FOLDS):
        keep = [n for n, f in enumerate(folds) if f != fold]
        coefficients, bias = fit_candidates([asked[n] for n in keep], [weights[n] for n in keep])
        scorer = Scorer(tuple(coefficients), bias, (1.0, 0.0), 0.5, kind_prior, 0.5)
        held_out += judged(scorer, (asked[n] for n, f in enumerate(folds) if f == fold))
    return held_out


def choose_thresholds(
    probabilities: list[float], labels: list[int], eligible: list[bool]
) -> tuple[float, float]:
    """The sure threshold: the lowest at which the answers at or above it are at least
    SURE_PRECISION right (at least MIN_THRESHOLD). The likely threshold: of the `eligible`
    questions (those a likely reply may be given), the answers between it and the sure one are
    right by the widest margin over wrong ones (the highest such threshold on a tie; the sure
    one when no band has more right than wrong)."""
    levels = sorted(set(round(p, 3) for p in probabilities))
    sure = 1.0
    for level in levels:
        answered = [label for p, label in zip(probabilities, labels, strict=True) if p >= level]
        if answered and sum(answered) / len(answered) >= SURE_PRECISION:
            sure = max(level, MIN_THRESHOLD)
            break
    likely, widest = sure, 0
    for level in sorted((lv for lv in levels if lv < sure), reverse=True):
        band = [
            label
            for p, label, ok in zip(probabilities, labels, eligible, strict=True)
            if ok and level <= p < sure
        ]
        margin = 2 * sum(band) - len(band)  # right minus wrong
        if margin > widest:  # strictly: on a tie the higher threshold stays
            likely, widest = level, margin
    return sure, likely


def train(public_limit: int | None = PUBLIC_LIMIT, log=print) -> dict:
    random.seed(SEED)
    rng = random.Random(SEED)
    news_train, news_dev, seeds = news_split("train"), news_split("dev"), seed_set()
    publics = [public_set(name) for name in PUBLIC_SETS]
    if public_limit is not None:
        publics = [QuestionSet(p.name, p.articles, p.cases[:public_limit]) for p in publics]
    kind_prior = fit_kind_prior([*news_train.cases, *seeds.cases])
    log(f"kind prior: {len(kind_prior.words)} words, {len(kind_prior.kinds)} kinds")
    blank = Scorer(tuple(0.0 for _ in FEATURES), 0.0, (1.0, 0.0), 0.5, kind_prior, 0.5)
    asked: list[Asked] = []
    weights: list[float] = []
    folds: list[int | None] = []  # the calibration fold of a news train question, else None
    for question_set, weight in [(news_train, 1.0), (seeds, 1.0)] + [
        (p, PUBLIC_WEIGHT) for p in publics
    ]:
        answerer = Answerer(index_of(question_set), scorer=blank)
        batch = ask_all(answerer, question_set.cases)
        asked += batch
        weights += [weight] * len(batch)
        news = question_set is news_train
        folds += [fold_of_article(a.case.article) if news else None for a in batch]
        if news:
            batch = ask_all(answerer, place_swapped(answerer, question_set.cases, rng))
            asked += batch
            weights += [weight] * len(batch)
            folds += [None] * len(batch)
            log(f"{question_set.name}: {len(batch)} questions asked about absent places")
        if weight < 1.0:
            sample = [c for c in question_set.cases if random.random() < LEFT_OUT_SHARE]
            batch = ask_all(answerer, sample, left_out=True)
            asked += batch
            weights += [weight] * len(batch)
            folds += [None] * len(batch)
        log(f"{question_set.name}: {len(question_set.cases)} questions asked")
    coefficients, bias = fit_candidates(asked, weights)
    # through JSON and back: calibrated on the rounded weights the bot will read
    fitted = Scorer.from_json(
        Scorer(tuple(coefficients), bias, (1.0, 0.0), 0.5, kind_prior, 0.5).to_json()
    )
    dev_asked = ask_all(Answerer(index_of(news_dev), scorer=fitted), news_dev.cases)
    held_out = out_of_fold(asked, weights, folds, kind_prior) + judged(fitted, dev_asked)
    log(f"calibrating on {len(held_out)} held-out questions (train out of fold, and dev)")
    calibration, sure, likely = calibrate(held_out)
    scorer = Scorer(tuple(coefficients), bias, calibration, sure, kind_prior, likely)
    log(f"calibration {calibration}, sure from {sure:.3f}, likely from {likely:.3f}")
    return scorer.to_json(
        {
            "trained_on": {
                "news_train": len(news_train.cases),
                "seeds": len(seeds.cases),
                **{p.name: len(p.cases) for p in publics},
                "calibrated_on": {
                    "news_train_out_of_fold": sum(f is not None for f in folds),
                    "news_dev": len(news_dev.cases),
                    "folds": FOLDS,
                },
                "public_limit": public_limit,
            },
            "data_digests": data_digests(),
        }
    )


def data_digests(root: Path = Path(".")) -> dict[str, str]:
    """sha256 of every file the weights were fitted or calibrated on (a test compares them)."""
    files = [*training_files(root)]
    return {
        str(f.relative_to(root)): hashlib.sha256(f.read_bytes()).hexdigest()[:16] for f in files
    }


def training_files(root: Path = Path(".")) -> list[Path]:
    news = root / NEWS_DIR
    return [
        news / "split.json", news / "train.jsonl", news / "dev.jsonl", root / SEED_QUESTIONS,
        *(root / PUBLIC_DIR / f"{name}.json" for name in PUBLIC_SETS),
        *sorted((news / "articles").iterdir()), *sorted((root / SEED_ARTICLES).iterdir()),
    ]  # fmt: skip


def recalibrate(path: Path, log=print) -> dict:
    """Calibration and thresholds again for the weights at `path` (fitting unchanged), on dev
    alone: a quick check; `make train` calibrates on train out of fold and dev."""
    document = json.loads(path.read_text(encoding="utf-8"))
    scorer = Scorer.from_json(document)
    news_dev = news_split("dev")
    dev_asked = ask_all(Answerer(index_of(news_dev), scorer=scorer), news_dev.cases)
    calibration, sure, likely = calibrate(judged(scorer, dev_asked))
    log(f"calibration {calibration}, sure from {sure:.3f}, likely from {likely:.3f}")
    fresh = Scorer(scorer.weights, scorer.bias, calibration, sure, scorer.kind_prior, likely)
    return fresh.to_json({k: document[k] for k in ("trained_on", "data_digests")})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.qa.train", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--out", type=Path, default=weights_path(), help="where to write the weights"
    )
    parser.add_argument(
        "--public-limit", type=int, default=PUBLIC_LIMIT,
        help=f"questions taken from each public set (default {PUBLIC_LIMIT}; 0 for all)",
    )  # fmt: skip
    parser.add_argument(
        "--calibrate-only", action="store_true",
        help="keep the fitted weights of --out; calibrate and set the thresholds again on dev",
    )  # fmt: skip
    args = parser.parse_args(argv)
    log = lambda m: print(m, file=sys.stderr)  # noqa: E731
    if args.calibrate_only:
        document = recalibrate(args.out, log=log)
    else:
        document = train(args.public_limit or None, log=log)
    args.out.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
