"""Quality floors: a regression below the README's figures ("Quality, measured") fails CI.

Each floor sits just under the figure measured with `storybot eval` on the same set, so
noise from a library upgrade passes and a real loss does not.
"""
from __future__ import annotations

import pytest

from retrieval.answer import answer
from retrieval.evaluation import evaluate, load_questions

from conftest import CORPUS, DATA

FLOORS = {
    # set: (hit@1, hit@3, answerable answered, gold share of quotes shown,
    #       story questions not answered hedged, off-topic and requests not covered)
    # dev is fitted on and its questions are precedents: this floor says the memory works.
    "dev.jsonl": (0.93, 0.95, 0.97, 0.94, 0.97, 0.97),
    # Held out (the bars were chosen on them): a floor a question or two under the figure.
    "holdout.jsonl": (0.88, 0.90, 0.94, 0.78, 0.75, 0.95),
    "holdout2.jsonl": (0.90, 0.90, 0.93, 0.87, 0.86, 0.96),
}
# The scorer fitted without precedents (an index none of whose passages answers one).
# With the tuned encoder (retrieval/finetune.py) it ranks better and hedges more: measured
# 0.800 / 0.833 / 0.800 / 0.820 / 0.511 / 0.967 (`storybot eval tests/data/holdout2.jsonl` on a
# copy of the corpus without its bank); before it, 0.717 / 0.783 / 0.850 / 0.736 / 0.511. The
# answered floor moved down by the three questions the tuned scorer hedges; every other rose.
# Refitted by `storybot fit` with the code of today (the committed scorer had drifted from what
# the code makes: tests/test_scorer_reproducible.py): 0.800 / 0.833 / 0.800 / 0.820 / 0.489 /
# 0.967, one near-miss fewer hedged (23 of 45), so the hedged floor sits a question under it.
PLAIN_FLOORS = {"holdout2.jsonl": (0.78, 0.81, 0.78, 0.80, 0.46, 0.95)}


@pytest.mark.parametrize(("name", "plain"), [(n, False) for n in sorted(FLOORS)] + [(n, True) for n in sorted(PLAIN_FLOORS)])
def test_quality_stays_above_the_floors(name, plain, hybrid_answers, unprecedented_index, corpus):
    ask = (lambda q: answer(unprecedented_index, q)) if plain else hybrid_answers  # each question answered once a session
    raw = {a.id: (CORPUS / a.raw).read_text(encoding="utf-8") for a in corpus.articles}
    report = evaluate(ask, corpus, load_questions(DATA / name), raw_text=raw.get)
    hit1, hit3, answered, gold, hedged, not_covered = (PLAIN_FLOORS if plain else FLOORS)[name]
    measured = {
        "hit@1": (report.hit_at_1, hit1),
        "hit@3": (report.hit_at_3, hit3),
        "answered": (report.share("answerable", "answered"), answered),
        "gold share": (report.gold_share, gold),
        "hedged": (report.share("story_unanswered", "uncertain", "not_covered"), hedged),
        "not covered": (report.not_covered_elsewhere(), not_covered),
    }
    assert {k: round(v, 3) for k, (v, floor) in measured.items() if v < floor} == {}
    assert report.quotes_not_verbatim == 0 and report.quotes_not_contiguous == 0
