"""Word-by-word alignment: each question word meets its most similar passage word."""
from __future__ import annotations

import numpy as np

from retrieval.alignment import TokenMatrix, alignment_scores
from retrieval.answer import Policy, Status, answer
from retrieval.tokenize import STOPWORDS

E = np.eye(4, dtype=np.float32)  # four orthogonal "words"


def test_a_passage_holding_every_question_word_aligns_fully_and_half_of_them_half():
    passages = TokenMatrix.stack([E[[0, 1, 2]], E[[0, 3]], E[[3]], np.zeros((0, 4), np.float32)], 4)
    question = E[[0, 1]]
    assert alignment_scores(question, passages, [0, 1, 2, 3]).tolist() == [1.0, 0.5, 0.0, 0.0]
    assert alignment_scores(question, passages, [1, 0]).tolist() == [0.5, 1.0]  # in the order asked
    assert alignment_scores(np.zeros((0, 4)), passages, [0]).tolist() == [0.0]


def test_stacked_passages_keep_their_own_rows():
    stacked = TokenMatrix.stack([E[[0]], E[[1, 2]]], 4)
    assert len(stacked) == 2 and stacked.offsets.tolist() == [0, 1, 3] and stacked.vectors.dtype == np.float16


def test_the_model_gives_sentence_and_word_vectors_in_one_pass(encoder):
    vectors, pieces = encoder.encode_tokens(["Why was the status revoked?", "Mandela"], STOPWORDS)
    assert np.allclose(vectors, encoder.encode(["Why was the status revoked?", "Mandela"]), atol=1e-5)
    assert len(pieces[0]) == 2  # "status", "revoked": no question word, stopword, punctuation or [CLS]
    assert np.allclose(np.linalg.norm(pieces[0], axis=1), 1.0, atol=1e-5)


def test_alignment_finds_what_the_sentence_vector_misses(unprecedented_index):
    # Without precedents: this question is one of them, and they would find the line anyway.
    index = unprecedented_index
    question = "What was the official legal reason for locking him up?"
    assert "for breaching probation" in answer(index, question).passages[0].quote
    # The thesaurus reads "locking him up" as "jailed"; without it, only alignment finds the line.
    aligned = answer(index, question, Policy(use_thesaurus=False))
    assert any("for breaching probation" in q.quote for q in aligned.passages)
    unaligned = answer(index, question, Policy(align=False, use_thesaurus=False))
    assert not any("for breaching probation" in q.quote for q in unaligned.passages)


def test_a_name_the_sentence_vector_barely_knows_is_answered_by_its_words(unprecedented_index):
    # Before the refit of the scorer (tests/test_scorer_reproducible.py) the same question went
    # unanswered without alignment; the refitted scorer finds it from BM25's words alone too.
    found = answer(unprecedented_index, "tv rain")
    assert found.status is Status.ANSWERED and "told TV Rain" in found.passages[0].quote
