"""Scoring answers against a JSONL question set (gold = phrases a correct quote contains)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from retrieval.answer import Answer
from retrieval.articles import Corpus
from retrieval.cleaning import squash
from retrieval.errors import StorybotError


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    answerable: bool
    gold: tuple[str, ...]


@dataclass(frozen=True)
class EvalReport:
    answerable: int
    off_topic: int
    hit_at_1: float
    hit_at_3: float
    mrr: float
    abstention_accuracy: float  # off-topic questions abstained on
    false_abstention: float  # answerable questions abstained on
    latency_p50_ms: float
    latency_p95_ms: float
    quotes_checked: int
    quotes_not_verbatim: int
    misses: tuple[str, ...]  # ids of questions answered wrongly, for reading

    def lines(self) -> list[str]:
        return [
            f"questions: {self.answerable} answerable, {self.off_topic} off-topic",
            f"hit@1: {self.hit_at_1:.3f}",
            f"hit@3: {self.hit_at_3:.3f}",
            f"MRR: {self.mrr:.3f}",
            f"off-topic abstention: {self.abstention_accuracy:.3f}",
            f"false abstention: {self.false_abstention:.3f}",
            f"latency p50: {self.latency_p50_ms:.1f} ms, p95: {self.latency_p95_ms:.1f} ms",
            f"quotes verified verbatim: {self.quotes_checked - self.quotes_not_verbatim}/{self.quotes_checked}",
            f"misses: {', '.join(self.misses) or 'none'}",
        ]


class BadQuestionSet(StorybotError, ValueError):
    pass


def load_questions(path: Path | str) -> list[EvalQuestion]:
    questions = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            questions.append(
                EvalQuestion(str(row.get("id", number)), row["question"], bool(row["answerable"]), tuple(row.get("gold", ())))
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise BadQuestionSet(f"{path}:{number}: not a question row ({exc.__class__.__name__}: {exc})") from None
    if not questions:
        raise BadQuestionSet(f"{path}: no questions")
    return questions


def _folded(text: str) -> str:
    return squash(text).casefold()


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


def evaluate(ask: Callable[[str], Answer], corpus: Corpus, questions: list[EvalQuestion]) -> EvalReport:
    ranks: list[int | None] = []
    off_topic_abstained: list[bool] = []
    false_abstentions = 0
    latencies: list[float] = []
    checked = not_verbatim = 0
    misses: list[str] = []
    for q in questions:
        result = ask(q.question)
        latencies.append(result.latency_ms)
        for quote in result.passages:
            checked += 1
            not_verbatim += not is_verbatim(corpus, quote.doc_id, quote.start, quote.end, quote.quote)
        if q.answerable:
            rank = gold_rank(result, q.gold)
            ranks.append(rank)
            false_abstentions += result.abstained
            if rank is None:
                misses.append(q.id)
        else:
            off_topic_abstained.append(result.abstained)
            if not result.abstained:
                misses.append(q.id)
    n = max(len(ranks), 1)
    return EvalReport(
        answerable=len(ranks),
        off_topic=len(off_topic_abstained),
        hit_at_1=sum(r == 1 for r in ranks) / n,
        hit_at_3=sum(r is not None and r <= 3 for r in ranks) / n,
        mrr=sum(1 / r for r in ranks if r) / n,
        abstention_accuracy=sum(off_topic_abstained) / max(len(off_topic_abstained), 1),
        false_abstention=false_abstentions / n,
        latency_p50_ms=float(np.percentile(latencies, 50)),
        latency_p95_ms=float(np.percentile(latencies, 95)),
        quotes_checked=checked,
        quotes_not_verbatim=not_verbatim,
        misses=tuple(misses),
    )
