"""Measuring the engine the way a corpus grows: leave one article out (`storybot eval --leave-out-article`).

For each article A of the corpus, as if A had just been added by `storybot corpus add`:

- every question *about A* is removed from everything fitted (the scorer, and the encoder's
  fine-tuning when the fold fine-tunes: retrieval/finetune.py) and from the precedents;
- all the articles are indexed, A too;
- the engine is measured on the questions about A of the measured sets.

Which questions are about an article:

- an answerable one: about every article one of whose passages holds one of its gold phrases
  (a statement two outlets carried is about both, and left out with either);
- a story question the articles don't answer (`story_unanswered`): about the article of the
  passage BM25 ranks first for it (lexical, the same for every encoder), which is the
  article a member asking it would most likely be sent to. It is left out with that article
  and, measured there, should be hedged;
- off-topic questions and requests are about no article: they stay in every fold's fit.

The precedents kept for a fold were labelled against the other articles only, and record
that (Precedent.against): "nothing answered this" then says nothing of A's passages, as it
would say nothing of an article an operator adds after the bank was labelled. With
`label_against=False` they count against every article, as the engine before issue 18 read
them (the baseline).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from retrieval.answer import Answer, answer_many
from retrieval.evaluation import EvalQuestion, EvalReport, evaluate, gold_rank
from retrieval.index import Index
from retrieval.policy import DEFAULT_POLICY, Policy
from retrieval.precedents import Precedent, article_key
from retrieval.scorer_fit import about, fitted, precedents_of, with_precedents

QuestionSets = Mapping[str, Sequence[EvalQuestion]]


@dataclass(frozen=True)
class Fold:
    article: str  # the article left out
    fit: dict[str, list[EvalQuestion]]  # the fitting sets without the questions about it
    measured: tuple[EvalQuestion, ...]  # the measured sets' questions about it
    sources: tuple[str, ...] = ()  # the set each measured question is from


@dataclass(frozen=True)
class FoldResult:
    article: str
    report: EvalReport
    answerable: int
    unanswered: int  # story questions about the article that it does not answer
    # Per measured question: its set, id, category, status, P(answerable), whether the best
    # candidate was of an article the bank was not labelled against, the rank of its gold.
    rows: tuple[dict, ...] = ()

    @property
    def answered(self) -> float:
        """Answerable questions answered (any quote)."""
        return self.report.share("answerable", "answered")

    @property
    def hedged(self) -> float:
        return self.report.share("story_unanswered", "uncertain", "not_covered")

    def figures(self) -> dict[str, float]:
        r = self.report
        return {"hit@3": r.hit_at_3, "hit@1": r.hit_at_1, "answered": self.answered, "gold share": r.gold_share,
                "hedged": self.hedged}


def folds(index: Index, fit: QuestionSets, measured: QuestionSets) -> list[Fold]:
    """One fold per article of the index's corpus, in the corpus's order."""
    memo: dict[tuple[str, str, tuple[str, ...]], frozenset[str]] = {}

    def about_(q: EvalQuestion) -> frozenset[str]:
        key = (q.question, q.category, q.gold)
        if key not in memo:
            memo[key] = about(index, q)
        return memo[key]

    found = []
    for article in index.corpus.articles:
        kept = {source: [q for q in questions if article.id not in about_(q)] for source, questions in fit.items()}
        asked = [(source, q) for source, questions in measured.items() for q in questions if article.id in about_(q)]
        found.append(Fold(article.id, kept, tuple(q for _, q in asked), tuple(s for s, _ in asked)))
    return found


def fold_precedents(index: Index, fold: Fold, *, label_against: bool = True) -> tuple[Precedent, ...]:
    """The fold's precedents, labelled against every article but the one left out."""
    precedents = precedents_of(fold.fit)
    if not label_against:
        return precedents
    against = tuple(article_key(a) for a in index.corpus.articles if a.id != fold.article)
    return tuple(dataclasses.replace(p, against=against) for p in precedents)


def run_fold(index: Index, fold: Fold, *, policy: Policy = DEFAULT_POLICY, label_against: bool = True,
             raw_text: Callable[[str], str | None] = lambda doc_id: None) -> FoldResult:
    """Fit the scorer on the fold's sets, read the fold's precedents, measure on its questions.
    `index`: all the articles, indexed with the fold's encoder."""
    precedents = fold_precedents(index, fold, label_against=label_against)
    scorer = fitted(index, fold.fit, precedents)
    remembering = with_precedents(index, precedents)
    reading = remembering.reading(remembering.memory, scorer)

    scored: list = []
    answers: list[Answer] = []

    def ask(question: str) -> Answer:
        answers.append(answer_many(reading, [question], policy, scored_out=scored)[0])
        return answers[-1]

    report = evaluate(ask, index.corpus, list(fold.measured), raw_text=raw_text)
    rows = tuple({"fold": fold.article, "set": source, "id": q.id, "category": q.category, "status": a.status.value,
                  "answerable": round(s.answerable, 4), "new_article": s.new_article,
                  "gold_rank": gold_rank(a, q.gold) if q.answerable else None}
                 for source, q, a, s in zip(fold.sources, fold.measured, answers, scored))
    return FoldResult(fold.article, report, sum(q.category == "answerable" for q in fold.measured),
                      sum(q.category == "story_unanswered" for q in fold.measured), rows)


def mean_figures(results: Sequence[FoldResult]) -> dict[str, float]:
    """Each figure's mean over the folds (each article counts once, whatever its size)."""
    names = results[0].figures().keys() if results else ()
    return {n: float(np.mean([r.figures()[n] for r in results])) for n in names}


def table(results: Sequence[FoldResult]) -> list[str]:
    """The per-article figures and their mean, as lines of a table."""
    header = f"{'article':34} {'answerable':>10} {'unanswered':>10} {'hit@3':>6} {'hit@1':>6} {'answered':>8} {'gold share':>10} {'hedged':>6}"
    lines = [header]
    for r in results:
        f = r.figures()
        lines.append(f"{r.article:34} {r.answerable:>10} {r.unanswered:>10} {f['hit@3']:>6.3f} {f['hit@1']:>6.3f} "
                     f"{f['answered']:>8.3f} {f['gold share']:>10.3f} {f['hedged']:>6.3f}")
    m = mean_figures(results)
    if m:
        lines.append(f"{'mean':34} {sum(r.answerable for r in results):>10} {sum(r.unanswered for r in results):>10} "
                     f"{m['hit@3']:>6.3f} {m['hit@1']:>6.3f} {m['answered']:>8.3f} {m['gold share']:>10.3f} {m['hedged']:>6.3f}")
    not_verbatim = sum(r.report.quotes_not_verbatim + r.report.quotes_not_contiguous for r in results)
    lines.append(f"quotes not verbatim or not contiguous in their raw file: {not_verbatim}")
    return lines


__all__ = ["Fold", "FoldResult", "folds", "fold_precedents", "run_fold", "mean_figures", "table"]
