"""Issue 11's figures for a question set, measured from outside the engine.

    .venv/bin/python -m bench.outside tests/data/blind7.jsonl [--no-timing]

Statuses and quotes come from `storybot ask --json --no-audit -` (the interface other unseen
sets are run against), and are scored here without the engine's own evaluation code: a quote
holds a gold phrase when the phrase is in it (whitespace and case aside), and is contiguous
when it is one stretch of its raw file (whitespace aside). The warm cost is timed in-process,
interleaved: for each question, answer(), one bare forward pass of the model on the same
question, then answer()'s stages one at a time, so the machine's load weighs on all alike.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import yaml

from bench.common import ROOT, quiet

_SPACE = re.compile(r"\s+")


def _folded(text: str) -> str:
    return _SPACE.sub(" ", text.replace("\u00a0", " ")).strip().casefold()


def _squashed(text: str) -> str:
    return _SPACE.sub("", text.replace("\u00a0", " "))


def _raw_files() -> dict[str, str]:
    found = {}
    for path in sorted((ROOT / "corpus").glob("*.md")):
        front = yaml.safe_load(path.read_text(encoding="utf-8").split("---", 2)[1])
        found[front["id"]] = _squashed((ROOT / "corpus" / front["raw"]).read_text(encoding="utf-8"))
    return found


def _ask(questions: list[str]) -> list[dict]:
    lines = "".join(q.replace("\n", " ") + "\n" for q in questions)
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "storybot"), "ask", "--json", "--no-audit", "-"], input=lines,
                          capture_output=True, text=True, cwd=ROOT)
    answers = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    if len(answers) != len(questions):
        sys.exit(f"{len(answers)} answers for {len(questions)} questions; stderr: {done.stderr[-2000:]}")
    return answers


def report(rows: list[dict], answers: list[dict]) -> list[str]:
    raw = _raw_files()
    quotes = [p for a in answers for p in a["passages"]]
    contiguous = sum(_squashed(p["quote"]) in raw.get(p["doc_id"], "") for p in quotes)
    pairs = list(zip(rows, answers))
    answerable = [(r, a) for r, a in pairs if r.get("category", "answerable" if r["answerable"] else "off_topic") == "answerable"]
    hit1 = hit3 = answered = shown = with_gold = 0
    for row, result in answerable:
        gold = [_folded(g) for g in row["gold"]]
        holding = [n for n, p in enumerate(result["passages"], 1) if any(g in _folded(p["quote"]) for g in gold)]
        hit1 += bool(holding) and holding[0] == 1
        hit3 += bool(holding) and holding[0] <= 3
        if result["status"] == "answered":
            answered += 1
            shown += len(result["passages"])
            with_gold += len(holding)
    story = [a for r, a in pairs if r.get("category") == "story_unanswered"]
    other = [a for r, a in pairs if r.get("category") in ("off_topic", "request")]
    hedged = sum(a["status"] != "answered" for a in story)
    not_covered = sum(a["status"] == "not_covered" for a in other)
    n = max(len(answerable), 1)
    return [
        f"answerable {len(answerable)}: hit@1 {hit1 / n:.3f}, hit@3 {hit3 / n:.3f}, answered {answered / n:.3f}",
        f"quotes shown for answered answerable questions holding a gold phrase: {with_gold}/{shown} = {with_gold / max(shown, 1):.3f}",
        f"story questions the articles don't answer, uncertain or not covered: {hedged}/{len(story)} = {hedged / max(len(story), 1):.3f}",
        f"off-topic and requests, not covered: {not_covered}/{len(other)} = {not_covered / max(len(other), 1):.3f}",
        f"quotes contiguous in their raw file (whitespace aside): {contiguous}/{len(quotes)}",
    ]


def warm_cost(questions: list[str], rounds: int = 3) -> list[str]:
    """answer(), one bare forward pass of the question, and answer()'s stages one by one
    (bench/scale.py's query_stages), interleaved question by question over `rounds` rounds."""
    quiet()
    from collections import defaultdict

    from bot import engine
    from bot.settings import load
    from retrieval.answer import answer

    from bench.scale import query_stages

    index = engine.load(load(ROOT))
    forward = index.dense.encoder.encode
    for question in questions:  # every cache warm once
        answer(index, question)
        forward([question])
    answering = bare = 0.0
    stages: dict[str, float] = defaultdict(float)
    for _ in range(rounds):
        for question in questions:
            started = time.perf_counter()
            answer(index, question)
            answered = time.perf_counter()
            forward([question])
            bare += time.perf_counter() - answered
            answering += answered - started
            for name, ms in query_stages(index, question).items():
                stages[name] += ms
    k = len(questions) * rounds
    lines = [f"warm cost, interleaved ({index.dense.encoder.runtime}): mean answer() {1000 * answering / k:.2f} ms, "
             f"mean bare forward pass {1000 * bare / k:.2f} ms, ratio {answering / bare:.2f} over {k} answers "
             f"({len(questions)} questions x {rounds} rounds)",
             "answer()'s stages, mean ms (the same questions, timed one stage at a time):"]
    lines += [f"  {name}: {ms / k:.2f}" for name, ms in stages.items()]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set", type=Path)
    parser.add_argument("--no-timing", action="store_true")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.set.read_text(encoding="utf-8").splitlines() if line.strip()]
    for line in report(rows, _ask([r["question"] for r in rows])):
        print(line)
    if not args.no_timing:
        print("\n".join(warm_cost([r["question"] for r in rows])))


if __name__ == "__main__":
    main()
