"""The story's thesaurus: members' words searched as the articles' words."""
from __future__ import annotations

import pytest

from retrieval.answer import Policy, Status, answer
from retrieval.articles import load_corpus
from retrieval.bm25 import SYNONYM_CREDIT, BM25Retriever
from retrieval.chunking import chunk_corpus
from retrieval.errors import MalformedThesaurus
from retrieval.thesaurus import load_thesaurus, parse_thesaurus

from test_cli import run
from conftest import write_corpus

STORY = parse_thesaurus(
    """
    # the articles' word first
    re-designated, restored, give back
    status, title, label
    take back, retract
    """
)


def test_a_term_is_found_whatever_its_ending_and_searched_as_its_group():
    (expansion,) = STORY.expansions("When was it restoring?")
    assert expansion.term == "restored" and expansion.alternatives == ("re-designated", "give back")


def test_the_model_reads_the_question_in_the_articles_words():
    assert STORY.in_story_words("When did Amnesty restore the title?") == "When did Amnesty re-designate the status"
    assert STORY.in_story_words("Why was he jailed?") == "Why was he jailed?"  # nothing found: unchanged
    # Hyphenated words are replaced or kept whole, as written.
    assert STORY.in_story_words("anti-corruption man's title, restored?") == "anti-corruption man's status re-designated"


def test_another_form_of_the_same_word_is_no_alternative():
    (expansion,) = parse_thesaurus("stripped, revoked, revoke").expansions("why was it revoked")
    assert expansion.alternatives == ("stripped",)


def test_a_term_in_two_groups_is_refused():
    with pytest.raises(MalformedThesaurus, match="line 2: 'rules' is already in the group of line 1"):
        parse_thesaurus("decided, ruled\npractices, rules\n")


def test_the_longest_term_wins_where_terms_overlap():
    thesaurus = parse_thesaurus("comments, remarks\ntake back, retract\nback, support")
    assert [e.term for e in thesaurus.expansions("did he take back his comments")] == ["take back", "comments"]


@pytest.mark.parametrize(
    "text, problem",
    [("status, title\nlonely\n", "line 2"), ("status, , title\n", "empty term"), ("status, !!\n", "empty term")],
)
def test_a_malformed_line_is_named(text, problem, tmp_path):
    (tmp_path / "thesaurus.txt").write_text(text, encoding="utf-8")
    with pytest.raises(MalformedThesaurus, match=problem) as caught:
        load_thesaurus(tmp_path)
    assert "thesaurus.txt" in str(caught.value)


def test_no_file_means_no_equivalents(tmp_path):
    assert load_thesaurus(tmp_path).expansions("restore the title") == ()


def test_bm25_credits_an_equivalent_less_than_the_word_itself(tmp_path, tiny_articles):
    passages = chunk_corpus(load_corpus(write_corpus(tmp_path, *tiny_articles)).articles)
    bm25 = BM25Retriever(passages)
    thesaurus = parse_thesaurus("withdrew, revoked")
    question = "why was the status revoked"
    plain = bm25.relative_scores(question)
    expanded = bm25.relative_scores(question, thesaurus.expansions(question))
    withdrew = next(i for i, p in enumerate(passages) if "withdrew" in p.text)
    assert expanded[withdrew] > plain[withdrew]
    exact = bm25.relative_scores("why was the status withdrew")
    assert expanded[withdrew] < exact[withdrew]
    assert 0 < SYNONYM_CREDIT < 1


def test_editing_the_thesaurus_changes_the_corpus_version(tmp_path, tiny_articles):
    folder = write_corpus(tmp_path, *tiny_articles)
    before = load_corpus(folder).version
    (folder / "thesaurus.txt").write_text("withdrew, revoked\n", encoding="utf-8")
    assert load_corpus(folder).version != before


@pytest.mark.parametrize(
    "question, quoted",
    [
        ("when did amnesty restore the title", "re-designated"),
        ("did amnesty admit it was wrong", "acknowledge that it made a “mistake”"),
        ("guns", "legalisation of firearms"),
    ],
)
def test_questions_in_other_words_than_the_articles_find_them(question, quoted, hybrid_index):
    result = answer(hybrid_index, question)
    assert any(quoted in q.quote for q in result.passages), [q.quote for q in result.passages]


def test_the_thesaurus_can_be_left_out_to_measure_it(hybrid_index):
    with_it = answer(hybrid_index, "when did amnesty restore the title")
    without = answer(hybrid_index, "when did amnesty restore the title", Policy(use_thesaurus=False))
    assert "re-designated" in with_it.passages[0].quote and with_it.status is Status.ANSWERED
    assert without.status is not Status.ANSWERED or "re-designated" not in without.passages[0].quote


def test_a_malformed_thesaurus_is_a_message_not_a_traceback(workdir, capsys):
    (workdir / "corpus" / "thesaurus.txt").write_text("status, title\nlonely\n", encoding="utf-8")
    code, _, err = run(capsys, "ask", "--no-audit", "mandela")
    assert code == 1 and "thesaurus.txt, line 2" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("question", "read"),
    [
        ("did amnesty ever give navalny the status back", "did amnesty ever re-designate navalny the status"),
        ("did he take the prisoner of conscience comments back?", "did he take back the prisoner of conscience comments"),
        # "back in January" is a time, not a giving back.
        ("what reason did amnesty give back in january", "what reason did amnesty give back in january"),
        ("did they give a reason at all", "did they give a reason at all"),  # no particle: no phrasal verb
    ],
)
def test_a_phrasal_verb_is_found_with_its_object_between(question, read):
    assert STORY.in_story_words(question) == read


def test_the_articles_word_takes_the_form_of_the_question_word():
    assert STORY.in_story_words("did they restore the title") == "did they re-designate the status"
    assert STORY.in_story_words("they restored the title") == "they re-designated the status"
    assert STORY.in_story_words("are they restoring the title") == "are they re-designating the status"
    # "title" could be a verb, but the articles' "status" is a noun and stays one.
    assert STORY.in_story_words("a title") == "a status"


def test_a_phrase_matches_every_form_of_its_verb_even_irregular_ones():
    thesaurus = parse_thesaurus("retracted, take back\nstripped, lost")
    assert thesaurus.in_story_words("has he ever taken back what he said") == "has he ever retracted what he said"
    assert thesaurus.in_story_words("he took it back") == "he retracted it"
    # A lone word is matched by its stem only: "lost" the title is stripped, "lose" an appeal is not.
    assert thesaurus.in_story_words("did he lose his appeal") == "did he lose his appeal"
