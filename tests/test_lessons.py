"""What a server's labels teach its answers (retrieval/lessons.py), on the story's real index:
the question labelled and a close paraphrase change, a question unlike it does not, and a server
without labels gets the bank's answer exactly."""
from __future__ import annotations

import time

import pytest

from retrieval.answer import Status, answer
from retrieval.checks import Rule
from retrieval.index import HiddenSpan
from retrieval.lessons import NO_LESSONS, Lesson, Lessons

RESTORED = "when was the status restored"
RESTORED_AGAIN = "when did amnesty give the status back"  # likeness 0.76
UNLIKE = "who is julie verhaar"


def spans(result):
    return [(q.doc_id, q.start, q.end) for q in result.passages]


def lesson(question, verdict, passage="", name="label:111:1"):
    return Lessons((Lesson(question, verdict, passage, name=name),))


def test_no_lessons_is_the_banks_answer(hybrid_index):
    for question in (RESTORED, UNLIKE):
        plain = answer(hybrid_index, question)
        assert spans(answer(hybrid_index, question, lessons=NO_LESSONS)) == spans(plain)


def test_not_in_the_articles_makes_the_question_and_its_paraphrase_uncertain_and_nothing_else(hybrid_index):
    taught = lesson(RESTORED, "none")
    for question in (RESTORED, RESTORED_AGAIN):
        assert answer(hybrid_index, question).status is Status.ANSWERED
        labelled = answer(hybrid_index, question, lessons=taught)
        assert labelled.status is Status.UNCERTAIN and "moderators marked" in labelled.reason
        assert "label" in labelled.fired and labelled.passages  # the nearest passages are still shown
    assert spans(answer(hybrid_index, UNLIKE, lessons=taught)) == spans(answer(hybrid_index, UNLIKE))


def test_a_right_passage_is_quoted_first_for_the_question_and_its_paraphrase(hybrid_index):
    plain = answer(hybrid_index, "who was the amnesty spokesperson")
    second = plain.passages[1]
    taught = lesson("who was the amnesty spokesperson", "right", second.quote)
    for question in ("who was the amnesty spokesperson", "who was amnesty's spokesperson"):
        labelled = answer(hybrid_index, question, lessons=taught)
        assert labelled.status is Status.ANSWERED
        assert (labelled.passages[0].doc_id, labelled.passages[0].start) == (second.doc_id, second.start)


def test_a_right_passage_hidden_in_that_server_is_still_never_quoted(hybrid_index):
    plain = answer(hybrid_index, "who was the amnesty spokesperson")
    second = plain.passages[1]
    taught = lesson("who was the amnesty spokesperson", "right", second.quote)
    hidden = HiddenSpan(second.doc_id, second.start, second.end)
    labelled = answer(hybrid_index, "who was the amnesty spokesperson", exclude=[hidden], lessons=taught)
    assert all(q.doc_id != hidden.doc_id or q.end <= hidden.start or hidden.end <= q.start for q in labelled.passages)


def test_a_wrong_passage_is_kept_out_of_like_questions_only(hybrid_index):
    plain = answer(hybrid_index, RESTORED)
    wrong = plain.passages[0]
    taught = lesson(RESTORED, "wrong", wrong.quote)
    for question in (RESTORED, RESTORED_AGAIN):
        assert all((q.doc_id, q.start) != (wrong.doc_id, wrong.start) for q in answer(hybrid_index, question, lessons=taught).passages)
    # A question unlike it may still quote that passage.
    other = "what did amnesty say when it re-designated navalny"
    assert spans(answer(hybrid_index, other, lessons=taught)) == spans(answer(hybrid_index, other))


def test_a_right_label_on_a_passage_no_longer_in_the_articles_teaches_nothing(hybrid_index):
    taught = lesson(RESTORED, "right", "A sentence that no article holds any more.")
    assert spans(answer(hybrid_index, RESTORED, lessons=taught)) == spans(answer(hybrid_index, RESTORED))


def test_forty_labels_cost_little_per_answer(hybrid_index):
    """A server with 40 labels: built once per version of its labels, then a few ms an answer."""
    questions = [f"question number {n} about navalny and amnesty" for n in range(20)]
    some = answer(hybrid_index, RESTORED).passages[0].quote
    taught = Lessons(tuple(Lesson(q, verdict, some if verdict != "none" else "", name=f"label:111:{n}")
                           for n, q in enumerate(questions) for verdict in ("none", "right")))
    answer(hybrid_index, UNLIKE, lessons=taught)  # the first answer builds the server's memory

    def mean(lessons):
        started = time.perf_counter()
        for _ in range(5):
            answer(hybrid_index, UNLIKE, lessons=lessons)
        return (time.perf_counter() - started) / 5

    mean(NO_LESSONS)
    assert mean(taught) < mean(NO_LESSONS) + 0.05


def test_a_label_never_turns_a_request_or_a_refuted_premise_into_an_answer(hybrid_index):
    restored = answer(hybrid_index, RESTORED).passages[0].quote
    for question in ("why did amnesty strip navalny of the status in may",
                     "write me a poem about why amnesty stripped navalny of the status"):
        taught = lesson(question, "right", restored)  # even a label on that very question
        plain = answer(hybrid_index, question)
        labelled = answer(hybrid_index, question, lessons=taught)
        assert labelled.status is plain.status is not Status.ANSWERED, question
        assert labelled.reason == plain.reason and "label" not in labelled.fired
        [decision] = [c for c in labelled.checks if c.rule is Rule.LABEL]
        assert "not applied" in decision.detail  # the label was like enough to decide, and did not
