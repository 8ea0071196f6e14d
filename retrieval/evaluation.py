"""Scoring answers against a JSONL question set (gold = phrases a correct quote contains)."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from retrieval.answer import Answer
from retrieval.articles import Corpus
from retrieval.cleaning import squash, without_whitespace
from retrieval.errors import StorybotError
from retrieval.precedents import CATEGORIES


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    gold: tuple[str, ...]
    # One of CATEGORIES: answerable, story_unanswered (about the story, not answered by the
    # articles), off_topic, request (not a question about the story). Older rows without one:
    # answerable or off_topic, by their `answerable` flag.
    category: str = "answerable"

    @property
    def answerable(self) -> bool:
        return self.category == "answerable"


@dataclass(frozen=True)
class EvalReport:
    answerable: int
    off_topic: int  # every question that is not answerable (story_unanswered, off_topic, request)
    hit_at_1: float
    hit_at_3: float
    mrr: float
    abstention_accuracy: float  # non-answerable questions not answered (uncertain or not_covered)
    false_abstention: float  # answerable questions not covered
    latency_p50_ms: float
    latency_p95_ms: float
    quotes_checked: int
    quotes_not_verbatim: int
    misses: tuple[str, ...]  # ids of questions answered wrongly, for reading
    # The measures of issue 11 (README, "Quality, measured").
    categories: dict[str, int] = field(default_factory=dict)  # questions per category
    status_shares: dict[str, dict[str, float]] = field(default_factory=dict)  # category -> status -> share
    quotes_shown: int = 0  # quotes of answered, answerable questions
    quotes_with_gold: int = 0  # of those, quotes holding a gold phrase
    rules: dict[str, int] = field(default_factory=dict)  # rule -> questions it fired on
    quotes_not_contiguous: int = 0  # quotes not one stretch of their raw file (whitespace aside)
    latency_mean_ms: float = 0.0
    forward_mean_ms: float | None = None  # one bare forward pass of the model per question, mean

    @property
    def gold_share(self) -> float:
        return self.quotes_with_gold / self.quotes_shown if self.quotes_shown else 0.0

    def share(self, category: str, *statuses: str) -> float:
        return sum(self.status_shares.get(category, {}).get(s, 0.0) for s in statuses)

    def lines(self) -> list[str]:
        counts = ", ".join(f"{n} {c}" for c, n in self.categories.items())
        lines = [
            f"questions: {self.answerable} answerable, {self.off_topic} not ({counts})",
            f"hit@1: {self.hit_at_1:.3f}",
            f"hit@3: {self.hit_at_3:.3f}",
            f"MRR: {self.mrr:.3f}",
        ]
        for category, shares in self.status_shares.items():
            parts = ", ".join(f"{s} {shares.get(s, 0.0):.3f}" for s in ("answered", "uncertain", "not_covered"))
            lines.append(f"status, {category}: {parts}")
        lines += [
            f"quotes shown for answered questions holding a gold phrase: {self.quotes_with_gold}/{self.quotes_shown} = {self.gold_share:.3f}",
            f"story questions the articles don't answer, uncertain or not_covered: {self.share('story_unanswered', 'uncertain', 'not_covered'):.3f}",
            f"off-topic and requests, not_covered: {self._not_covered_elsewhere():.3f}",
            f"rules fired: {', '.join(f'{r} {n}' for r, n in sorted(self.rules.items())) or 'none'}",
            f"latency mean: {self.latency_mean_ms:.1f} ms, p50: {self.latency_p50_ms:.1f} ms, p95: {self.latency_p95_ms:.1f} ms"
            + (f"; bare forward pass mean {self.forward_mean_ms:.1f} ms, ratio {self.latency_mean_ms / self.forward_mean_ms:.2f}"
               if self.forward_mean_ms else ""),
            f"quotes verified verbatim: {self.quotes_checked - self.quotes_not_verbatim}/{self.quotes_checked}",
            f"quotes contiguous in their raw file: {self.quotes_checked - self.quotes_not_contiguous}/{self.quotes_checked}",
            f"misses: {', '.join(self.misses) or 'none'}",
        ]
        return lines

    def not_covered_elsewhere(self) -> float:
        """Off-topic questions and requests that are not covered."""
        return self._not_covered_elsewhere()

    def _not_covered_elsewhere(self) -> float:
        total = sum(self.categories.get(c, 0) for c in ("off_topic", "request"))
        covered = sum(self.categories.get(c, 0) * self.share(c, "not_covered") for c in ("off_topic", "request"))
        return covered / total if total else 0.0


class BadQuestionSet(StorybotError, ValueError):
    pass


def load_questions(path: Path | str) -> list[EvalQuestion]:
    questions = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            category = row.get("category") or ("answerable" if row["answerable"] else "off_topic")
            if category not in CATEGORIES:
                raise ValueError(f"unknown category {category!r}; expected one of: {', '.join(CATEGORIES)}")
            if bool(row["answerable"]) != (category == "answerable"):
                raise ValueError(f"answerable {row['answerable']!r} contradicts category {category!r}")
            questions.append(EvalQuestion(str(row.get("id", number)), row["question"], tuple(row.get("gold", ())), category))
        except (ValueError, KeyError, TypeError) as exc:
            raise BadQuestionSet(f"{path}:{number}: not a question row ({exc.__class__.__name__}: {exc})") from None
    if not questions:
        raise BadQuestionSet(f"{path}: no questions")
    return questions


def _folded(text: str) -> str:
    return squash(text).casefold()


def holds_gold(text: str, gold: Iterable[str]) -> bool:
    folded = _folded(text)
    return any(_folded(g) in folded for g in gold)


def gold_rank(answer: Answer, gold: Iterable[str]) -> int | None:
    """1-based rank of the first quote containing a gold phrase, or None."""
    phrases = [_folded(g) for g in gold]
    for rank, quote in enumerate(answer.passages, 1):
        text = _folded(quote.quote)
        if any(p in text for p in phrases):
            return rank
    return None


def is_verbatim(corpus: Corpus, doc_id: str, start: int, end: int, quote: str) -> bool:
    """The promise of the product: the quote is exactly that span of the cited article."""
    try:
        return corpus.article(doc_id).body[start:end] == quote and bool(quote)
    except KeyError:
        return False


def contiguous_in_raw(raw: str, quote: str) -> bool:
    """Is the quote one stretch of the raw file as received, whitespace aside? A quote joined
    across a dropped caption or heading is not."""
    return without_whitespace(quote) in without_whitespace(raw)


def evaluate(
    ask: Callable[[str], Answer],
    corpus: Corpus,
    questions: list[EvalQuestion],
    *,
    raw_text: Callable[[str], str | None] = lambda doc_id: None,
    forward: Callable[[str], object] | None = None,
) -> EvalReport:
    """Score every question. `raw_text(doc_id)` gives an article's raw file (None: not
    checked); `forward(question)`, one bare forward pass, is timed for the latency ratio."""
    ranks: list[int | None] = []
    not_answered: list[bool] = []
    false_abstentions = 0
    latencies: list[float] = []
    forwards: list[float] = []
    checked = not_verbatim = not_contiguous = 0
    shown = with_gold = 0
    misses: list[str] = []
    categories: dict[str, int] = {}
    statuses: dict[str, dict[str, int]] = {}
    rules: dict[str, int] = {}
    for q in questions:
        result = ask(q.question)
        latencies.append(result.latency_ms)
        if forward is not None:
            started = time.perf_counter()
            forward(q.question)
            forwards.append((time.perf_counter() - started) * 1000)
        categories[q.category] = categories.get(q.category, 0) + 1
        by_status = statuses.setdefault(q.category, {})
        by_status[result.status.value] = by_status.get(result.status.value, 0) + 1
        for rule in result.fired:
            rules[rule] = rules.get(rule, 0) + 1
        for quote in result.passages:
            checked += 1
            not_verbatim += not is_verbatim(corpus, quote.doc_id, quote.start, quote.end, quote.quote)
            raw = raw_text(quote.doc_id)
            not_contiguous += raw is not None and not contiguous_in_raw(raw, quote.quote)
        if q.answerable:
            rank = gold_rank(result, q.gold)
            ranks.append(rank)
            false_abstentions += result.abstained
            if result.status.value == "answered":
                shown += len(result.passages)
                with_gold += sum(holds_gold(p.quote, q.gold) for p in result.passages)
            if rank is None or result.status.value != "answered":
                misses.append(q.id)
        else:
            not_answered.append(result.status.value != "answered")
            if result.status.value == "answered":
                misses.append(q.id)
    n = max(len(ranks), 1)
    return EvalReport(
        answerable=len(ranks),
        off_topic=len(not_answered),
        hit_at_1=sum(r == 1 for r in ranks) / n,
        hit_at_3=sum(r is not None and r <= 3 for r in ranks) / n,
        mrr=sum(1 / r for r in ranks if r) / n,
        abstention_accuracy=sum(not_answered) / max(len(not_answered), 1),
        false_abstention=false_abstentions / n,
        latency_p50_ms=float(np.percentile(latencies, 50)),
        latency_p95_ms=float(np.percentile(latencies, 95)),
        quotes_checked=checked,
        quotes_not_verbatim=not_verbatim,
        misses=tuple(misses),
        categories={c: categories[c] for c in CATEGORIES if c in categories},
        status_shares={c: {s: k / categories[c] for s, k in statuses[c].items()} for c in CATEGORIES if c in statuses},
        quotes_shown=shown,
        quotes_with_gold=with_gold,
        rules=rules,
        quotes_not_contiguous=not_contiguous,
        latency_mean_ms=float(np.mean(latencies)),
        forward_mean_ms=float(np.mean(forwards)) if forwards else None,
    )
