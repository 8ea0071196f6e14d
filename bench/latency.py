"""Part 1: warm answer latency over the dev questions, next to its floor and to BM25 alone.

For every question, in one loop (so a slow phase of the machine hits every kind alike):
  answer          retrieval.answer.answer() on the hybrid index: question in, Answer out;
  floor           one bare forward pass of the embedding model on it (encoder.encode([q]));
  bm25            answer() on the index built without a model;
  service first   bot.service.AnswerService.ask, the question's first time (a batch of one);
  service repeat  the same ask again: served from the service's cache;
  answer, torch   answer() on the index built with sentence-transformers on torch (the answer
                  path before ONNX Runtime), and
  floor, torch    its bare forward pass, on the same question in the same loop.
Each question is asked `reps` times (one run = every question once, with a fresh service);
a figure is the median over runs of that run's p50 / p95.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass, field

from bench.common import Dist, Engine, quiet, say

WARMUP = 10
SLOW_MS = 100  # a forward pass on one question takes 3-30 ms when nothing is wrong


def _slow_share(runs: list[list[float]]) -> float:
    samples = [x for r in runs for x in r]
    return sum(x > SLOW_MS for x in samples) / max(len(samples), 1)


@dataclass(frozen=True)
class LatencyResult:
    questions: int
    reps: int
    onnx_threads: int
    answer: Dist
    floor: Dist
    bm25: Dist
    ratio_p50: float  # p50(answer) / p50(floor)
    service_first: Dist
    service_repeat: Dist
    answer_torch: Dist  # answer() on the index built on torch, same loop
    floor_torch: Dist  # sentence-transformers' forward pass on torch, same loop
    slow_floor_share: float  # share of forward passes over SLOW_MS, ONNX Runtime
    slow_floor_share_torch: float
    samples: dict[str, tuple[float, ...]] = field(default_factory=dict)  # every sample (ms), for the plot


def _ms(fn, *args) -> float:
    started = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - started) * 1000


def measure(engine: Engine, questions: list[str], reps: int, *, full: bool = True) -> dict[str, list[list[float]]]:
    """Per kind, one list of samples (ms) per run; `full=False`: answer and floor only."""
    return asyncio.run(_measure(engine, questions, reps, full=full))


async def _measure(engine: Engine, questions: list[str], reps: int, *, full: bool) -> dict[str, list[list[float]]]:
    from retrieval.answer import answer

    from bot.service import AnswerService

    hybrid, encoder = engine.hybrid, engine.encoder
    torch_hybrid, torch_encoder = (engine.torch_hybrid, engine.torch_encoder) if full else (None, None)
    for q in questions[:WARMUP]:
        answer(hybrid, q)
        encoder.encode([q])
        if full:
            answer(engine.bm25, q)
            answer(torch_hybrid, q)
            torch_encoder.encode([q])
    kinds = ["answer", "floor"] + ["bm25", "service first", "service repeat", "answer, torch", "floor, torch"] * full
    runs: dict[str, list[list[float]]] = {kind: [] for kind in kinds}
    for _ in range(reps):
        run: dict[str, list[float]] = {kind: [] for kind in kinds}
        # A fresh service each run, so every question's first ask misses its cache.
        asker = AnswerService(hybrid) if full else None
        if asker is not None:
            await asker.ask("a question outside the dev set, to start the worker")
        seen: set[str] = set()
        for q in questions:
            run["answer"].append(_ms(answer, hybrid, q))
            run["floor"].append(_ms(encoder.encode, [q]))
            if not full:
                continue
            run["bm25"].append(_ms(answer, engine.bm25, q))
            # The torch path on the same question at the same moment: the machine's load
            # weighs on both alike.
            run["answer, torch"].append(_ms(answer, torch_hybrid, q))
            run["floor, torch"].append(_ms(torch_encoder.encode, [q]))
            if asker is not None and " ".join(q.split()).casefold() not in seen:
                seen.add(" ".join(q.split()).casefold())
                started = time.perf_counter()
                await asker.ask(q)
                asked = time.perf_counter()
                await asker.ask(q)
                run["service first"].append((asked - started) * 1000)
                run["service repeat"].append((time.perf_counter() - asked) * 1000)
        if asker is not None:
            await asker.close()
        for kind in kinds:
            runs[kind].append(run[kind])
    return runs


def run(engine: Engine, *, quick: bool = False) -> LatencyResult:
    from retrieval.embeddings import load_encoder
    import inspect

    questions = [q.question for q in engine.questions]
    if quick:
        questions = questions[:30]
    reps = 1 if quick else 3
    threads = inspect.signature(load_encoder).parameters["threads"].default
    say(f"latency: {len(questions)} questions x {reps} runs, ONNX Runtime {threads} thread(s), and the torch path")
    runs = measure(engine, questions, reps)
    answer, floor = Dist.median_of_runs(runs["answer"]), Dist.median_of_runs(runs["floor"])
    return LatencyResult(
        questions=len(questions),
        reps=reps,
        onnx_threads=threads,
        answer=answer,
        floor=floor,
        bm25=Dist.median_of_runs(runs["bm25"]),
        ratio_p50=answer.p50 / floor.p50,
        service_first=Dist.median_of_runs(runs["service first"]),
        service_repeat=Dist.median_of_runs(runs["service repeat"]),
        answer_torch=Dist.median_of_runs(runs["answer, torch"]),
        floor_torch=Dist.median_of_runs(runs["floor, torch"]),
        slow_floor_share=_slow_share(runs["floor"]),
        slow_floor_share_torch=_slow_share(runs["floor, torch"]),
        samples={kind: tuple(x for r in runs[kind] for x in r) for kind in runs},
    )


def _child(argv: list[str]) -> None:
    """Answer and floor samples as JSON, in a process whose environment the parent chose."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--limit", type=int, default=100)
    args = parser.parse_args(argv)
    quiet()
    engine = Engine()
    runs = measure(engine, [q.question for q in engine.questions][: args.limit], args.reps, full=False)
    print(json.dumps({"answer": runs["answer"], "floor": runs["floor"]}))


if __name__ == "__main__":
    _child(sys.argv[1:])
