"""Leave one article out: each article measured as if it had just been added (retrieval/leave_out.py)."""
from __future__ import annotations

from retrieval.evaluation import EvalQuestion
from retrieval.leave_out import fold_precedents, folds, run_fold, table
from retrieval.precedents import article_key
from retrieval.scorer_fit import about

WITHDRAWN = EvalQuestion("a1", "why was the status withdrawn?", ("anti-migrant comments he made in the 2000s",))
RESTORED = EvalQuestion("a2", "when was the status restored?", ("re-designated jailed Kremlin critic",))
HOSPITAL = EvalQuestion("u1", "which hospital treated navalny after the poisoning?", (), "story_unanswered")
FOOTBALL = EvalQuestion("o1", "who won the cup final?", (), "off_topic")


def test_a_question_is_about_the_articles_holding_its_gold_or_where_bm25_sends_it(unprecedented_index):
    assert about(unprecedented_index, WITHDRAWN) == {"lbc-2021-02-25"}
    assert about(unprecedented_index, RESTORED) == {"the-moscow-times-2021-05-07"}
    assert len(about(unprecedented_index, HOSPITAL)) == 1
    assert about(unprecedented_index, FOOTBALL) == frozenset()


def test_a_fold_fits_without_the_questions_about_its_article_and_measures_on_them(unprecedented_index):
    sets = {"mine.jsonl": [WITHDRAWN, RESTORED, FOOTBALL]}
    (fold,) = [f for f in folds(unprecedented_index, sets, sets) if f.article == "lbc-2021-02-25"]
    assert fold.fit == {"mine.jsonl": [RESTORED, FOOTBALL]} and fold.measured == (WITHDRAWN,)
    # The bank kept for the fold was labelled against the other articles only.
    against = {p.against for p in fold_precedents(unprecedented_index, fold)}
    lbc = article_key(unprecedented_index.article("lbc-2021-02-25"))
    assert len(against) == 1 and lbc not in next(iter(against)) and len(next(iter(against))) == 4


def test_a_fold_is_fitted_and_measured_end_to_end(unprecedented_index):
    fit = {"one.jsonl": [RESTORED, FOOTBALL, HOSPITAL,
                         EvalQuestion("a3", "who is julie verhaar", ("Julie Verhaar",)),
                         EvalQuestion("o2", "best pasta recipe", (), "off_topic")]}
    measured = {"two.jsonl": [WITHDRAWN]}
    (fold,) = [f for f in folds(unprecedented_index, fit, measured) if f.article == "lbc-2021-02-25"]
    result = run_fold(unprecedented_index, fold)
    assert result.answerable == 1 and set(result.figures()) == {"hit@3", "hit@1", "answered", "gold share", "hedged"}
    assert result.report.quotes_not_verbatim == 0
    lines = table([result])
    assert lines[1].startswith("lbc-2021-02-25") and lines[-2].startswith("mean")
