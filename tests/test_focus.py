"""Factoid questions about what the articles never mention are abstained on, word by word."""
from __future__ import annotations

import numpy as np
import pytest

from retrieval.answer import Policy, answer
from retrieval.focus import is_factoid, unanswered_words


@pytest.mark.parametrize(
    "question",
    ["who founded amnesty international", "When did he return?", "whats navalnys wifes name", "how many ppl signed",
     "hey bot, where is amnesty headquartered", "which nerve agent was used", "What year was that?"],
)
def test_questions_asking_for_one_fact_are_factoid(question):
    assert is_factoid(question)


@pytest.mark.parametrize(
    "question",
    ["why was the status revoked?", "what did amnesty say about it", "how did the videos get passed around",
     "what is the capital of australia", "tell me who said it"],
)
def test_open_questions_are_not(question):
    assert not is_factoid(question)


@pytest.mark.parametrize(
    "question", ["who founded amnesty international", "where is amnesty headquartered", "which nerve agent was navalny poisoned with"]
)
def test_a_fact_the_articles_never_mention_is_not_answered_with_loosely_related_quotes(hybrid_index, question):
    assert answer(hybrid_index, question).abstained
    # Without the word-by-word check these pass as answerable: they match the story's names.
    assert not answer(hybrid_index, question, Policy(check_focus=False)).abstained


@pytest.mark.parametrize(
    ("question", "quoted"),
    [
        ("who is julie verhaar", "Julie Verhaar"),
        ("how old were the remarks amnesty objected to", "2000s"),  # "objected" hardly moves the question
        ("when did mandela lose the status", "1960s"),
        ("how old is navalny acording to the articels", "44"),  # where the answer is from is no fact asked
    ],
)
def test_a_fact_the_quotes_speak_to_is_answered(hybrid_index, question, quoted):
    result = answer(hybrid_index, question)
    assert not result.abstained and any(quoted in q.quote for q in result.passages)


def test_only_words_that_decide_the_question_and_that_no_quote_is_near_count(encoder):
    quotes = ["Amnesty International, founded in London in 1961, has campaigned for Navalny."]
    _, located = encoder.encode_spans(quotes)
    pieces = located[0][0]
    same = dict(quote_pieces=pieces, encode_spans=encoder.encode_spans, spell=lambda w: w, min_shift=0.1, min_similarity=0.5)
    assert unanswered_words("who founded amnesty international", quotes, **same) == ()
    assert unanswered_words("who is navalny's wife", quotes, **same) == ("wife",)
    assert unanswered_words("why is navalny's wife", quotes, **same) == ()  # open question: not checked
    # A typo of a quoted word is the quoted word.
    assert unanswered_words("where was amnesty fonded", quotes, **{**same, "spell": lambda w: {"fonded": "founded"}.get(w, w)}) == ()


def test_the_model_says_where_each_word_piece_sits(encoder):
    vectors, located = encoder.encode_spans(["Who founded Amnesty?"])
    pieces, spans = located[0]
    assert np.allclose(vectors, encoder.encode(["Who founded Amnesty?"]), atol=1e-5)
    assert len(pieces) == len(spans)
    assert {"Who", "founded", "?"} <= {"Who founded Amnesty?"[s:e] for s, e in spans.tolist()}
