"""What a server's labels cost per answer: answer() over a question set with no labels, and with
N labels (one server's lessons, retrieval/lessons.py), interleaved question by question.

    .venv/bin/python -m bench.labels tests/data/holdout2.jsonl --labels 40

The labels are made from the first N questions of tests/data/dev.jsonl (a third each right
passage, wrong passage and not in the articles, the passages those questions' answers quote), so
they are like the questions the set asks about, as a server's labels would be. Reported: the
time to read the labels against the index once (a server's first answer after a label changes),
and the mean time of answer() with and without them. Measured on the shared 2-core machine.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from bench.common import ROOT, quiet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set", type=Path)
    parser.add_argument("--labels", type=int, default=40)
    args = parser.parse_args()
    quiet()
    from bot.engine import load
    from bot.settings import from_env
    from retrieval.answer import answer
    from retrieval.lessons import NO_LESSONS, Lesson, Lessons

    index = load(from_env({}, ROOT))
    dev = [json.loads(line)["question"] for line in (ROOT / "tests/data/dev.jsonl").read_text().splitlines() if line.strip()]
    items = []
    for n, question in enumerate(dev[: args.labels]):
        verdict = ("right", "wrong", "none")[n % 3]
        shown = answer(index, question).passages
        if verdict != "none" and not shown:
            verdict = "none"
        items.append(Lesson(question, verdict, shown[0].quote if verdict != "none" else "", name=f"label:bench:{n}"))
    lessons = Lessons(tuple(items))
    started = time.perf_counter()
    index.taught(lessons)
    built = time.perf_counter() - started
    questions = [json.loads(line)["question"] for line in args.set.read_text().splitlines() if line.strip()]
    plain, taught, changed = [], [], 0
    for question in questions:
        for lessons_now, times in ((NO_LESSONS, plain), (lessons, taught)):
            started = time.perf_counter()
            result = answer(index, question, lessons=lessons_now)
            times.append(time.perf_counter() - started)
            if lessons_now is NO_LESSONS:
                before = [(q.doc_id, q.start) for q in result.passages], result.status
            elif ([(q.doc_id, q.start) for q in result.passages], result.status) != before:
                changed += 1
    print(f"{len(items)} labels read against the index in {built * 1000:.0f} ms (once per version of a server's labels)")
    print(f"answer() over {len(questions)} questions of {args.set.name}: mean {statistics.mean(plain) * 1000:.1f} ms "
          f"without labels, {statistics.mean(taught) * 1000:.1f} ms with them; p95 "
          f"{sorted(plain)[int(0.95 * len(plain))] * 1000:.1f} / {sorted(taught)[int(0.95 * len(taught))] * 1000:.1f} ms; "
          f"{changed} answers changed")


if __name__ == "__main__":
    main()
