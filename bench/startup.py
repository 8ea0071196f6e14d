"""Part 2: from process start to the first answer.

The CLI: `python -m bot ask --json --no-audit QUESTION` as a subprocess, wall clock from spawn
to exit (the answer is printed just before), with the embedding cache warm, cold (a fresh
STORYBOT_CACHE), and with STORYBOT_MODEL=none (BM25 alone).
The bot: `python -m bot run` as a subprocess against the loopback fake of Discord. Its
serve() answers from BM25 while the model loads in the background, so from spawn we time:
commands synced, the first /ask answered (and in which mode), and the first answer in
hybrid mode (one /ask after another until the embed's footer says "mode hybrid").
Inside: a child process times each stage of a start in turn, with bot.engine's functions.
Subprocesses run in an empty folder (no .env) with STORYBOT_* set explicitly.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import ROOT, WORK, quiet, say, settings

QUESTION = "why was the status revoked?"
# Issue 19: a one-question `storybot ask` with a built index in <= 1.5 s, the bot answering
# with the hybrid engine <= 3 s after start.
FIRST_ANSWER_TARGET_S = 1.5
HYBRID_READY_TARGET_S = 3.0
FOLDER = WORK / "startup"


@dataclass(frozen=True)
class BotStart:
    synced_s: float  # spawn -> slash commands synced (the bot can take /ask)
    first_s: float  # spawn -> first /ask answered
    first_mode: str
    hybrid_s: float  # spawn -> first answer in hybrid mode (nan if none within the time limit)
    asks: int  # /ask sent until then


@dataclass(frozen=True)
class StartupResult:
    runs: int
    question: str
    python_bare_s: float  # `python -c pass`: the interpreter alone
    cli_warm_s: float  # median wall clock, embedding cache warm
    cli_warm_all: tuple[float, ...]
    cli_cold_s: float  # one run with a fresh embedding cache
    cli_bm25_s: float  # median, STORYBOT_MODEL=none
    cli_mode: str  # the mode the warm run answered in
    cli_max_rss_mb: float  # peak memory of the warm `ask` process (/usr/bin/time's maximum resident set), median
    bot_warm: tuple[BotStart, ...]
    bot_cold: BotStart  # fresh embedding cache
    stages: dict[str, float]  # seconds, median over child runs, in the order they ran

    @property
    def bot_first_s(self) -> float:
        return statistics.median(b.first_s for b in self.bot_warm)

    @property
    def bot_hybrid_s(self) -> float:
        return statistics.median(b.hybrid_s for b in self.bot_warm)


def _env(cache: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STORYBOT_", "DISCORD_"))}
    s = settings(cache=cache)
    env.update(STORYBOT_CORPUS=str(s.corpus), STORYBOT_CACHE=str(cache), STORYBOT_DB=str(FOLDER / "audit.db"))
    env.update(extra)
    return env


def _cwd() -> Path:
    folder = FOLDER / "cwd"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _timed_process(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=_cwd(), env=env, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])}... exited {done.returncode}: {done.stderr[-800:]}")
    return elapsed, done.stdout


def _peak_rss_mb(cache: Path) -> float:
    """The warm `ask` process's maximum resident set, as /usr/bin/time -v reports it."""
    command = ["/usr/bin/time", "-f", "%M", sys.executable, "-m", "bot", "ask", "--json", "--no-audit", QUESTION]
    done = subprocess.run(command, cwd=_cwd(), env=_env(cache), capture_output=True, text=True, timeout=600, check=True)
    return int(done.stderr.strip().splitlines()[-1]) / 1024


def _ask(cache: Path, **extra: str) -> tuple[float, dict]:
    command = [sys.executable, "-m", "bot", "ask", "--json", "--no-audit", QUESTION]
    elapsed, out = _timed_process(command, _env(cache, **extra))
    return elapsed, json.loads(out.strip().splitlines()[-1])


def _mode(final) -> str:
    footer = ((final.json or {}).get("embeds") or [{}])[0].get("footer", {}).get("text", "")
    return footer.rsplit("mode ", 1)[1].strip() if "mode " in footer else "?"


