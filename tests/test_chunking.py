"""Passages are sentence-aligned spans of the curated text."""
from __future__ import annotations

import numpy as np
import pytest

from retrieval.articles import Article
from retrieval.chunking import chunk_article, chunk_corpus, sentence_spans
from retrieval.tokenize import fold, tokenize


@pytest.mark.parametrize(
    ("paragraph", "sentences"),
    [
        ("Mr. Navalny was jailed. He got 2.5 years.", ["Mr. Navalny was jailed.", "He got 2.5 years."]),
        ("He called him a stooge of the U.S. government. RT agreed.", ["He called him a stooge of the U.S. government.", "RT agreed."]),
        ('They said it "met the level of hate speech." Then they left.', ['They said it "met the level of hate speech."', "Then they left."]),
        ("“We campaign daily. We will continue,” she said.", ["“We campaign daily. We will continue,” she said."]),
    ],
)
def test_sentences_survive_abbreviations_numbers_and_quotes(paragraph, sentences):
    assert [paragraph[s.start : s.end] for s in sentence_spans(paragraph)] == sentences


def test_a_lone_closing_quote_stays_with_its_sentence():
    paragraph = 'He told TV Rain: “Yes, they meet the level of ‘hate speech."'
    assert [paragraph[s.start : s.end] for s in sentence_spans(paragraph)] == [paragraph]


def test_every_passage_is_an_exact_span_of_its_article(corpus):
    for passage in chunk_corpus(corpus.articles):
        assert corpus.article(passage.doc_id).body[passage.start : passage.end] == passage.text
        assert passage.text == passage.text.strip() and passage.sentences in (1, 2)


def test_passages_are_one_or_two_sentences_and_never_a_fragment():
    article = Article(id="a", title="t", body="The reason? Past comments about immigrants amounted to hate speech.\n\nShort one.")
    texts = [p.text for p in chunk_article(article)]
    assert "The reason?" not in texts  # too short to stand alone...
    assert "The reason? Past comments about immigrants amounted to hate speech." in texts  # ...but opens a window


@pytest.mark.parametrize(
    ("a", "b"),
    [("Alexeï Navalny", "alexei navalny"), ("Navalny’s release", "Navalny release"), ("de-list", "delisting"), ("REVOKED", "revokes")],
)
def test_tokens_fold_case_diacritics_possessives_hyphens_and_inflection(a, b):
    assert set(tokenize(b)) <= set(tokenize(a)) or set(tokenize(a)) <= set(tokenize(b))
    assert set(tokenize(a)) & set(tokenize(b))


def test_question_words_are_not_evidence():
    assert tokenize("what why who when is the") == []
    assert fold("Alexeï") == "alexei"


@pytest.mark.parametrize("question", ["why was the status revoked", "Mandela apartheid", "hate speech hate", "nothing here xyz", ""])
def test_bm25_scores_are_rank_bm25s_own(question, bm25_index):
    bm25 = bm25_index.bm25
    expected = bm25.model.get_scores(bm25.query_tokens(question)) if bm25.query_tokens(question) else 0
    assert np.allclose(bm25.scores(question), expected)


def test_typos_are_read_as_corpus_words_but_real_words_are_left_alone(bm25_index):
    bm25 = bm25_index.bm25
    assert bm25.spell("hunger strke krivoshev") == "hunger strike krivosheev"
    assert bm25.spell("weather restored") == "weather restored"  # real words, though close to "whether", "resorted"


def test_sentence_spans_are_kept_on_disk_and_reused(tmp_path, corpus, monkeypatch):
    from retrieval import chunking

    first = chunk_corpus(corpus.articles, chunking.SentenceStore(tmp_path / "sentences.json"))
    monkeypatch.setattr(chunking, "sentence_spans", lambda paragraph: pytest.fail("split again"))
    assert chunk_corpus(corpus.articles, chunking.SentenceStore(tmp_path / "sentences.json")) == first
