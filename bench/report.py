"""results.md: one table per part, every target marked met / not met, and the plots."""
from __future__ import annotations

import math
import statistics
from dataclasses import asdict
from pathlib import Path

from bench import plots
from bench.common import Dist, Machine

MET, NOT_MET = "**met**", "**NOT MET**"


def verdict(ok: bool) -> str:
    return MET if ok else NOT_MET


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines + [""]


def _ms(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.1f}"


def _dist(d) -> list[str]:
    return [_ms(d.p50), _ms(d.p95), _ms(d.max)] if d is not None else ["n/a"] * 3


def header(machine: Machine, command: str, elapsed_s: float, parts: list[str], quick: bool) -> list[str]:
    lines = ["# storybot benchmarks", ""]
    if quick:
        lines += ["> **--quick smoke run**: fewer questions and runs, no 100k corpus. Not for decisions.", ""]
    lines += [f"Command: `{command}` (from the repository root)  ", f"Parts: {', '.join(parts)}; total run time "
              f"{elapsed_s / 60:.1f} min ({elapsed_s:.0f} s)", ""]
    lines += _table(["machine", ""], [
        ["nproc", machine.nproc], ["memory", f"{machine.memory_gib} GiB"], ["CPU", machine.cpu_model],
        ["python", machine.python], ["onnxruntime", machine.onnxruntime],
        ["torch (torch path, export)", f"{machine.torch} ({machine.torch_threads} intra-op threads)"],
        ["sentence-transformers", machine.sentence_transformers], ["discord.py", machine.discord_py],
        ["commit", machine.git_commit], ["date", machine.date],
    ])
    return lines


def latency(r, out: Path) -> list[str]:
    from bench.latency import SLOW_MS

    plot = plots.latency(r, out)
    rows = [
        ["answer() on the hybrid index", *_dist(r.answer)],
        ["floor: encoder.encode([q]), one bare forward pass on ONNX Runtime", *_dist(r.floor)],
        ["answer() on the BM25-only index (encoder=None)", *_dist(r.bm25)],
        ["AnswerService.ask, first time (batch of one, worker thread)", *_dist(r.service_first)],
        ["AnswerService.ask, same question again (cache)", *_dist(r.service_repeat)],
        ["answer(), hybrid index built on torch (the path before ONNX; same loop)", *_dist(r.answer_torch)],
        ["floor on torch: sentence-transformers' forward pass (same loop)", *_dist(r.floor_torch)],
    ]
    lines = ["## 1. latency (warm)", "",
             f"{r.questions} dev questions, {r.reps} runs each, after a warm-up; p50/p95 are medians over runs of each "
             f"run's percentile, max is over all samples. ONNX Runtime intra-op threads: {r.onnx_threads}.", ""]
    lines += _table(["what", "p50 ms", "p95 ms", "max ms"], rows)
    lines += [f"p50(answer) / p50(floor) = **{r.ratio_p50:.2f}**; answer minus floor at p50: "
              f"{r.answer.p50 - r.floor.p50:.1f} ms (BM25, precedents, scorer, quote choice). The torch path: answer "
              f"p50 {r.answer_torch.p50:.1f} ms, its forward pass p50 {r.floor_torch.p50:.1f} ms.", "",
              f"Forward passes slower than {SLOW_MS} ms: {r.slow_floor_share:.0%} on ONNX Runtime, "
              f"{r.slow_floor_share_torch:.0%} on torch.", "",
              f"![latency]({plot.name})", ""]
    return lines


