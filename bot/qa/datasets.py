"""Question sets and their articles: the news splits, the seed set and the public span sets.

A set is its articles (built into an index of their own, cached under `.cache/`) and its
questions in the eval format (`data/eval/README.md`). The news set is split by article into
train, dev and test (`data/eval/news/split.json`); the public sets (CMRC 2018 trial, DRCD)
are training data only. CMRC 2018's dev set is the outside benchmark and is never loaded here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from index.analyzer import normalize
from index.build import build_index
from index.ingest import strip_pinyin_glosses
from index.store import StoredIndex, load_index

EVAL_DIR = Path("data/eval")
NEWS_DIR = EVAL_DIR / "news"
PUBLIC_DIR = EVAL_DIR / "public"
SEED_ARTICLES = EVAL_DIR / "seeds" / "articles"
SEED_QUESTIONS = EVAL_DIR / "seeds" / "questions.jsonl"
SPLITS = ("train", "dev", "test")
PUBLIC_SETS = ("cmrc2018_trial", "DRCD_dev", "DRCD_test")
MAX_ANSWER_CHARS = 40
CACHE = Path(".cache/qabot")


def comparable(text: str) -> str:
    """Text as the scoring compares it: NFKC, simplified, no white space or pinyin glosses."""
    return "".join(normalize(strip_pinyin_glosses(text)).split())


@dataclass(frozen=True)
class Case:
    """One labelled question."""

    id: str
    question: str
    answers: tuple[str, ...]
    article: str | None
    evidence: str | None
    lang: str
    answerable: bool
    kind: str | None

    @classmethod
    def from_json(cls, item: dict) -> Case:
        return cls(
            id=str(item["id"]),
            question=item["question"],
            answers=tuple(item.get("answers") or ()),
            article=item.get("article"),
            evidence=item.get("evidence"),
            lang=item.get("lang", "zh"),
            answerable=bool(item.get("answerable", True)),
            kind=item.get("kind"),
        )


@dataclass(frozen=True)
class QuestionSet:
    """Questions and the folder of the articles they are asked over."""

    name: str
    articles: Path
    cases: tuple[Case, ...]


def read_cases(path: Path) -> list[Case]:
    cases = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                cases.append(Case.from_json(json.loads(line)))
            except (ValueError, KeyError) as error:
                raise ValueError(f"{path}:{number}: not a question line ({error})") from error
    return cases


def news_split(split: str, root: Path = Path(".")) -> QuestionSet:
    """One split of the news set; its questions are asked over all the news articles."""
    path = root / NEWS_DIR / f"{split}.jsonl"
    return QuestionSet(f"news-{split}", root / NEWS_DIR / "articles", tuple(read_cases(path)))


def seed_set(root: Path = Path(".")) -> QuestionSet:
    """The questions about the two seed articles (the first sample, kept for training)."""
    return QuestionSet("seeds", root / SEED_ARTICLES, tuple(read_cases(root / SEED_QUESTIONS)))


def squad_cases(path: Path, prefix: str) -> Iterator[tuple[str, str, Case]]:
    """(article id, article text, case) from a SQuAD-format file; one article per paragraph."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    for entry_number, entry in enumerate(document["data"]):
        title = entry.get("title", "")
        for paragraph_number, paragraph in enumerate(entry["paragraphs"]):
            article = f"{prefix}-{entry_number:04d}-{paragraph_number:02d}"
            text = f"# {title}\n\n{paragraph['context']}\n"
            for qa in paragraph["qas"]:
                answers = tuple(
                    dict.fromkeys(a["text"].strip() for a in qa["answers"] if a["text"].strip())
                )
                if answers:
                    yield (
                        article,
                        text,
                        Case(
                            str(qa["id"]), qa["question"], answers, article, None, "zh", True, None
                        ),
                    )


def public_set(name: str, root: Path = Path("."), cache: Path = CACHE) -> QuestionSet:
    """A public span set, its paragraphs written out as articles (once, under `cache`)."""
    source = root / PUBLIC_DIR / f"{name}.json"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
    folder = root / cache / f"{name}-{digest}"
    cases = []
    written = (folder / ".complete").exists()
    for article, text, case in squad_cases(source, name):
        if not written:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{article}.md").write_text(text, encoding="utf-8")
        cases.append(case)
    if not written:
        (folder / ".complete").write_text("", encoding="utf-8")
    return QuestionSet(name, folder, tuple(cases))


def index_of(question_set: QuestionSet, cache: Path = CACHE) -> StoredIndex:
    """The set's articles as an index of their own, built incrementally under `cache` and
    read from there, as `qabot ask` reads its index."""
    digest = hashlib.sha256(str(question_set.articles.resolve()).encode()).hexdigest()[:8]
    path = cache / f"index-{question_set.articles.name}-{digest}.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    build_index(question_set.articles, path)
    return load_index(path)


def named_sets(name: str, root: Path = Path(".")) -> list[QuestionSet]:
    """`train`, `dev`, `test` (news splits), `seeds`, or `all` of them."""
    if name == "all":
        return [news_split(s, root) for s in SPLITS] + [seed_set(root)]
    if name == "seeds":
        return [seed_set(root)]
    if name in SPLITS:
        return [news_split(name, root)]
    raise ValueError(f"unknown question set {name!r}: choose train, dev, test, seeds or all")


def is_right_span(span: str, case: Case) -> bool:
    """A span answers `case` when it is short and contains an accepted answer."""
    text = comparable(span)
    return len(span) <= MAX_ANSWER_CHARS and any(comparable(a) in text for a in case.answers if a)


def cites_evidence(passage: str, case: Case) -> bool:
    return not case.evidence or comparable(case.evidence) in comparable(passage)
