"""Part 5: answer quality on tests/data/dev.jsonl per retrieval mode, next to its latency.

retrieval.evaluation.evaluate() scores each mode; its latency is each Answer's own
`latency_ms` (one pass over the questions, after a warm-up, the modes taking turns on each
question), so a faster mode that answers worse shows in the same row.
"""
from __future__ import annotations

from dataclasses import dataclass

from bench.common import Engine, say


@dataclass(frozen=True)
class ModeQuality:
    mode: str
    hit_at_1: float
    hit_at_3: float
    mrr: float
    off_topic_abstention: float
    false_abstention: float
    latency_p50_ms: float
    latency_p95_ms: float
    quotes_checked: int
    quotes_not_verbatim: int
    misses: tuple[str, ...]


@dataclass(frozen=True)
class QualityResult:
    answerable: int
    off_topic: int
    modes: tuple[ModeQuality, ...]


def run(engine: Engine) -> QualityResult:
    from retrieval.answer import DEFAULT_POLICY, Policy, answer
    from retrieval.evaluation import evaluate
    from retrieval.fusion import Fusion

    modes = {
        "hybrid (default Policy)": (engine.hybrid, DEFAULT_POLICY),
        "hybrid without alignment": (engine.hybrid, Policy(align=False)),
        "hybrid without thesaurus": (engine.hybrid, Policy(use_thesaurus=False)),
        "hybrid without named-outlet preference": (engine.hybrid, Policy(prefer_named_outlet=False)),
        "dense alone (Fusion.DENSE)": (engine.hybrid, Policy(fusion=Fusion.DENSE)),
        "BM25 alone (encoder=None)": (engine.bm25, DEFAULT_POLICY),
    }
    say(f"quality: {', '.join(modes)}, interleaved question by question")
    for q in engine.questions[:10]:
        for index, policy in modes.values():
            answer(index, q.question, policy)
    # Each question through every mode in turn (not mode after mode), so a slow phase of the
    # machine costs every mode alike; evaluate() then scores the answers already made.
    answers: dict[tuple[str, str], object] = {}
    for q in engine.questions:
        for name, (index, policy) in modes.items():
            if (name, q.question) not in answers:
                answers[(name, q.question)] = answer(index, q.question, policy)
    rows, report = [], None
    for name, (index, policy) in modes.items():
        report = evaluate(lambda text, name=name: answers[(name, text)], index.corpus, engine.questions)
        rows.append(ModeQuality(
            mode=name,
            hit_at_1=report.hit_at_1,
            hit_at_3=report.hit_at_3,
            mrr=report.mrr,
            off_topic_abstention=report.abstention_accuracy,
            false_abstention=report.false_abstention,
            latency_p50_ms=report.latency_p50_ms,
            latency_p95_ms=report.latency_p95_ms,
            quotes_checked=report.quotes_checked,
            quotes_not_verbatim=report.quotes_not_verbatim,
            misses=report.misses,
        ))
    return QualityResult(report.answerable, report.off_topic, tuple(rows))
