"""Loading what answers questions: the corpus, the model (or not), and the index."""
from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

from retrieval.articles import load_corpus
from retrieval.chunking import SentenceStore
from retrieval.curation import sidebar_texts
from retrieval.embeddings import EmbeddingCache, Encoder, dictionary_words, load_encoder
from retrieval.errors import ModelUnavailable
from retrieval.hiding import load_hidden
from retrieval.index import Index, build_index
from retrieval.bank import load_bank
from retrieval.promoted import load_promoted
from retrieval.provenance import unverified_spans
from retrieval.question_analysis import warm_up
from retrieval.thesaurus import load_thesaurus

from bot.settings import Settings

log = logging.getLogger(__name__)


def load_model(name: str, cache: Path | None = None) -> Encoder | None:
    """The encoder on ONNX Runtime (its exported file kept in `cache`, the settings' cache
    folder), or None (with one warning saying why) when answers must come from BM25."""
    # Nothing may reach a model hub at run time: there is no network here.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        encoder = load_encoder(name, cache=cache)
    except ModelUnavailable as exc:
        log.warning("answering from BM25 alone: %s", exc)
        return None
    # Here rather than in load(): the Discord bot, a reload and the benchmarks load the model
    # through this function and build the index themselves.
    one_blas_thread()
    return encoder


def build(settings: Settings, encoder: Encoder | None, *, warm: bool = True, precedents=None) -> Index:
    """The index of the corpus as it is on disk now, without the passages moderators hid and
    without any paragraph that is not word for word in its raw file (each logged at ERROR).
    `warm`: load the question reader's data now (for a process that answers many questions).
    `precedents`: read these rather than the corpus's bank (() for none)."""
    corpus = load_corpus(settings.corpus)
    bank = load_bank(settings.corpus) if precedents is None else None
    hidden = [entry.span for entry in load_hidden(settings.corpus)]
    thesaurus = load_thesaurus(settings.corpus)
    if warm:
        warm_up()  # the question reader's data, loaded with the index rather than in an answer
    index = build_index(
        corpus,
        encoder=encoder,
        cache=EmbeddingCache(settings.cache / "embeddings"),
        hidden=[*hidden, *unverified_spans(settings.corpus, corpus)],
        off_topic=sidebar_texts(corpus, settings.corpus) if encoder is not None else (),
        dictionary=dictionary_words(),
        sentences=SentenceStore(settings.cache / "sentences.json"),
        thesaurus=thesaurus,
        precedents=(bank.precedents if bank is not None else precedents) if encoder is not None else (),
    )
    # The labels the operator promoted to every server (retrieval/promoted.py).
    index = dataclasses.replace(index, promoted=load_promoted(settings.corpus))
    # The scorer fitted with the corpus's bank; with other precedents (a measurement's), the
    # caller brings its own.
    return dataclasses.replace(index, scorer=bank.scorer) if bank is not None else index


def load(settings: Settings, *, warm: bool = True) -> Index:
    # A missing or malformed corpus, hidden list or thesaurus fails before the slow model load.
    load_corpus(settings.corpus)
    load_hidden(settings.corpus)
    load_thesaurus(settings.corpus)
    load_bank(settings.corpus)
    load_promoted(settings.corpus)
    encoder = load_model(settings.model, settings.cache)
    return build(settings, encoder, warm=warm)


def one_blas_thread() -> None:
    """numpy's and scipy's BLAS (OpenBLAS) on one thread. The engine's matrices are small (a
    question against a few hundred rows), and OpenBLAS's idle threads spin on the cores the
    model's forward pass needs next (measured when that pass ran on torch's OpenMP threads): over blind8's
    questions in a loop, answer() took 44-50 ms a question with them and 17 ms without, the
    forward pass alone 9-11 ms."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


def warm(settings: Settings) -> Index:
    """`storybot index`: the index with every passage embedded (the embedding cache filled) and
    the sentence cache written, a bar on a terminal while the model works."""
    from bot import progress

    load_corpus(settings.corpus)
    load_thesaurus(settings.corpus)
    return build(settings, progress.with_progress(load_model(settings.model, settings.cache)))
