"""The PNG figures of the report (matplotlib, Agg: no display needed)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _ecdf(ax, samples, label: str) -> None:
    xs = np.sort(np.asarray(samples, dtype=float))
    if len(xs):
        ax.step(xs, np.arange(1, len(xs) + 1) / len(xs), where="post", label=f"{label} (n={len(xs)})")


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def latency(result, out: Path) -> Path:
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name, samples in result.samples.items():
        _ecdf(ax, [max(s, 1e-3) for s in samples], name)
    ax.set_xscale("log")
    ax.set_xlabel("latency per question (ms, log scale)")
    ax.set_ylabel("share of questions")
    ax.set_title(f"Warm latency, {result.questions} dev questions x {result.reps} runs")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return _save(fig, out / "latency.png")


def startup(result, out: Path) -> Path:
    names = list(result.stages)[::-1]
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.barh(names, [result.stages[n] for n in names], color="tab:blue")
    for y, name in enumerate(names):
        ax.text(result.stages[name], y, f" {result.stages[name]:.2f} s", va="center", fontsize=8)
    ax.set_xlabel("seconds (median of runs), in the order they ran: top first")
    ax.set_title("Start-up stages inside one process")
    ax.tick_params(axis="y", labelsize=8)
    return _save(fig, out / "startup.png")


def discord_load(result, out: Path) -> Path:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    for ax, kind, title in ((axes[0], "ack_samples", "acknowledgement (callback)"), (axes[1], "final_samples", "final answer (follow-up)")):
        for burst in result.bursts:
            _ecdf(ax, [s / 1000 for s in getattr(burst, kind)], f"N={burst.n}")
        ax.axvline(3.0, color="red", linestyle="--", linewidth=1, label="3 s target")
        ax.set_title(title)
        ax.set_xlabel("seconds since INTERACTION_CREATE")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    axes[0].set_ylabel("share of interactions")
    fig.suptitle("N simultaneous /ask through FakeDiscord")
    return _save(fig, out / "discord_load.png")


def scale_latency(result, out: Path) -> Path:
    sizes = [s.passages for s in result.sizes]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(sizes, [s.answer.p50 for s in result.sizes], "o-", linewidth=2, label="answer() p50")
    ax.plot(sizes, [s.answer.p95 for s in result.sizes], "o--", linewidth=2, label="answer() p95")
    for stage in result.sizes[0].stages:
        ax.plot(sizes, [max(s.stages[stage].p50, 1e-3) for s in result.sizes], ".-", label=f"{stage} p50")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("passages (log scale)")
    ax.set_ylabel("ms per question (log scale)")
    ax.set_title("Query latency vs corpus size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, out / "scale_latency.png")


def scale_build(result, out: Path) -> Path:
    sizes = [s.passages for s in result.sizes]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(sizes, [s.cold_real_s for s in result.sizes], "o-", linewidth=2, label="cold build, real model (measured or estimated)")
    ax.plot(sizes, [s.warm["total"] for s in result.sizes], "o-", linewidth=2, label="warm build (cache filled)")
    for stage in ("chunking", "BM25 build", "title lookups (Corpus.article)"):
        ax.plot(sizes, [max(s.cold.get(stage, 0.0), 1e-3) for s in result.sizes], ".--", label=stage)
    ax.plot(sizes, [s.embedded_texts / s.throughput_texts_s for s in result.sizes], ".--", label="model forward over every passage (est.)")
    estimated = [s for s in result.sizes if not s.real_embeddings]
    if estimated:
        ax.scatter([s.passages for s in estimated], [s.cold_real_s for s in estimated], s=90, facecolors="none",
                   edgecolors="red", label="estimated from throughput")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("passages (log scale)")
    ax.set_ylabel("seconds (log scale)")
    ax.set_title("Index build time vs corpus size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, out / "scale_build.png")
