"""How alike a question must be to a labelled one for the label to decide its answer
(retrieval/lessons.py's LABEL_LIKENESS), measured with the bank's precedents standing in for labels.

    .venv/bin/python -m bench.label_bar tests/data/holdout2.jsonl

For each question of the set about the story, the most like precedent of the corpus's bank: if
it is at least as like as the bar, would its verdict (answered by the same passage, or not
answered) agree with the question's own gold? Choose thresholds on holdout sets only.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from bench.common import ROOT, quiet


def main() -> None:
    quiet()
    from bot.engine import load
    from bot.settings import from_env
    from retrieval.answer import normalise_question
    from retrieval.gathering import encode, read_question
    from retrieval.policy import DEFAULT_POLICY
    from retrieval.precedents import _passages_holding

    index = load(from_env({}, ROOT))
    memory = index.memory
    rows = [json.loads(line) for line in Path(sys.argv[1]).read_text().splitlines() if line.strip()]
    for bar in (0.35, 0.45, 0.55, 0.65):
        same = differ = fired = 0; n = 0
        for r in rows:
            if r["category"] not in ("answerable", "story_unanswered"): continue
            n += 1
            _, read = read_question(index, normalise_question(r["question"]), DEFAULT_POLICY)
            v, _ = encode(index, [read], DEFAULT_POLICY)
            sims = memory.similarities(v[0], read)
            j = int(np.argmax(sims))
            if sims[j] < bar: continue
            fired += 1
            gold = set()
            for g in r.get("gold", []) or []:
                gold |= set(_passages_holding(g, index.passages, index.bm25.passages_with))
            theirs = set(int(i) for i in memory.passages_answering(j)) if memory.answered[j] else set()
            agree = (bool(gold) and bool(gold & theirs)) or (not gold and not theirs)
            same += agree; differ += not agree
        print(f"bar {bar}: {fired}/{n} story questions have a precedent that like; its verdict agrees {same}, disagrees {differ}")


if __name__ == "__main__":
    main()