def startup(r, out: Path) -> list[str]:
    from bench.startup import FIRST_ANSWER_TARGET_S as FIRST, HYBRID_READY_TARGET_S as READY

    plot = plots.startup(r, out)
    s = r.stages
    runs = ", ".join(f"{t:.2f}" for t in r.cli_warm_all)
    bots = "; ".join(f"{b.first_s:.2f} ({b.first_mode}) / {b.hybrid_s:.2f}" for b in r.bot_warm)
    lines = ["## 2. startup", "",
             f"Wall clock from spawning the process; the bare interpreter (`python -c pass`) takes {r.python_bare_s:.2f} s. "
             f"CLI: `python -m bot ask --json --no-audit \"{r.question}\"` (spawn to exit; it loads the model before "
             "answering). Bot: `python -m bot run` against FakeDiscord, one `/ask` after another from the moment its "
             "commands are synced (its serve() answers from BM25 while the model loads, then swaps in the hybrid index).", ""]
    lines += _table(["what", "seconds", "target", "verdict"], [
        [f"bot: first /ask answered, cache warm (median of {len(r.bot_warm)}; first (mode) / hybrid per run: {bots})",
         f"{r.bot_first_s:.2f}", f"first answer <= {FIRST:g} s", verdict(r.bot_first_s <= FIRST)],
        ["bot: first answer in hybrid mode, cache warm (median)", f"{r.bot_hybrid_s:.2f}", f"hybrid ready <= {READY:g} s",
         verdict(r.bot_hybrid_s <= READY)],
        [f"bot: first /ask answered, cache cold (1 run, mode {r.bot_cold.first_mode})", f"{r.bot_cold.first_s:.2f}",
         f"first answer <= {FIRST:g} s", verdict(r.bot_cold.first_s <= FIRST)],
        ["bot: first answer in hybrid mode, cache cold (1 run)", f"{r.bot_cold.hybrid_s:.2f}", f"hybrid ready <= {READY:g} s",
         verdict(r.bot_cold.hybrid_s <= READY)],
        [f"bot: slash commands synced (median)", f"{statistics.median(b.synced_s for b in r.bot_warm):.2f}", "", ""],
        [f"CLI: answer printed, cache warm (median of {r.runs}: {runs}; mode {r.cli_mode})", f"{r.cli_warm_s:.2f}",
         f"first answer <= {FIRST:g} s", verdict(r.cli_warm_s <= FIRST)],
        ["CLI: the same run is its hybrid-ready time", f"{r.cli_warm_s:.2f}", f"hybrid ready <= {READY:g} s", verdict(r.cli_warm_s <= READY)],
        ["CLI: answer printed, cache cold (fresh STORYBOT_CACHE, 1 run)", f"{r.cli_cold_s:.2f}", f"hybrid ready <= {READY:g} s",
         verdict(r.cli_cold_s <= READY)],
        [f"CLI with STORYBOT_MODEL=none (BM25 only, median of {r.runs})", f"{r.cli_bm25_s:.2f}", f"first answer <= {FIRST:g} s",
         verdict(r.cli_bm25_s <= FIRST)],
        [f"CLI: peak memory (max RSS), cache warm (median of {r.runs})", f"{r.cli_max_rss_mb:.0f} MB", "<= 350 MB",
         verdict(r.cli_max_rss_mb <= 350)],
    ])
    lines += ["Inside one process (child `python -m bench.startup --stages`), each stage in turn, median of runs:", ""]
    lines += _table(["stage", "seconds"], [[k, f"{v:.3f}"] for k, v in s.items()])
    hybrid_path = ["import storybot (retrieval, bot.engine)", "import onnxruntime + tokenizers", "load corpus",
                   "load model (engine.load_model: ONNX session)", "build hybrid index, warm cache", "first answer, hybrid"]
    bm25_path = ["import storybot (retrieval, bot.engine)", "load corpus", "build BM25 index (engine.build, no model)", "first answer, BM25"]
    warm_sum = sum(s[k] for k in hybrid_path)
    cold_sum = warm_sum - s["build hybrid index, warm cache"] + s["build hybrid index, cold cache (the ONNX file kept)"]
    top = sorted(((s[k], k) for k in hybrid_path), reverse=True)[:2]
    lines += [f"Sums of stages (interpreter start excluded): BM25 answer ready {sum(s[k] for k in bm25_path):.2f} s; hybrid "
              f"ready with a warm cache {warm_sum:.2f} s, with a cold cache {cold_sum:.2f} s. On the hybrid path "
              f"**{top[0][1]}** ({top[0][0]:.2f} s) and **{top[1][1]}** ({top[1][0]:.2f} s) dominate; with a cold cache, "
              f"embedding the corpus and the precedents adds "
              f"{s['build hybrid index, cold cache (the ONNX file kept)'] - s['build hybrid index, warm cache']:.2f} s.", ""]
    return lines + [f"![startup stages]({plot.name})", ""]


