"""A question that turns on a name the articles never use is not answered, and says whom."""
from __future__ import annotations

import pytest

from retrieval.answer import Status, answer
from retrieval.names import acronyms, unknown_names

STORY_WORDS = {"amnesty", "navalny", "kremlin", "spokesman", "decision", "putin"}


def known(word: str) -> bool:
    return word in STORY_WORDS or {"navalni": "navalny"}.get(word) in STORY_WORDS


def test_words_neither_the_articles_nor_english_use_are_names_and_a_run_of_them_is_one():
    question = "What did Kremlin spokesman Dmitry Peskov say about Amnesty's decision?"
    (name,) = unknown_names(question, known)
    assert (name.text, question[name.start : name.end]) == ("Dmitry Peskov", "Dmitry Peskov")
    assert [n.text for n in unknown_names("did tyson, paul or putin fight", known)] == ["tyson", "paul"]


@pytest.mark.parametrize(
    "question",
    [
        "why did navalni lose it",  # a typo of an article word
        "what did amnesty say about him lol",  # chat
        "how many ppl signed, isnt it 200000",
        "who won in 2018",  # a number is no name
        "what did the headquarters decide",  # an English word the articles lack is for the other checks
    ],
)
def test_typos_chat_numbers_and_english_words_are_not_names(question):
    assert unknown_names(question, known) == ()


@pytest.mark.parametrize(
    ("question", "name"),
    [
        ("What did Kremlin spokesman Dmitry Peskov say about Amnesty's decision?", "Dmitry Peskov"),
        # "navalnaya" reads as a typo of "navalny"; "yulia" alone is unknown.
        ("what did yulia navalnaya say about amnesty stripping him", "yulia"),
    ],
)
def test_a_question_about_someone_the_articles_never_name_is_not_answered(hybrid_index, question, name):
    result = answer(hybrid_index, question)
    assert result.status is not Status.ANSWERED
    assert "unknown_name" in result.fired and f"never mention {name}" in (result.reason or "")


@pytest.mark.parametrize(
    ("question", "quoted"),
    [
        ("so what did navalny actually say that got him in trouble lol", "Navalny"),
        ("what did the afp say about amnesty", "Agence France-Presse"),  # the initials of a name they use
        ("according to cnn amnesty restored his status, is that true?", "re-designated"),  # a name by the way
    ],
)
def test_a_question_that_does_not_turn_on_an_unknown_name_is_answered(hybrid_index, question, quoted):
    result = answer(hybrid_index, question)
    assert any(quoted in q.quote for q in result.passages), [q.quote for q in result.passages]


def test_acronyms_are_the_initials_of_capitalised_names():
    found = acronyms("Asked by Agence France-Presse, Amnesty International explains.")
    assert found["afp"] == "Agence France-Presse" and found["ai"] == "Amnesty International"
    assert "fpai" not in found  # a comma between: two names


def test_the_articles_acronyms_are_searched_as_their_names(hybrid_index):
    assert hybrid_index.thesaurus.in_story_words("what did afp say") == "what did Agence France-Presse say"
