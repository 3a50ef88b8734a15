"""The committed weights: fitted on the data in the repository, reproducible, and readable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.qa import train
from bot.qa.datasets import seed_set
from bot.qa.features import FEATURES
from bot.qa.lexicon import cedict_places
from bot.qa.scoring import Scorer, WeightsUnavailable, load_scorer, weights_path

REPO = Path(__file__).resolve().parents[1]
SEED_ARTICLES = REPO / "data" / "eval" / "seeds" / "articles"


def test_weights_were_fitted_on_the_data_in_the_repository() -> None:
    """A changed question set or article needs `make train` (and a new weights.json)."""
    document = json.loads(weights_path().read_text(encoding="utf-8"))
    assert document["data_digests"] == train.data_digests(REPO), "run `make train`"
    assert document["trained_on"]["public_limit"] == train.PUBLIC_LIMIT
    assert document["features"] == list(FEATURES)


def test_weights_give_a_probability_threshold_and_a_kind_prior() -> None:
    scorer = load_scorer()
    assert 0.5 <= scorer.threshold < 1.0
    prior = scorer.kind_prior(("多少", "钱"))
    assert abs(sum(prior.values()) - 1.0) < 1e-9
    assert max(prior, key=prior.get).label == "money"


def test_weights_of_other_features_are_refused(tmp_path: Path) -> None:
    document = json.loads(weights_path().read_text(encoding="utf-8"))
    document["features"] = document["features"][:-1]
    path = tmp_path / "weights.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(WeightsUnavailable, match="make train"):
        Scorer.from_json(json.loads(path.read_text(encoding="utf-8")))


def test_fitting_is_deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same data gives the same weights: the kind prior and the candidate model twice."""
    monkeypatch.chdir(REPO)
    cases = seed_set(REPO).cases
    assert train.fit_kind_prior(cases) == train.fit_kind_prior(cases)
    answerer = train.Answerer(train.index_of(seed_set(REPO)))
    asked = train.ask_all(answerer, cases)
    weights = [1.0] * len(asked)
    assert train.fit_candidates(asked, weights) == train.fit_candidates(asked, weights)


def test_place_swapped_twins_ask_about_places_no_article_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The unanswerable twins that teach abstention: same question, a place the seeds never name."""
    import random

    monkeypatch.chdir(REPO)
    answerer = train.Answerer(train.index_of(seed_set(REPO)))
    cases = seed_set(REPO).cases
    twins = train.place_swapped(answerer, cases, random.Random(0))
    assert twins and all(not twin.answerable and not twin.answers for twin in twins)
    corpus = "".join(path.read_text(encoding="utf-8") for path in SEED_ARTICLES.iterdir())
    absent = {place for place in cedict_places() if 2 <= len(place) <= 3} - {
        place for place in cedict_places() if place in corpus
    }
    originals = {case.id: case.question for case in cases}
    for twin in twins:
        assert twin.question != originals[twin.id.removesuffix("-swapped")]
        assert any(place in twin.question for place in absent), twin.question


def test_thresholds_sure_at_its_precision_likely_where_right_answers_lead_most() -> None:
    """Ten dev questions by confidence: the sure threshold is the lowest with 95% of the answers
    from it up right; the likely one is where the answers between the two lead the wrong ones
    by the most (the higher on a tie). A question naming a place no article writes never gets
    a likely reply, so it does not count."""
    probabilities = [0.95, 0.9, 0.85, 0.7, 0.65, 0.6, 0.5, 0.4, 0.3, 0.2]
    labels = [1, 1, 1, 0, 1, 1, 0, 1, 0, 0]
    eligible = [True] * 10
    # from 0.7 down: -1, 0, +1 (0.6), 0, +1 (0.4: a tie, 0.6 kept), 0, -1
    assert train.choose_thresholds(probabilities, labels, eligible) == (0.85, 0.6)
    eligible[6] = False  # the wrong answer at 0.5 names an unknown place: 0.4 now leads by 2
    assert train.choose_thresholds(probabilities, labels, eligible) == (0.85, 0.4)
    # no band with more right than wrong answers: no likely tier
    assert train.choose_thresholds([0.9, 0.6, 0.5], [1, 0, 0], [True] * 3) == (0.9, 0.9)
