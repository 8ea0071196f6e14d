"""Precedents: the questions the scorer was fitted on, kept as evidence for new questions."""
from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest

from retrieval.answer import Status, answer, normalise_question
from retrieval.gathering import encode, gather, read_question
from retrieval.articles import Article, load_corpus
from retrieval.bank import load_bank
from retrieval.embeddings import EmbeddingCache
from retrieval.evaluation import EvalQuestion
from retrieval.evidence import PASSAGE_FEATURES
from retrieval.index import HiddenSpan, build_index
from retrieval.policy import DEFAULT_POLICY
from retrieval.precedents import (
    BadPrecedents,
    Precedent,
    article_key,
    group_of,
    load_precedents,
    write_precedents,
)
from retrieval.scorer import load_scorer
from retrieval.thesaurus import load_thesaurus
from retrieval.scorer_fit import fit, precedents_of, with_precedents

from conftest import CORPUS, write_corpus

PRECEDENT = PASSAGE_FEATURES.index("precedent")


def _evidence(index, question, leave_out=None, exclude=(), policy=DEFAULT_POLICY):
    text = normalise_question(question)
    analysed, read = read_question(index, text, policy)
    vectors, pieces = encode(index, [read], policy)
    return gather(index, text, analysed, read, vectors, pieces, 0, policy, exclude, leave_out=leave_out)


def _answered_precedent(evidence, index, phrase):
    """The `precedent` feature of the candidate holding `phrase` (0 when no candidate does)."""
    k = next((k for k, i in enumerate(evidence.candidates) if phrase in index.passages[i].text), None)
    return 0.0 if k is None else evidence.features[k, PRECEDENT]


@pytest.fixture(scope="module")
def remembering(hybrid_index):
    """The story's index reading three precedents of one writer."""
    precedents = (
        Precedent("why did amnesty take away his status?", "answerable", ("anti-migrant comments he made in the 2000s",), "mine:a"),
        Precedent("when did navalny die", "story_unanswered", (), "mine:a"),
        Precedent("write me a poem", "request", (), "mine:a"),
    )
    return with_precedents(hybrid_index, precedents)


def test_a_paraphrase_of_an_answered_question_points_at_the_passage_that_answered_it(remembering):
    phrase = "anti-migrant comments he made in the 2000s"
    near = _evidence(remembering, "what made amnesty take away his status")
    far = _evidence(remembering, "how many people signed the petition")
    assert _answered_precedent(near, remembering, phrase) > 0.5
    assert _answered_precedent(near, remembering, phrase) > 2 * _answered_precedent(far, remembering, phrase)
    # A question never reads its own writer's precedents (as when fitting).
    assert _answered_precedent(_evidence(remembering, "what made amnesty take away his status", "mine:a"), remembering, phrase) == 0


def test_a_passage_that_answered_a_like_question_is_a_candidate_even_when_retrieval_misses_it(hybrid_index, unprecedented_index):
    # With the base MiniLM, BM25 and the cosine put "Days after losing an appeal ..." past the 30
    # candidates for this question; the tuned encoder finds it, but not among the first few.
    # The fitted-on questions much like it name that passage.
    question = "what went on in court for navalny shortly before amnesty dropped him"  # no precedent's words
    assert question not in {p.question for p in load_precedents(CORPUS / "precedents.jsonl")}
    few = dataclasses.replace(DEFAULT_POLICY, candidates=2)
    without = _evidence(unprecedented_index, question, policy=few)
    assert not any("losing an appeal" in unprecedented_index.passages[i].text for i in without.candidates)
    remembered = _evidence(hybrid_index, question, policy=few)
    assert any("losing an appeal" in hybrid_index.passages[i].text for i in remembered.candidates)
    assert "losing an appeal" in answer(hybrid_index, question).passages[0].quote


def test_a_precedent_answered_only_by_passages_a_server_hid_counts_as_unanswered_there(hybrid_index):
    question = "how old is navalny"  # a precedent; "44" is in two passages
    spans = [HiddenSpan(p.doc_id, p.start, p.end) for p in hybrid_index.passages if "44" in p.text]
    seen = _evidence(hybrid_index, question)
    hidden = _evidence(hybrid_index, question, exclude=spans)
    assert seen.precedent_answered > 0.9 > hidden.precedent_answered
    assert hidden.precedent_unanswered > 0.9
    result = answer(hybrid_index, question, exclude=spans)
    assert not any("44" in q.quote for q in result.passages) and result.status is not Status.ANSWERED


def test_likeness_needs_the_deciding_words_not_only_the_topic(remembering):
    # "die" is rare in the articles, so it decides: the unanswered precedent is the nearer one.
    evidence = _evidence(remembering, "When did Navalny die in prison?")
    assert evidence.precedent_unanswered > 0.5 > evidence.precedent_answered


def test_precedents_are_answered_by_gold_phrases_in_the_passages_as_loaded(remembering):
    memory = remembering.memory
    assert memory.answered.tolist() == [True, False, False]
    assert memory.story.tolist() == [True, True, False]
    (passage,) = np.flatnonzero(memory.answers[0].toarray())
    assert "anti-migrant comments" in remembering.passages[passage].text


def test_an_index_whose_articles_answer_no_precedent_answers_without_them(tmp_path, tiny_articles, encoder):
    precedents = (Precedent("who founded the gazette?", "answerable", ("founded in 1850 by",), "mine:a"),)
    index = build_index(load_corpus(write_corpus(tmp_path / "c", *tiny_articles)), encoder=encoder, precedents=precedents)
    assert index.memory is None
    result = answer(index, "why was the status withdrawn?")
    assert result.passages and result.status.value in ("answered", "uncertain")