def discord_load(r, out: Path) -> list[str]:
    plot = plots.discord_load(r, out)
    rows = [[b.n, b.distinct_questions, f"{b.acked}/{b.n}", f"{b.answered}/{b.n}", b.errors, *_dist(b.ack), *_dist(b.final),
             f"{b.max_heartbeat_gap_s:.2f}", b.batches, f"{b.dispatch_s:.2f}",
             verdict(b.all_acked_in_time), verdict(b.final_p95_met)] for b in r.bursts]
    lines = ["## 3. discord_load", "",
             "N simultaneous `/ask` (distinct users, cooldown 0, dev questions with Zipf-like repeats) through "
             "tests/fake_discord.py against a real StoryBot + AnswerService + audit log; heartbeat interval 500 ms. "
             "Latencies in ms from INTERACTION_CREATE written to the request arriving. Targets: every interaction "
             "acknowledged within 3 s (Discord drops it otherwise) and p95 final answer <= 3 s.", ""]
    lines += _table(["N", "distinct q", "acked", "answered", "errors", "ack p50", "ack p95", "ack max", "final p50",
                     "final p95", "final max", "max heartbeat gap s", "batches", "dispatch s", "all acked <= 3 s",
                     "p95 final <= 3 s"], rows)
    lines += ["The fake Discord shares the bot's process and event loop, so its HTTP/JSON work is inside these figures.", "",
              "Where the time went (product functions wrapped for the burst's length; the event loop's lag sampled every 10 ms):", ""]
    lines += _table(["N", "first sent -> last answer s", "answer_many batches (questions)", "answer_many s (max batch ms)",
                     "of which model forward s", "audit record_answer p50 / p95 / max ms", "loop lag max ms", "loop blocked s"],
                    [[b.n, f"{b.probe.span_s:.2f}", ", ".join(str(q) for q, _ in b.probe.batches),
                      f"{b.probe.answer_many_s:.2f} ({max((ms for _, ms in b.probe.batches), default=0):.0f})",
                      f"{sum(b.probe.encode_ms) / 1000:.2f}",
                      " / ".join(_dist(Dist.of(b.probe.audit_ms))),
                      f"{max(b.probe.lag_ms, default=0):.0f}", f"{b.probe.blocked_s:.2f}"] for b in r.bursts])
    lines += [f"![discord load]({plot.name})", ""]
    return lines


def scale(r, out: Path) -> list[str]:
    from bench.scale import THROUGHPUT_SAMPLE

    latency_plot, build_plot = plots.scale_latency(r, out), plots.scale_build(r, out)
    lines = ["## 4. scale", "",
             "Synthetic corpora (bench/synthetic.py): the 5 real articles plus articles generated with "
             "`random.Random(42)` (headline + 6-14 paragraphs; 1 paragraph in 10 a real corpus sentence, the rest "
             "template sentences from seeded news phrases and 4,000 made-up surnames), written as curated .md files "
             "with `format_article` and loaded with `load_corpus`. One child process per size (own peak RSS). "
             f"Real MiniLM embeddings up to {r.real_limit:,} passages; past that, stand-in vectors built from real "
             "MiniLM vectors of each sentence's phrases, and the cold build with the real model is **estimated** from "
             f"the model's throughput measured on {THROUGHPUT_SAMPLE} of that corpus's passages (marked est.).", ""]
    lines += _table(["passages", "articles", "texts embedded (cold)", "cold build s, real model", "warm build s",
                     "model texts/s", "RSS before corpus MB", "peak RSS MB", "dense matrix MB", "texts the stand-in sent to the model"],
                    [[f"{s.passages:,}", f"{s.articles:,}", f"{s.embedded_texts:,}",
                      f"{s.cold_real_s:,.1f}" + ("" if s.real_embeddings else " est."), f"{s.warm['total']:.2f}",
                      f"{s.throughput_texts_s:.1f}", f"{s.base_rss_mb:,.0f}", f"{s.peak_rss_mb:,.0f}", f"{s.matrix_mb:,.1f}",
                      "-" if s.real_embeddings else s.fallbacks] for s in r.sizes])
    for kind in ("cold", "warm"):
        names = list(dict.fromkeys(k for s in r.sizes for k in getattr(s, kind)))
        lines += [f"bot.engine.build stages, {kind} embedding cache (seconds; \"dense index\" holds the cache I/O and the "
                  f"{'model forward or stand-in vectors' if kind == 'cold' else 'cache read'}; indented rows are parts of the row above):", ""]
        lines += _table(["passages", *[n.strip() if not n.startswith(" ") else "↳ " + n.strip() for n in names]],
                        [[f"{s.passages:,}", *[f"{getattr(s, kind).get(n, float('nan')):.3f}" for n in names]] for s in r.sizes])
    stage_names = list(r.sizes[0].stages)
    rows = [[f"{s.passages:,}", *_dist(s.answer)[:2], *[f"{_ms(s.stages[k].p50)} / {_ms(s.stages[k].p95)}" for k in stage_names],
             f"{s.answered_share:.0%}"] for s in r.sizes]
    lines += ["Query latency (ms) over the dev questions: answer() end to end, then each stage (p50 / p95):", ""]
    lines += _table(["passages", "answer p50", "answer p95", *stage_names, "answerable answered"], rows)
    lines += limits(r) + [f"![query latency vs size]({latency_plot.name})", "", f"![build time vs size]({build_plot.name})", ""]
    return lines


