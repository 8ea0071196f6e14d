"""Part 4: how build time, memory and query latency grow with the corpus (bench/synthetic.py).

Each size runs in its own child process, so its peak RSS (ru_maxrss) is its own. The child
writes the synthetic corpus as curated .md files (retrieval.articles.format_article), loads
it with load_corpus, and times bot.engine.build (the product's build path) twice, with a
fresh embedding cache (cold) and again with it (warm); each stage inside is timed by wrapping
the functions it calls for the length of the build (no product file is changed). Up to `real_limit`
passages the real model embeds every passage; past it, stand-in vectors do (see synthetic.py)
and the cold build with the real model is estimated from the model's measured throughput on
a sample of that corpus's passages. Queries are the dev questions, each through answer()
(the question always through the real model), then once more stage by stage.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import random
import resource
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Iterator

from bench.common import ROOT, WORK, Dist, quiet, rss_mb, say

THROUGHPUT_SAMPLE = 256


@dataclass(frozen=True)
class SizeResult:
    target: int
    passages: int
    articles: int
    real_embeddings: bool  # False: stand-in vectors, cold real-model time estimated
    load_corpus_s: float
    cold: dict[str, float]  # stage -> seconds (build_index with a fresh cache)
    warm: dict[str, float]  # the same with the cache the cold build filled
    embedded_texts: int  # distinct texts the cold build had to embed
    throughput_texts_s: float  # the real model, texts per second
    cold_real_s: float  # cold build with the real model: measured, or estimated from throughput
    base_rss_mb: float  # after imports and model load, before the corpus
    peak_rss_mb: float
    matrix_mb: float  # the dense index's matrix alone
    answer: Dist  # answer() latency, ms
    stages: dict[str, Dist]  # per query stage, ms
    answered_share: float  # answerable dev questions not abstained on (a sanity check of the vectors)
    fallbacks: int  # stand-in texts that went through the real model


@dataclass(frozen=True)
class ScaleResult:
    sizes: tuple[SizeResult, ...]
    real_limit: int


class Stopwatch:
    """Accumulated time per name, by wrapping attributes for the length of a `with`."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)

    @contextlib.contextmanager
    def wrapping(self, *targets: tuple[object, str, str]) -> Iterator[None]:
        saved = [(owner, attr, getattr(owner, attr)) for owner, attr, _ in targets]
        for (owner, attr, name), (_, _, original) in zip(targets, saved):
            setattr(owner, attr, self._timed(original, name))
        try:
            yield
        finally:
            for owner, attr, original in saved:
                setattr(owner, attr, original)

    def _timed(self, fn, name: str):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.totals[name] += time.perf_counter() - started

        return timed


def _timed_build(settings, encoder) -> tuple[object, dict[str, float]]:
    """bot.engine.build (the product's build path), with the time of each stage inside it."""
    import retrieval.bm25 as bm25_module
    import retrieval.index as index_module
    from retrieval.articles import Corpus
    from retrieval.bm25 import BM25Retriever
    from retrieval.embeddings import EmbeddingCache

    from bot import engine

    watch = Stopwatch()
    targets = [
        (engine, "load_corpus", "load corpus"),
        (engine, "sidebar_texts", "sidebar texts"),
        (index_module, "chunk_corpus", "chunking"),
        (index_module, "BM25Retriever", "BM25 build"),
        (index_module, "DenseRetriever", "dense index"),
        (Corpus, "article", "title lookups (Corpus.article)"),
        (EmbeddingCache, "_read", "embedding cache read"),
        (EmbeddingCache, "_write", "embedding cache write"),
    ]
    # Parts of the BM25 build, where the retriever has them (it changes under development).
    targets += [(owner, attr, name) for owner, attr, name in (
        (bm25_module, "BM25Okapi", "  of which rank-bm25 fit"),
        (BM25Retriever, "_weight_matrix", "  of which weight matrix"),
    ) if hasattr(owner, attr)]
    with watch.wrapping(*targets):
        started = time.perf_counter()
        index = engine.build(settings, encoder)
        total = time.perf_counter() - started
    stages = dict(watch.totals)
    top = ("load corpus", "sidebar texts", "chunking", "BM25 build", "dense index", "title lookups (Corpus.article)")
    stages["other (typo dictionary, hidden spans, off-topic)"] = total - sum(stages.get(k, 0.0) for k in top)
    stages["total"] = total
    return index, stages


def query_stages(index, question: str) -> dict[str, float]:
    """answer()'s own steps for one question (retrieval/answer.py: read, encode, gather,
    score, check, choose), called one by one and timed: the real pipeline, not a copy."""
    from retrieval import answer as pipeline

    policy = pipeline.DEFAULT_POLICY
    times: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        times[name] = (now - clock) * 1000
        clock = now

    text = pipeline.normalise_question(question)
    asked, read = pipeline.read_question(index, text, policy)
    lap("read (analysis, thesaurus)")
    vectors, pieces = pipeline.encode(index, [read], policy)
    lap("encode question (one forward pass)")
    evidence = pipeline.gather(index, text, asked, read, vectors, pieces, 0, policy)
    lap("gather (BM25, cosine, fusion, evidence)")
    scored = pipeline.score(index, evidence, policy)
    lap("score (fitted scorer)")
    status, _, _ = pipeline.check(scored, policy)
    lap("check (rules)")
    chosen = pipeline.choose(index, scored, status, policy)
    [pipeline._quote(index, c) for c in chosen]
    lap("choose quotes")
    return times


