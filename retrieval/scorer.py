"""One fitted scorer: the probability that a passage answers, and that a question is about the story.

Three logistic regressions (scikit-learn when fitting; a dot product when answering) over
the evidence of retrieval/evidence.py, fitted on the dev sets by
`storybot fit tests/data/dev*.jsonl` (retrieval/scorer_fit.py) and kept in the corpus
folder with the precedents it read (corpus/scorer.json: retrieval/bank.py; the package ships
the heads fitted without precedents as retrieval/scorer.json):

- `passage`: does this candidate hold a gold phrase of the question? Negatives are every
  other candidate, and every candidate of questions the articles don't answer, so a good
  match on "Amnesty" and "Navalny" alone learns to score low when the word that decides
  ("founded", "hospital") is nowhere in the passage.
- `related`: is the question about the story at all (answerable or not) rather than other
  news, chit-chat or sport?
- `answerable`: of the questions about the story, does some candidate answer it? Read from
  the passage head's best probabilities, how well the best candidate speaks to each word
  of the question, and the kind of fact asked (a "when" question about a date the articles
  never give matches them as well as one they answer).

Each head is fitted twice: reading the precedents (the questions it was fitted on, kept as
evidence: retrieval/precedents.py), and without them (`plain`), for an index that has none:
no precedents file, or a corpus none of whose passages answers one.

The bars the probabilities are held to are in retrieval/policy.py.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from retrieval.errors import StorybotError
from retrieval.evidence import ANSWER_FEATURES, PASSAGE_FEATURES, QUESTION_FEATURES

# The plain scorer (fitted without precedents) shipped with the package, for a corpus without
# a bank of its own; a corpus's bank and the scorer fitted with it live in its folder
# (retrieval/bank.py).
MODEL_FILE = Path(__file__).with_name("scorer.json")


class ScorerMismatch(StorybotError, ValueError):
    """The fitted file does not match the features this code computes."""


@dataclass(frozen=True)
class Head:
    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def probability(self, x: np.ndarray) -> np.ndarray:
        """P(positive) for each row of `x` (rows in `features` order)."""
        if x.ndim == 1:
            x = x[None, :]
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def to_json(self) -> dict:
        return {
            "features": list(self.features),
            "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale],
            "coef": [round(float(v), 6) for v in self.coef],
            "intercept": round(float(self.intercept), 6),
        }

    @classmethod
    def from_json(cls, data: dict, expected: tuple[str, ...], name: str) -> "Head":
        features = tuple(data["features"])
        if features != expected:
            raise ScorerMismatch(f"{MODEL_FILE.name}: head {name!r} was fitted on {features}, the code computes {expected}; refit it")
        return cls(features, np.asarray(data["mean"]), np.asarray(data["scale"]), np.asarray(data["coef"]), float(data["intercept"]))


@dataclass(frozen=True)
class Scorer:
    passage: Head
    related: Head
    answerable: Head
    fitted_on: tuple[str, ...] = ()
    # The same heads fitted without precedents, for an index that has none.
    plain: "Scorer | None" = None
    # The hash of the precedents file it was fitted with (retrieval/bank.py); None: fitted
    # without precedents (the plain scorer the package ships).
    precedents_hash: str | None = None
    # The `answerable` head for a question whose best candidate is of an article no precedent
    # was labelled against (retrieval/scorer_fit.py); None: `answerable` reads both.
    answerable_new: Head | None = None

    def answer_head(self, features: np.ndarray) -> Head:
        """The head deciding whether some candidate answers, for these answer features."""
        if self.answerable_new is not None and features[ANSWER_FEATURES.index("top_unlabelled")] > 0.5:
            return self.answerable_new
        return self.answerable

    def without_precedents(self) -> "Scorer":
        return self.plain or self

    def to_json(self) -> dict:
        data = {"fitted_on": list(self.fitted_on), "passage": self.passage.to_json(), "related": self.related.to_json(),
                "answerable": self.answerable.to_json()}
        if self.plain is not None:
            data["without_precedents"] = self.plain.to_json()
        if self.precedents_hash is not None:
            data["precedents_hash"] = self.precedents_hash
        if self.answerable_new is not None:
            data["answerable_new"] = self.answerable_new.to_json()
        return data


def _heads(data: dict, plain: Scorer | None = None) -> Scorer:
    return Scorer(
        Head.from_json(data["passage"], PASSAGE_FEATURES, "passage"),
        Head.from_json(data["related"], QUESTION_FEATURES, "related"),
        Head.from_json(data["answerable"], ANSWER_FEATURES, "answerable"),
        tuple(data.get("fitted_on", ())),
        plain,
        data.get("precedents_hash"),
        Head.from_json(data["answerable_new"], ANSWER_FEATURES, "answerable_new") if "answerable_new" in data else None,
    )


@lru_cache(maxsize=4)
def load_scorer(path: Path = MODEL_FILE) -> Scorer:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        plain = _heads(data["without_precedents"]) if "without_precedents" in data else None
        return _heads(data, plain)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        if isinstance(exc, ScorerMismatch):
            raise
        raise ScorerMismatch(f"{path}: not a fitted scorer ({exc.__class__.__name__}: {exc})") from None


def fit_head(x: np.ndarray, y: np.ndarray, features: tuple[str, ...], *, c: float = 1.0) -> Head:
    """A logistic regression on standardised features (scikit-learn's lbfgs)."""
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    model = LogisticRegression(C=c, max_iter=2000)
    model.fit((x - mean) / scale, y)
    return Head(features, mean, scale, model.coef_[0], float(model.intercept_[0]))


__all__ = ["Scorer", "Head", "load_scorer", "fit_head", "MODEL_FILE", "ScorerMismatch"]
