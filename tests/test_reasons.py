"""Reasons a member can trust: only words that carry what was asked, in the member's spelling,
and a premise the articles contradict said so, with the passage that contradicts it."""
from __future__ import annotations

import re

import pytest

from retrieval.answer import Status, answer
from retrieval.checks import Rule
from retrieval.question_text import normalise_question
from retrieval.reason_words import nameable

# Words no reason may name, whatever the question: who is addressed, chat, generic words,
# and the short form of a name the articles use ("AI": Amnesty International).
FILLER = ("storybot", "bot", "ngl", "lol", "guy", "bro", "tbh", "pls", "particular", "service", "close", "row",
          "AI", "ai", "123456", "everyone", "like")


@pytest.mark.parametrize(
    "message",
    [
        "@storybot why did amnesty strip navalny of the status",
        "<@123456> who runs amnesty's office in moscow",
        "<@!123456> when was the status restored",
        "storybot, what did navalny say about migrants",
        "hey bot what did AI say about the racist remarks",
        "ngl why did they drop it",
        "ngl what did AI say about his videos",
        "lol guy what did the kremlin say about amnesty tbh",
        "bro pls who paid for navalny's lawyers",
        "did amnesty have a particular reason for this",
        "which particular hospital treated navalny",
        "what service did amnesty offer navalny",
        "was it a close call for amnesty",
        "what close ally of navalny spoke to amnesty",
        "why was there a row about the status",
        "what was the row with AI about",
        "@everyone which hospital treated navalny ngl",
        "hey storybot: which service reported on the hunger strike",
        "which prison colony is he in like rn",
    ],
)
def test_no_reason_names_filler(hybrid_index, message):
    result = answer(hybrid_index, message)
    shown = [result.reason or ""] + [c.reason for c in result.checks if c.fired and c.reason]
    for reason in shown:
        for word in FILLER:
            assert not re.search(rf"(?<![\w@]){re.escape(word)}(?!\w)", reason.replace("storybot doesn't", "")), (
                message, reason)


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("@storybot why was it withdrawn", "why was it withdrawn"),
        ("<@123456> <@&42> who is julie verhaar", "who is julie verhaar"),
        ("storybot, when was it restored", "when was it restored"),
        ("Hey bot: who is volkov", "who is volkov"),
        ("hey bot", "hey bot"),  # a greeting to the bot stays one, and is answered as one
        ("botany of siberia", "botany of siberia"),
    ],
)
def test_mentions_and_the_bot_addressed_by_name_are_not_part_of_the_question(typed, read):
    assert normalise_question(typed) == read


def test_the_recorded_question_is_the_message_as_typed(hybrid_index):
    assert answer(hybrid_index, "@storybot why was it withdrawn").question == "@storybot why was it withdrawn"


@pytest.mark.parametrize("word", ["ngl", "lol", "particular", "service", "row", "never", "first", "year", "2021", "like"])
def test_function_chat_and_generic_words_are_never_named(word):
    assert not nameable(word)


def test_a_short_form_or_term_the_story_knows_is_never_named(hybrid_index):
    assert "ai" in hybrid_index.known_terms  # the initials of Amnesty International
    assert not nameable("AI", hybrid_index.known_terms)
    assert nameable("founded", hybrid_index.known_terms)


def test_which_hospital_says_the_articles_name_none(hybrid_index):
    result = answer(hybrid_index, "which hospital treated navalny")
    assert result.status is Status.UNCERTAIN
    assert result.reason == "The articles don't name a hospital."


@pytest.mark.parametrize(
    ("question", "reason", "month"),
    [
        ("why did Amnesty strip him of the status in May?", "The articles date this to February 2021, not May.",
         "2021-02"),
        ("when did amnesty take the title away in may", "The articles date this to February 2021, not May.",
         "2021-02"),
        ("why did amnesty give the status back in february", "The articles date this to May 2021, not February.",
         "2021-05"),
        ("what made amnesty restore his status in February 2021?", "The articles date this to May 2021, not February.",
         "2021-05"),
        ("was navalny stripped of the title in 2020", "The articles date this to February 2021, not 2020.", "2021-02"),
        ("did amnesty take the title away in sept 2021", "The articles date this to February 2021, not September.",
         "2021-02"),
    ],
)
def test_a_premise_the_articles_contradict_is_uncertain_and_shows_the_passage_that_says_so(hybrid_index, question,
                                                                                           reason, month):
    result = answer(hybrid_index, question)
    assert result.status is Status.UNCERTAIN and result.reason == reason
    assert "premise" in result.fired
    # Shown: a passage of an article of the event's month, or one naming that month.
    name = reason.split("date this to ")[1].split()[0]
    assert any((q.published or "").startswith(month) or name in q.quote for q in result.passages)


@pytest.mark.parametrize(
    "question",
    [
        "why did Amnesty strip him of the status in February?",
        "why did amnesty strip navalny of the status",
        "when did amnesty restore the status",
        "what did amnesty say in may about stripping him in february",
    ],
)
def test_a_true_premise_stays_answered(hybrid_index, question):
    result = answer(hybrid_index, question)
    assert result.status is Status.ANSWERED, (result.reason, [c.detail for c in result.checks])
    assert "premise" not in result.fired


@pytest.mark.parametrize("question", ["why did amnesty restore his status in may", "was the status restored in may 2021",
                                      "did amnesty withdraw the status in 2021", "what did navalny say in may",
                                      # May is when it was said, not when the status was stripped:
                                      "in may what did amnesty admit about stripping him of the label",
                                      "what did navalny say in may when he was stripped"])
def test_a_month_that_agrees_with_the_articles_or_no_event_never_fires_the_premise_rule(hybrid_index, question):
    (premise,) = [c for c in answer(hybrid_index, question).checks if c.rule is Rule.PREMISE]
    assert not premise.fired and premise.reason is None, premise.detail


@pytest.mark.parametrize(("noun", "said"), [("hospital", "a hospital"), ("airport", "an airport"),
                                            ("officials", "any officials")])
def test_the_kind_missing_reason_is_grammatical(noun, said):
    from retrieval.checks import kind_check
    from retrieval.question_analysis import Kind, Question

    check = kind_check(Question(f"which {noun} was it", Kind.INSTANCE, noun), [False, False])
    assert check.fired and check.reason == f"The articles don't name {said}."


def test_the_function_words_are_scikit_learns_list_read_without_importing_it():
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from retrieval.reason_words import _function_words

    _function_words.cache_clear()
    assert _function_words() == frozenset(ENGLISH_STOP_WORDS)