def test_the_committed_precedents_load_and_name_their_writers():
    precedents = load_precedents(CORPUS / "precedents.jsonl")
    assert len(precedents) >= 500
    assert {p.category for p in precedents} == {"answerable", "story_unanswered", "off_topic", "request"}
    assert all(p.gold for p in precedents if p.category == "answerable")
    # A writer is a set, or the part of its ids before a dash.
    assert group_of("tests/data/dev.jsonl", "d2-017") == "dev:d2"
    assert group_of("tests/data/dev.jsonl", "a01") == group_of("tests/data/dev.jsonl", "o07") == "dev"


def test_a_damaged_precedents_file_is_refused_by_line(tmp_path):
    path = tmp_path / "precedents.jsonl"
    write_precedents(path, [Precedent("why?", "answerable", ("a b c",), "x:a")])
    assert load_precedents(path)[0].gold == ("a b c",)
    path.write_text(path.read_text(encoding="utf-8") + '{"question": "hi"}\n', encoding="utf-8")
    with pytest.raises(BadPrecedents, match=r"precedents.jsonl:2"):
        load_precedents(path)
    path.write_text('{"question": "hi", "category": "gossip", "gold": [], "group": "x"}\n', encoding="utf-8")
    with pytest.raises(BadPrecedents, match="gossip"):
        load_precedents(path)
    path.write_text('{"question": "why?", "category": "answerable", "gold": [" "], "group": "x"}\n', encoding="utf-8")
    with pytest.raises(BadPrecedents, match="no gold phrase"):
        load_precedents(path)
    assert load_precedents(tmp_path / "absent.jsonl") == ()


def test_fitting_writes_the_weights_with_a_plain_twin_and_the_precedents(hybrid_index, tmp_path):
    story = [
        EvalQuestion("a1", "why was the status withdrawn?", ("anti-migrant comments he made in the 2000s",)),
        EvalQuestion("a2", "when was the status restored?", ("re-designated",)),
        EvalQuestion("u1", "when did navalny die?", (), "story_unanswered"),
        EvalQuestion("u2", "which hospital treated him?", (), "story_unanswered"),
        EvalQuestion("o1", "who won the cup final?", (), "off_topic"),
        EvalQuestion("o2", "best pasta recipe", (), "off_topic"),
    ]
    other = [dataclasses.replace(q, id=f"b{q.id}") for q in story]
    scorer = fit(hybrid_index, {"one.jsonl": story, "two.jsonl": other}, tmp_path)
    assert scorer.plain is not None and scorer.fitted_on == ("one.jsonl", "two.jsonl")
    assert load_scorer(tmp_path / "scorer.json").plain is not None
    assert [p.group for p in load_precedents(tmp_path / "precedents.jsonl")] == ["one"] * 6 + ["two"] * 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precedents.jsonl", "scorer.json"]  # nothing left aside
    assert precedents_of({"one.jsonl": story})[0].question == "why was the status withdrawn?"


CHARITE = Article(
    id="dw-2020-09-23",
    title="Navalny leaves the Charité",
    outlet="DW",
    published="2020-09-23",
    body="Alexei Navalny was treated at the Charité hospital in Berlin for 32 days after he was poisoned in August.\n\n"
    "Doctors at the Charité said his condition had improved enough for him to be discharged.",
)


@pytest.fixture(scope="module")
def with_new_article(corpus, encoder, tmp_path_factory):
    """The story's five articles and a sixth added after the bank was labelled, reading the bank."""
    folder = tmp_path_factory.mktemp("grown") / "corpus"
    shutil.copytree(CORPUS, folder, ignore=shutil.ignore_patterns(".cache"))
    write_corpus(folder, CHARITE)
    bank = load_bank(CORPUS)

    def index(precedents):
        built = build_index(load_corpus(folder), encoder=encoder, cache=EmbeddingCache(folder / ".cache"), precedents=precedents,
                            thesaurus=load_thesaurus(folder))
        return dataclasses.replace(built, scorer=bank.scorer)

    return bank, index


def test_a_new_article_answers_questions_the_bank_labelled_unanswered(with_new_article):
    bank, index = with_new_article
    question = "which hospital in berlin treated navalny"
    # The bank says nothing of the five articles answers this ...
    unanswered = [p for p in bank.precedents if p.category == "story_unanswered" and "hospital" in p.question.lower()]
    assert unanswered and all(p.against for p in unanswered)
    # ... which is not said of an article added since: its passage is answered.
    grown = index(bank.precedents)
    result = answer(grown, question)
    assert result.status is Status.ANSWERED and "Charité hospital in Berlin" in result.passages[0].quote
    # Were the bank's "nothing answered this" read as said of every article, it would count
    # against the new passage.
    everywhere = index(tuple(dataclasses.replace(p, against=()) for p in bank.precedents))
    assert answer(everywhere, question).status is not Status.ANSWERED


def test_an_article_changed_since_the_bank_was_labelled_is_not_one_it_speaks_of(with_new_article):
    bank, index = with_new_article
    grown = index(bank.precedents)
    passages = [i for i, p in enumerate(grown.passages) if p.doc_id == CHARITE.id][:1]
    known = [i for i, p in enumerate(grown.passages) if p.doc_id != CHARITE.id][:1]
    assert grown.memory.unlabelled(passages).tolist() == [1.0] and grown.memory.unlabelled(known).tolist() == [0.0]
    assert article_key(CHARITE) != article_key(dataclasses.replace(CHARITE, body=CHARITE.body + " More."))
