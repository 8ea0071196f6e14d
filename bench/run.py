"""Run the benchmark suite and write bench/results/results.md (+ results.json and PNG plots).

    .venv/bin/python -m bench.run                 # everything (about a quarter of an hour on 2 cores)
    .venv/bin/python -m bench.run --quick         # smoke run: fewer questions and runs, no 100k corpus
    .venv/bin/python -m bench.run --only scale    # one part (repeat --only for several)

Parts run in this order: startup first (its subprocesses should not compete with a loaded
model here), then the in-process parts, then scale (child processes, one per size).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
import time
import traceback
from pathlib import Path

from bench.common import ROOT, Engine, Machine, quiet, say

PARTS = ("startup", "latency", "discord_load", "quality", "scale")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description="storybot's benchmark suite")
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (not for decisions)")
    parser.add_argument("--only", action="append", choices=PARTS, metavar="NAME", help=f"run only this part: {', '.join(PARTS)}")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="folder for results.md and the plots")
    parser.add_argument("--real-limit", type=int, default=None,
                        help="scale: largest corpus embedded with the real model (default 1000; 0 with --quick)")
    args = parser.parse_args(argv)
    quiet()
    started = time.perf_counter()
    command = " ".join([".venv/bin/python -m bench.run", *map(shlex.quote, sys.argv[1:] if argv is None else argv)])
    wanted = [p for p in PARTS if not args.only or p in args.only]
    engine = Engine()
    commit_at_start = Machine.commit()
    results: dict[str, object] = {}
    failures: dict[str, str] = {}
    for part in wanted:
        say(f"part {part}")
        part_started = time.perf_counter()
        try:
            results[part] = _run_part(part, engine, args)
        except Exception as exc:  # noqa: BLE001 - one broken part must not lose the others' figures
            traceback.print_exc()
            failures[part] = f"{type(exc).__name__}: {exc}"
        say(f"part {part} took {time.perf_counter() - part_started:.0f} s")
    from bench import report

    # Order the report as the brief lists the parts, whatever order they ran in.
    ordered = {p: results[p] for p in ("latency", "startup", "discord_load", "scale", "quality") if p in results}
    elapsed = time.perf_counter() - started
    machine = Machine.describe()
    if machine.git_commit != commit_at_start:  # others commit while the bench runs
        machine = dataclasses.replace(machine, git_commit=f"{commit_at_start} at start, {machine.git_commit} at the end")
    path = report.write(ordered, machine, command, elapsed, args.quick, args.out, failures)
    (args.out / "results.json").write_text(json.dumps(report.as_json(ordered), indent=1, default=str), encoding="utf-8")
    say(f"wrote {path} ({elapsed / 60:.1f} min)")
    return 1 if failures else 0


def _run_part(part: str, engine: Engine, args: argparse.Namespace):
    if part == "startup":
        from bench import startup

        return startup.run(quick=args.quick)
    if part == "latency":
        from bench import latency

        return latency.run(engine, quick=args.quick)
    if part == "discord_load":
        from bench import discord_load

        return discord_load.run(engine, quick=args.quick)
    if part == "quality":
        from bench import quality

        return quality.run(engine)
    from bench import scale

    return scale.run(quick=args.quick, real_limit=args.real_limit)


if __name__ == "__main__":
    sys.exit(main())
