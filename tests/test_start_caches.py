"""What a start reads instead of working out: the precedents' memory and the thesaurus's verb
forms. Read back, each gives exactly what working it out gives."""
from __future__ import annotations

import dataclasses

import numpy as np
from scipy import sparse

from retrieval.embedding_cache import EmbeddingCache
from retrieval.index import build_index
from retrieval.memory_cache import cached_forms
from retrieval.bank import load_bank
from retrieval.thesaurus import load_thesaurus

from test_answer import ALL_QUESTIONS
from conftest import CORPUS


def _same_memory(a, b) -> None:
    for field in dataclasses.fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if sparse.issparse(x):
            assert (x != y).nnz == 0 and x.shape == y.shape and x.dtype == y.dtype, field.name
        elif isinstance(x, np.ndarray):
            assert np.array_equal(x, y) and x.dtype == y.dtype, field.name
        elif not callable(x):
            assert x == y, field.name


def test_a_second_start_reads_the_precedents_memory_and_answers_alike(corpus, encoder, tmp_path, monkeypatch):
    cache = tmp_path / "emb"
    precedents = load_bank(CORPUS).precedents
    thesaurus = load_thesaurus(CORPUS)
    first = build_index(corpus, encoder=encoder, cache=EmbeddingCache(cache), thesaurus=thesaurus, precedents=precedents)
    [stored] = (cache / "precedents").glob("*.npz")
    built = []
    from retrieval import index as index_module

    original = index_module.precedent_memory
    monkeypatch.setattr(index_module, "precedent_memory", lambda *a: built.append(1) or original(*a))
    again = build_index(corpus, encoder=encoder, cache=EmbeddingCache(cache), thesaurus=thesaurus, precedents=precedents)
    assert built == [] and again.embedded == 0
    _same_memory(first.memory, again.memory)

    stored.write_bytes(b"not a numpy file")  # damaged: built again, never trusted
    rebuilt = build_index(corpus, encoder=encoder, cache=EmbeddingCache(cache), thesaurus=thesaurus, precedents=precedents)
    assert built == [1]
    _same_memory(first.memory, rebuilt.memory)

    fewer = build_index(corpus, encoder=encoder, cache=EmbeddingCache(cache), thesaurus=thesaurus, precedents=precedents[:100])
    assert built == [1, 1] and len(fewer.memory.precedents) == 100  # other precedents, another memory


def test_the_stored_verb_forms_read_every_question_as_lemminflect_does(tmp_path):
    thesaurus = load_thesaurus(CORPUS)
    forms = cached_forms(tmp_path, thesaurus.groups)
    assert cached_forms(tmp_path, thesaurus.groups) == forms and len(forms) > 100
    ahead = dataclasses.replace(thesaurus, forms=forms)
    assert [ahead.in_story_words(q) for q in ALL_QUESTIONS] == [thesaurus.in_story_words(q) for q in ALL_QUESTIONS]
    assert ahead.in_story_words("when did they take it away") == "when did they strip it"
