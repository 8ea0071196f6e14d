"""What every part shares: paths, percentiles, the machine's description, and the loaded engine."""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Sequence

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
DEV = ROOT / "tests" / "data" / "dev.jsonl"
# Scratch space (caches, synthetic corpora, audit logs); .gitignore already lists it.
WORK = ROOT / "bench" / ".work"

QUIET_ENV = {
    # Nothing may reach a model hub (there is no network), and a benchmark's stderr should
    # carry progress lines, not progress bars. The same settings bot/cli.py and bot/engine.py use.
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TQDM_DISABLE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def quiet() -> None:
    for name, value in QUIET_ENV.items():
        os.environ.setdefault(name, value)


def say(message: str) -> None:
    """A progress line on stderr (a full run takes a quarter of an hour)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def pct(samples: Sequence[float], q: float) -> float:
    return float(np.percentile(samples, q)) if len(samples) else float("nan")


@dataclass(frozen=True)
class Dist:
    """A latency distribution in milliseconds: percentiles of all samples (or medians of runs)."""

    p50: float
    p95: float
    max: float
    n: int

    @classmethod
    def of(cls, samples_ms: Sequence[float]) -> "Dist":
        return cls(pct(samples_ms, 50), pct(samples_ms, 95), max(samples_ms, default=float("nan")), len(samples_ms))

    @classmethod
    def median_of_runs(cls, runs_ms: Sequence[Sequence[float]]) -> "Dist":
        """p50 and p95 of each run, then the median of those across runs (robust to one noisy run)."""
        return cls(
            float(np.median([pct(r, 50) for r in runs_ms])),
            float(np.median([pct(r, 95) for r in runs_ms])),
            max((max(r) for r in runs_ms if len(r)), default=float("nan")),
            sum(len(r) for r in runs_ms),
        )


def rss_mb() -> float:
    """Resident memory of this process now, from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass(frozen=True)
class Machine:
    nproc: str
    memory_gib: float
    cpu_model: str
    python: str
    torch: str
    torch_threads: int
    onnxruntime: str
    sentence_transformers: str
    discord_py: str
    git_commit: str
    date: str

    @classmethod
    def describe(cls) -> "Machine":
        import discord
        import onnxruntime
        import sentence_transformers
        import torch

        meminfo = Path("/proc/meminfo").read_text()
        mem_kb = int(next(l for l in meminfo.splitlines() if l.startswith("MemTotal:")).split()[1])
        cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                    if l.startswith("model name")), platform.processor() or "unknown")
        return cls(
            nproc=_output(["nproc"]) or str(os.cpu_count()),
            memory_gib=round(mem_kb / 1024 ** 2, 1),
            cpu_model=cpu,
            python=platform.python_version(),
            torch=torch.__version__,
            torch_threads=torch.get_num_threads(),
            onnxruntime=onnxruntime.__version__,
            sentence_transformers=sentence_transformers.__version__,
            discord_py=discord.__version__,
            git_commit=cls.commit(),
            date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        )


    @staticmethod
    def commit() -> str:
        commit = _output(["git", "rev-parse", "--short", "HEAD"]) or "unknown"
        # Others edit the tree while benchmarks run: say whether the measured code was committed.
        dirty = _output(["git", "status", "--porcelain", "--untracked-files=no"])
        return f"{commit} (+ uncommitted changes)" if dirty else commit


def _output(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def settings(corpus: Path = CORPUS, cache: Path = WORK / "cache"):
    """The product's Settings for a corpus, with caches and audit log in bench/.work (never
    corpus/.cache), and no .env or environment involved."""
    from bot.settings import from_env

    return from_env({"STORYBOT_CORPUS": str(corpus), "STORYBOT_CACHE": str(cache), "STORYBOT_DB": str(WORK / "audit.db")}, ROOT)


class Engine:
    """The real corpus, model and indexes, loaded once and shared by the in-process parts.

    Indexes are built by bot.engine.build, as the CLI and the bot build them (hidden spans,
    sidebars, typo dictionary), so the bench follows the product when that changes."""

    @cached_property
    def settings(self):
        return settings()

    @cached_property
    def corpus(self):
        from retrieval.articles import load_corpus

        return load_corpus(self.settings.corpus)

    @cached_property
    def questions(self):
        from retrieval.evaluation import load_questions

        return load_questions(DEV)

    @cached_property
    def encoder(self):
        from bot import engine

        encoder = engine.load_model(self.settings.model, self.settings.cache)
        if encoder is None:
            raise RuntimeError("the embedding model could not be loaded (see the warning above)")
        return encoder

    @cached_property
    def torch_encoder(self):
        """sentence-transformers on torch: the answer path before ONNX Runtime, for comparison."""
        from retrieval.embeddings import load_encoder

        return load_encoder(self.settings.model, runtime="torch")

    @cached_property
    def torch_hybrid(self):
        from bot import engine

        return engine.build(self.settings, self.torch_encoder)

    @cached_property
    def hybrid(self):
        from bot import engine

        return engine.build(self.settings, self.encoder)

    @cached_property
    def bm25(self):
        from bot import engine

        return engine.build(self.settings, None)