class _Switch:
    """The index's encoder: stand-in vectors while building, the real model for questions."""

    def __init__(self, build, query) -> None:
        self.build, self.query, self.building, self.seconds = build, query, True, 0.0

    def encode(self, texts):
        started = time.perf_counter()
        try:
            return (self.build if self.building else self.query)(texts)
        finally:
            if self.building:
                self.seconds += time.perf_counter() - started


def _child(target: int, real_limit: int, limit: int) -> dict:
    from retrieval.answer import answer
    from retrieval.articles import format_article, load_corpus
    from retrieval.embeddings import EmbeddingCache, Encoder

    from bench.common import Engine, settings
    from bench.synthetic import StandIn, generate

    engine = Engine()
    real = engine.encoder
    real.encode(["warm up"])
    base = rss_mb()
    folder = WORK / "scale" / str(target)
    shutil.rmtree(folder, ignore_errors=True)
    # The real raw files go along, so sidebar_texts finds the real articles' sidebars.
    shutil.copytree(engine.settings.corpus / "raw", folder / "corpus" / "raw")
    synthetic = generate(engine.corpus, target)
    for article in synthetic.corpus.articles:
        if article.raw is None:
            # Its own raw file, as `corpus add` of a text file writes one: a paragraph no raw file
            # vouches for is never quoted (retrieval/provenance.py), so it would index nothing.
            (folder / "corpus" / "raw" / f"{article.id}.txt").write_text(f"{article.title}\n\n{article.body}\n", encoding="utf-8")
            article = dataclasses.replace(article, raw=f"raw/{article.id}.txt")
        (folder / "corpus" / f"{article.id}.md").write_text(format_article(article), encoding="utf-8")
    started = time.perf_counter()
    corpus = load_corpus(folder / "corpus")
    load_s = time.perf_counter() - started
    use_real = target <= real_limit
    standin = None if use_real else StandIn(synthetic, real, EmbeddingCache(WORK / "standin-phrases"))
    switch = _Switch(real.encode if use_real else standin.encode, real.encode)
    encoder = Encoder(real.name if use_real else f"stand-in for {real.name}", switch.encode)
    config = settings(corpus=folder / "corpus", cache=folder / "cache")
    index, cold = _timed_build(config, encoder)
    cold["model forward" if use_real else "stand-in vectors"] = switch.seconds
    embedded = index.embedded
    switch.seconds = 0.0
    index, warm = _timed_build(config, encoder)
    switch.building = False
    if use_real:
        throughput = embedded / cold["model forward"]
        cold_real = cold["total"]
    else:
        texts = random.Random(42).sample(sorted({p.text for p in index.passages}), THROUGHPUT_SAMPLE)
        started = time.perf_counter()
        real.encode(texts)
        throughput = len(texts) / (time.perf_counter() - started)
        cold_real = cold["total"] - cold["stand-in vectors"] + embedded / throughput
    questions = engine.questions[:limit]
    for q in questions[:5]:
        answer(index, q.question)
    latencies, stages, answered = [], defaultdict(list), []
    for q in questions:
        started = time.perf_counter()
        result = answer(index, q.question)
        latencies.append((time.perf_counter() - started) * 1000)
        if q.answerable:
            answered.append(not result.abstained)
        for name, ms in query_stages(index, q.question).items():
            stages[name].append(ms)
    return asdict(SizeResult(
        target=target, passages=len(index.passages), articles=len(corpus.articles), real_embeddings=use_real,
        load_corpus_s=load_s, cold=cold, warm=warm, embedded_texts=embedded, throughput_texts_s=throughput,
        cold_real_s=cold_real, base_rss_mb=base,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        matrix_mb=index.dense.matrix.nbytes / 2 ** 20, answer=Dist.of(latencies),
        stages={k: Dist.of(v) for k, v in stages.items()}, answered_share=sum(answered) / max(len(answered), 1),
        fallbacks=standin.fallbacks if standin else 0,
    ))


def _from_json(row: dict) -> SizeResult:
    row = {**row, "answer": Dist(**row["answer"]), "stages": {k: Dist(**v) for k, v in row["stages"].items()}}
    return SizeResult(**row)


def run(*, quick: bool = False, real_limit: int | None = None) -> ScaleResult:
    sizes = (1_000, 10_000) if quick else (1_000, 10_000, 100_000)
    real_limit = (0 if quick else 1_000) if real_limit is None else real_limit
    limit = 30 if quick else 100
    results = []
    for target in sizes:
        say(f"scale: {target:,} passages ({'real model' if target <= real_limit else 'stand-in vectors'}), child process")
        command = [sys.executable, "-m", "bench.scale", "--child", str(target), "--real-limit", str(real_limit), "--limit", str(limit)]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=3600)
        if done.returncode != 0:
            raise RuntimeError(f"scale child {target} failed: {done.stderr[-1500:]}")
        results.append(_from_json(json.loads(done.stdout.strip().splitlines()[-1])))
    return ScaleResult(tuple(results), real_limit)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", type=int, required=True)
    parser.add_argument("--real-limit", type=int, default=1_000)
    parser.add_argument("--limit", type=int, default=100)
    args = parser.parse_args()
    quiet()
    print(json.dumps(_child(args.child, args.real_limit, args.limit)))
