"""A question naming an outlet is answered from that outlet's articles."""
from __future__ import annotations

from retrieval.answer import answer
from retrieval.outlets import named_outlets

OUTLETS = ["The Spectator", "The Moscow Times", "RFI", "LBC"]


def test_an_outlet_is_named_by_its_words_in_order():
    assert named_outlets("what does the spectator think", OUTLETS) == {"The Spectator"}
    assert named_outlets("Moscow Times report on the re-designation?", OUTLETS) == {"The Moscow Times"}
    assert named_outlets("rfi vs lbc", OUTLETS) == {"RFI", "LBC"}
    assert named_outlets("how many times was he jailed in moscow", OUTLETS) == frozenset()
    assert named_outlets("who is a spectator", []) == frozenset()


def test_the_named_outlets_opinion_is_quoted_not_a_line_that_mentions_it(hybrid_index):
    question = "what does the spectator think of amnesty's decision"
    quotes = answer(hybrid_index, question).passages
    assert quotes and {q.outlet for q in quotes} == {"The Spectator"}