async def _bot_start(cache: Path, timeout: float = 120.0) -> BotStart:
    from bench.discord_load import GUILD_ID, FakeDiscord

    # Commands are registered only when they changed since the hash kept in the cache: without
    # the record each start syncs, so "commands synced" marks every start alike.
    (cache / "command-sync.json").unlink(missing_ok=True)
    async with FakeDiscord() as fake:
        env = _env(cache, DISCORD_TOKEN=fake.token, DISCORD_GUILD_IDS=str(GUILD_ID), DISCORD_API_BASE_URL=fake.api_base,
                   DISCORD_GATEWAY_URL=fake.gateway_url, STORYBOT_COOLDOWN_SECONDS="0")
        with open(FOLDER / "bot-stderr.log", "w") as log:
            started = time.perf_counter()
            process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", env=env, cwd=_cwd(),
                                                           stdout=subprocess.DEVNULL, stderr=log)
            try:
                await fake.wait_until(lambda: fake.command_bodies.get(GUILD_ID), timeout, "command sync")
                synced = time.perf_counter() - started
                first, hybrid, asks = None, float("nan"), 0
                while time.perf_counter() - started < timeout:
                    sent = await fake.slash("ask", {"question": QUESTION}, user_id=20_000 + asks)
                    asks += 1
                    final = await fake.wait_for_response(sent.id, "final", timeout=timeout)
                    first = first or (final.time - started, _mode(final))
                    if _mode(final) == "hybrid":
                        hybrid = final.time - started
                        break
                    await asyncio.sleep(0.1)
            finally:
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), 30)
                except asyncio.TimeoutError:
                    process.kill()
                    await process.wait()
    if first is None:
        raise RuntimeError(f"`python -m bot run` gave no answer within {timeout:.0f} s (see {FOLDER / 'bot-stderr.log'})")
    return BotStart(synced, first[0], first[1], hybrid, asks)


def run(*, quick: bool = False) -> StartupResult:
    runs = 2 if quick else 3
    warm, cold = FOLDER / "cache-warm", FOLDER / "cache-cold"
    say(f"startup: bare interpreter; `python -m bot ask` x {runs} warm, x {runs} BM25 only, 1 cold")
    python_bare = statistics.median(_timed_process([sys.executable, "-c", "pass"], os.environ.copy())[0] for _ in range(3))
    shutil.rmtree(cold, ignore_errors=True)
    cli_cold, _ = _ask(cold)
    _ask(warm)  # makes sure the warm cache is warm (a no-op after the first bench run)
    warm_runs = [_ask(warm) for _ in range(runs)]
    bm25_runs = [_ask(warm, STORYBOT_MODEL="none")[0] for _ in range(runs)]
    rss = statistics.median(_peak_rss_mb(warm) for _ in range(runs))
    say(f"startup: `python -m bot run` against FakeDiscord x {runs} warm, 1 cold")
    bot_warm = tuple(asyncio.run(_bot_start(warm)) for _ in range(runs))
    shutil.rmtree(cold, ignore_errors=True)
    bot_cold = asyncio.run(_bot_start(cold))
    stage_runs = 1 if quick else 3
    say(f"startup: stages inside one process x {stage_runs}")
    samples: list[dict[str, float]] = []
    for _ in range(stage_runs):
        shutil.rmtree(cold, ignore_errors=True)
        command = [sys.executable, "-m", "bench.startup", "--stages", "--warm", str(warm), "--cold", str(cold)]
        out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=True).stdout
        samples.append(json.loads(out.strip().splitlines()[-1]))
    return StartupResult(
        runs=runs,
        question=QUESTION,
        python_bare_s=python_bare,
        cli_warm_s=statistics.median(t for t, _ in warm_runs),
        cli_warm_all=tuple(t for t, _ in warm_runs),
        cli_cold_s=cli_cold,
        cli_bm25_s=statistics.median(bm25_runs),
        cli_mode=warm_runs[0][1].get("mode", "?"),
        cli_max_rss_mb=rss,
        bot_warm=bot_warm,
        bot_cold=bot_cold,
        stages={name: statistics.median(s[name] for s in samples) for name in samples[0]},
    )


def _stages(warm: Path, cold: Path) -> dict[str, float]:
    """Each stage of a start, timed in turn in this (fresh) process."""
    stages: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages[name] = now - clock
        clock = now

    from retrieval.answer import answer
    from retrieval.articles import load_corpus

    from bot import engine
    from bot.service import AnswerService  # noqa: F401 - part of what the bot imports

    lap("import storybot (retrieval, bot.engine)")
    import onnxruntime  # noqa: F401
    import tokenizers  # noqa: F401

    lap("import onnxruntime + tokenizers")
    load_corpus(settings(cache=warm).corpus)
    lap("load corpus")
    bm25 = engine.build(settings(cache=warm), None)
    lap("build BM25 index (engine.build, no model)")
    answer(bm25, QUESTION)
    lap("first answer, BM25")
    encoder = engine.load_model(settings().model, warm)
    lap("load model (engine.load_model: ONNX session)")
    hybrid = engine.build(settings(cache=warm), encoder)
    lap("build hybrid index, warm cache")
    answer(hybrid, QUESTION)
    lap("first answer, hybrid")
    engine.build(settings(cache=cold), encoder)
    lap("build hybrid index, cold cache (the ONNX file kept)")
    return stages


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--stages", action="store_true")
    parser.add_argument("--warm", type=Path, required=True)
    parser.add_argument("--cold", type=Path, required=True)
    args = parser.parse_args()
    quiet()
    print(json.dumps(_stages(args.warm, args.cold)))