GROWING = ("gather (BM25, cosine, fusion, evidence)", "score (fitted scorer)", "check (rules)", "choose quotes")


def limits(r) -> list[str]:
    """Where one machine stops being enough: each resource extrapolated linearly from the two
    largest corpora to the size where it reaches a limit; the smallest such size gives out first."""
    big = r.sizes[-1]
    small = r.sizes[-2] if len(r.sizes) > 1 else None
    texts_per_passage = big.embedded_texts / big.passages
    limit_embed = 3600 * big.throughput_texts_s / texts_per_passage
    per_passage_kb = max(big.peak_rss_mb - big.base_rss_mb, 1e-6) * 1024 / big.passages
    limit_memory = 24 * 1024 ** 2 / per_passage_kb
    growing = [k for k in GROWING if k in big.stages]
    at_big = sum(big.stages[k].p50 for k in growing)
    slope = (at_big - sum(small.stages[k].p50 for k in growing)) / (big.passages - small.passages) if small else at_big / big.passages
    limit_query = big.passages + (1000 - at_big) / slope if slope > 0 else float("inf")
    warm_slope = (big.warm["total"] - small.warm["total"]) / (big.passages - small.passages) if small else big.warm["total"] / big.passages
    limit_warm = big.passages + (600 - big.warm["total"]) / warm_slope if warm_slope > 0 else float("inf")
    worst_warm = max((k for k in big.warm if k != "total" and not k.startswith(" ")), key=lambda k: big.warm[k])
    worst_query = max(growing, key=lambda k: big.stages[k].p50)
    limits_ = {
        "cold embedding (model forward over every new passage) reaches 1 hour": limit_embed,
        "a warm rebuild (restart or /reload) reaches 10 minutes": limit_warm,
        "the corpus-dependent query stages reach 1 s per question (the answer worker is one thread)": limit_query,
        "memory reaches the machine's 24 GiB": limit_memory,
    }
    lines = ["**Where one machine stops** (linear extrapolation from the two largest corpora):", ""]
    lines += [f"- {what}: at ~{n:,.0f} passages" for what, n in sorted(limits_.items(), key=lambda kv: kv[1])]
    first = min(limits_, key=limits_.get)
    lines += [
        "",
        f"First to give out: **{first}**. At {big.passages:,} passages: cold embedding {big.embedded_texts:,} texts at "
        f"{big.throughput_texts_s:.0f} texts/s = {big.embedded_texts / big.throughput_texts_s / 60:,.0f} min; warm rebuild "
        f"{big.warm['total']:.0f} s, largest stage **{worst_warm}** ({big.warm[worst_warm]:.1f} s); corpus-dependent query "
        f"work {at_big:.0f} ms p50, largest **{worst_query}** ({big.stages[worst_query].p50:.1f} ms p50, "
        f"{big.stages[worst_query].p95:.1f} ms p95); the question's own forward pass ({big.stages['encode question (one forward pass)'].p50:.0f} ms "
        f"p50) does not grow with the corpus; peak RSS {big.peak_rss_mb:,.0f} MB (~{per_passage_kb:.1f} KB per passage).",
        "",
    ]
    return lines


