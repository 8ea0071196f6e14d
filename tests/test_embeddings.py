"""The embedding cache: a restart embeds nothing, a new article embeds only its passages."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from retrieval.articles import Article, load_corpus
from retrieval.embeddings import BASE_MODEL, EmbeddingCache, Encoder, load_encoder, resolve_model
from retrieval.index import build_index

from conftest import write_corpus


def counting_encoder(name: str = "test-model"):
    seen: list[str] = []

    def encode(texts):
        seen.extend(texts)
        rng = [np.random.default_rng(abs(hash(t)) % 2**32).normal(size=8) for t in texts]
        return np.array([v / np.linalg.norm(v) for v in rng], dtype=np.float32)

    return Encoder(name, encode), seen


def test_a_restart_embeds_nothing_and_a_new_article_only_its_passages(tmp_path, tiny_articles):
    folder = write_corpus(tmp_path / "corpus", *tiny_articles)
    cache = EmbeddingCache(tmp_path / "cache")
    encoder, seen = counting_encoder()
    first = build_index(load_corpus(folder), encoder=encoder, cache=cache)
    assert first.embedded == len(seen) > 0

    seen.clear()
    again = build_index(load_corpus(folder), encoder=encoder, cache=EmbeddingCache(tmp_path / "cache"))
    assert again.embedded == 0 and seen == []
    assert np.array_equal(again.dense.matrix, first.dense.matrix)

    extra = Article(id="extra-2021-05-07", title="Restored", body="Amnesty restored the status in May after a review.")
    write_corpus(folder, extra)
    grown = build_index(load_corpus(folder), encoder=encoder, cache=EmbeddingCache(tmp_path / "cache"))
    assert grown.embedded == len(seen) > 0
    assert all("restored the status" in text for text in seen)


def test_the_cache_is_kept_per_model(tmp_path, tiny_articles):
    corpus = load_corpus(write_corpus(tmp_path / "corpus", *tiny_articles))
    cache = EmbeddingCache(tmp_path / "cache")
    build_index(corpus, encoder=counting_encoder("model-a")[0], cache=cache)
    other, seen = counting_encoder("model-b")
    assert build_index(corpus, encoder=other, cache=cache).embedded == len(seen) > 0


def test_a_damaged_cache_file_is_rebuilt(tmp_path, tiny_articles):
    corpus = load_corpus(write_corpus(tmp_path / "corpus", *tiny_articles))
    encoder, seen = counting_encoder()
    build_index(corpus, encoder=encoder, cache=EmbeddingCache(tmp_path / "cache"))
    for f in (tmp_path / "cache").glob("*.npz"):
        f.write_bytes(b"not a numpy file")
    seen.clear()
    assert build_index(corpus, encoder=encoder, cache=EmbeddingCache(tmp_path / "cache")).embedded == len(seen) > 0


def test_the_packaged_model_loads_from_its_package_with_no_network(encoder, tmp_path):
    assert resolve_model(BASE_MODEL).endswith("model")
    # The story's tuning is merged into the cache folder given, never into the package.
    tuned = Path(resolve_model(None, tmp_path / "models"))
    assert tuned.parent == tmp_path / "models" and tuned.name.startswith("minilm-storybot-")
    vectors = encoder.encode(["prisoner of conscience", "a prisoner of conscience"])
    assert vectors.shape == (2, 384)
    assert float(vectors[0] @ vectors[1]) > 0.8


def test_one_build_reads_the_cache_file_once(tmp_path, tiny_articles, monkeypatch):
    corpus = load_corpus(write_corpus(tmp_path / "corpus", *tiny_articles))
    encoder, _ = counting_encoder()
    build_index(corpus, encoder=encoder, cache=EmbeddingCache(tmp_path / "cache"), off_topic=["Boxing: a big fight"])
    reads = []
    original = EmbeddingCache._read
    monkeypatch.setattr(EmbeddingCache, "_read", lambda self, model: reads.append(model) or original(self, model))
    index = build_index(corpus, encoder=encoder, cache=EmbeddingCache(tmp_path / "cache"), off_topic=["Boxing: a big fight"])
    assert reads == ["test-model"] and index.embedded == 0  # passages, headline views and sidebars from one read


def counting_token_encoder(name: str = "token-model"):
    plain, seen = counting_encoder(name)

    def encode_tokens(texts, skip=frozenset()):
        vectors = plain.encode(texts)
        return vectors, [np.stack([v, -v]) for v in vectors]

    return Encoder(name, plain.encode, encode_tokens), seen


def test_word_vectors_are_cached_and_cost_no_second_pass(tmp_path, tiny_articles):
    corpus = load_corpus(write_corpus(tmp_path / "corpus", *tiny_articles))
    encoder, seen = counting_token_encoder()
    first = build_index(corpus, encoder=encoder, cache=EmbeddingCache(tmp_path / "cache"))
    passages = [p.text for p in first.passages]
    assert set(passages) <= set(seen) and len(seen) == len(set(seen))  # no text run through the model twice
    seen.clear()
    again = build_index(corpus, encoder=encoder, cache=EmbeddingCache(tmp_path / "cache"))
    assert again.embedded == 0 and seen == []
    assert np.array_equal(again.dense.tokens.vectors, first.dense.tokens.vectors)
    assert again.dense.tokens.offsets.tolist() == [2 * n for n in range(len(passages) + 1)]


def test_a_truncated_word_vector_file_is_rebuilt(tmp_path, tiny_articles):
    corpus = load_corpus(write_corpus(tmp_path / "corpus", *tiny_articles))
    encoder, seen = counting_token_encoder()
    build_index(corpus, encoder=encoder, cache=EmbeddingCache(tmp_path / "cache"))
    for f in (tmp_path / "cache").glob("*.npz"):
        f.write_bytes(f.read_bytes()[:100])  # a zip cut short: BadZipFile, not a traceback
    seen.clear()
    assert build_index(corpus, encoder=encoder, cache=EmbeddingCache(tmp_path / "cache")).embedded == len(seen) > 0
