"""Learned scoring: weights from `weights.json` -> a candidate's score and a calibrated probability.

At run time this is a dot product and two logistic functions; the weights are fitted by
`bot/qa/train.py` (`make train`) on the train split and calibrated on the dev split, which also
sets the two thresholds of the replies: sure, and likely (below it, the closest passage or none).
"""

from __future__ import annotations

import json
import math
import operator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from bot.qa.features import FEATURES
from bot.qa.kinds import Kind

WEIGHTS_FORMAT = "qabot-answer-weights"
WEIGHTS_VERSION = 3  # 3: the likely threshold
WEIGHTS_FILE = "weights.json"


class WeightsUnavailable(Exception):
    """The weights file is missing, unreadable or made for other features."""


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


@dataclass(frozen=True)
class KindPrior:
    """P(kind | question words): a multinomial logistic model over the question's words."""

    kinds: tuple[Kind, ...]
    bias: tuple[float, ...]
    words: dict[str, tuple[float, ...]]

    def __call__(self, words: tuple[str, ...]) -> dict[Kind, float]:
        totals = list(self.bias)
        for word in words:
            for number, weight in enumerate(self.words.get(word, ())):
                totals[number] += weight
        top = max(totals)
        exps = [math.exp(t - top) for t in totals]
        norm = sum(exps)
        return {kind: e / norm for kind, e in zip(self.kinds, exps, strict=True)}


@dataclass(frozen=True)
class Scorer:
    """Candidate weights, the calibration of the best candidate's score, and the thresholds of
    a sure answer (`threshold`) and of a likely one (`likely_threshold`, at most `threshold`)."""

    weights: tuple[float, ...]
    bias: float  # the score of the "no answer" option
    calibration: tuple[float, float]  # Platt scaling of the raw log-odds: (slope, intercept)
    threshold: float
    kind_prior: KindPrior
    likely_threshold: float

    def score(self, vector: list[float]) -> float:
        """The candidate's score: a softmax over a question's candidates and the "no answer"
        option (scored `bias`) gives each its probability of being the answer."""
        if len(vector) != len(self.weights):
            raise ValueError(f"{len(vector)} features for {len(self.weights)} weights")
        return sum(map(operator.mul, self.weights, vector))

    def raw_logit(self, scores: list[float]) -> float:
        """Log-odds of the best candidate under the softmax (before calibration)."""
        best = max(scores)
        top = max(best, self.bias)
        rest = (
            math.exp(self.bias - top)
            + sum(math.exp(s - top) for s in scores)
            - math.exp(best - top)
        )
        return (best - top) - math.log(rest) if rest > 0 else CALIBRATION_MARGIN_CAP

    def confidence(self, scores: list[float]) -> float:
        """The calibrated probability that the best-scored candidate answers the question."""
        if not scores:
            return 0.0
        slope, intercept = self.calibration
        return sigmoid(slope * self.raw_logit(scores) + intercept)

    def to_json(self, extra: dict | None = None) -> dict:
        return {
            "format": WEIGHTS_FORMAT,
            "version": WEIGHTS_VERSION,
            "features": list(FEATURES),
            "weights": [round(w, 6) for w in self.weights],
            "bias": round(self.bias, 6),
            "calibration": [round(c, 6) for c in self.calibration],
            "threshold": round(self.threshold, 6),
            "likely_threshold": round(self.likely_threshold, 6),
            "kind_prior": {
                "kinds": [k.label for k in self.kind_prior.kinds],
                "bias": [round(b, 4) for b in self.kind_prior.bias],
                "words": {
                    w: [round(x, 4) for x in v] for w, v in sorted(self.kind_prior.words.items())
                },
            },
            **(extra or {}),
        }

    @classmethod
    def from_json(cls, document: dict) -> Scorer:
        if document.get("format") != WEIGHTS_FORMAT or document.get("version") != WEIGHTS_VERSION:
            raise WeightsUnavailable("not a qabot weights file of this version")
        if list(document["features"]) != list(FEATURES):
            raise WeightsUnavailable("the weights were trained on other features: run `make train`")
        prior = document["kind_prior"]
        return cls(
            weights=tuple(float(w) for w in document["weights"]),
            bias=float(document["bias"]),
            calibration=tuple(float(c) for c in document["calibration"]),  # type: ignore[arg-type]
            threshold=float(document["threshold"]),
            likely_threshold=float(document["likely_threshold"]),
            kind_prior=KindPrior(
                kinds=tuple(Kind.from_label(k) for k in prior["kinds"]),
                bias=tuple(float(b) for b in prior["bias"]),
                words={w: tuple(float(x) for x in v) for w, v in prior["words"].items()},
            ),
        )


CALIBRATION_MARGIN_CAP = 20.0  # log-odds given to a candidate with no rival at all


def weights_path() -> Path:
    return Path(str(resources.files("bot.qa").joinpath(WEIGHTS_FILE)))


@lru_cache(maxsize=4)
def load_scorer(path: Path | None = None) -> Scorer:
    """The committed weights (or those at `path`)."""
    path = path or weights_path()
    try:
        return Scorer.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise WeightsUnavailable(f"cannot read answer weights {path}: {error}") from error