def quality(r) -> list[str]:
    rows = [[m.mode, f"{m.hit_at_1:.3f}", f"{m.hit_at_3:.3f}", f"{m.mrr:.3f}", f"{m.off_topic_abstention:.3f}",
             f"{m.false_abstention:.3f}", _ms(m.latency_p50_ms), _ms(m.latency_p95_ms),
             f"{m.quotes_checked - m.quotes_not_verbatim}/{m.quotes_checked}", verdict(m.quotes_not_verbatim == 0),
             ", ".join(m.misses) or "none"] for m in r.modes]
    lines = ["## 5. quality", "", f"tests/data/dev.jsonl: {r.answerable} answerable, {r.off_topic} off-topic questions; "
             "retrieval.evaluation.evaluate per mode. Latency is each Answer's own latency_ms in that pass. "
             "The one target is the product's promise (README): every quote verbatim.", ""]
    lines += _table(["mode", "hit@1", "hit@3", "MRR", "off-topic abstention", "false abstention", "p50 ms", "p95 ms",
                     "verbatim quotes", "all verbatim", "misses"], rows)
    return lines


def targets(results: dict) -> list[str]:
    from bench.startup import FIRST_ANSWER_TARGET_S, HYBRID_READY_TARGET_S

    rows = []
    if "startup" in results:
        s = results["startup"]
        rows.append([f"first answer <= {FIRST_ANSWER_TARGET_S:g} s after start: the bot (`python -m bot run`), cache warm",
                     f"{s.bot_first_s:.2f} s (mode {s.bot_warm[0].first_mode})", verdict(s.bot_first_s <= FIRST_ANSWER_TARGET_S)])
        rows.append([f"first answer <= {FIRST_ANSWER_TARGET_S:g} s after start: `python -m bot ask`, cache warm",
                     f"{s.cli_warm_s:.2f} s", verdict(s.cli_warm_s <= FIRST_ANSWER_TARGET_S)])
        rows.append([f"hybrid ready <= {HYBRID_READY_TARGET_S:g} s: the bot, cache warm / cold",
                     f"{s.bot_hybrid_s:.2f} s / {s.bot_cold.hybrid_s:.2f} s",
                     f"{verdict(s.bot_hybrid_s <= HYBRID_READY_TARGET_S)} / {verdict(s.bot_cold.hybrid_s <= HYBRID_READY_TARGET_S)}"])
        rows.append([f"hybrid ready <= {HYBRID_READY_TARGET_S:g} s: `python -m bot ask`, cache warm / cold",
                     f"{s.cli_warm_s:.2f} s / {s.cli_cold_s:.2f} s",
                     f"{verdict(s.cli_warm_s <= HYBRID_READY_TARGET_S)} / {verdict(s.cli_cold_s <= HYBRID_READY_TARGET_S)}"])
    if "discord_load" in results:
        b = max(results["discord_load"].bursts, key=lambda b: b.n)
        rows.append([f"{b.n} simultaneous /ask all acknowledged within 3 s", f"{b.acked}/{b.n} acked, max {b.ack.max / 1000:.2f} s", verdict(b.all_acked_in_time)])
        rows.append([f"{b.n} simultaneous /ask: p95 final <= 3 s", f"{b.answered}/{b.n} answered, p95 {b.final.p95 / 1000:.2f} s", verdict(b.final_p95_met)])
    if "quality" in results:
        for m in results["quality"].modes:
            rows.append([f"every quote verbatim, {m.mode}", f"{m.quotes_checked - m.quotes_not_verbatim}/{m.quotes_checked}", verdict(m.quotes_not_verbatim == 0)])
    return ["## Targets", ""] + _table(["target", "measured", "verdict"], rows) if rows else []


def write(results: dict, machine: Machine, command: str, elapsed_s: float, quick: bool, out: Path,
          failures: dict[str, str] | None = None) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    lines = header(machine, command, elapsed_s, list(results), quick)
    if failures:
        lines += ["**Parts that failed** (traceback on stderr): " + "; ".join(f"{k}: `{v}`" for k, v in failures.items()), ""]
    lines += targets(results)
    renderers = {"latency": lambda r: latency(r, out), "startup": lambda r: startup(r, out),
                 "discord_load": lambda r: discord_load(r, out), "scale": lambda r: scale(r, out), "quality": quality}
    for name, result in results.items():
        lines += renderers[name](result)
    path = out / "results.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def as_json(results: dict) -> dict:
    return {name: asdict(result) for name, result in results.items()}
