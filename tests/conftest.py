"""Shared fixtures: the real corpus, the real model (loaded once), and tiny hand-written corpora."""
from __future__ import annotations

import dataclasses
import functools
import shutil
from pathlib import Path

import pytest

from retrieval.answer import answer
from retrieval.articles import Article, Corpus, format_article, load_corpus
from retrieval.curation import sidebar_texts
from retrieval.embeddings import EmbeddingCache, dictionary_words, load_encoder
from retrieval.index import build_index
from retrieval.bank import load_bank
from retrieval.thesaurus import load_thesaurus

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    return load_corpus(CORPUS)


@pytest.fixture(scope="session")
def encoder():
    # The ONNX file exported from the packaged weights, kept where `storybot` keeps it (the
    # corpus's cache, named by the weights' hash): exported once per clone, not per session.
    return load_encoder(cache=CORPUS / ".cache")


@pytest.fixture(scope="session")
def hybrid_index(corpus, encoder):
    """The story's index reading the corpus's bank with the scorer fitted with it (as bot/engine.py builds it)."""
    bank = load_bank(CORPUS)
    index = build_index(
        corpus,
        encoder=encoder,
        # The cache `storybot index` fills: a session after the first embeds nothing, reads the
        # precedents' memory, and its vectors are the ones `storybot ask` answers from.
        cache=EmbeddingCache(CORPUS / ".cache" / "embeddings"),
        off_topic=sidebar_texts(corpus, CORPUS),
        dictionary=dictionary_words(),
        thesaurus=load_thesaurus(CORPUS),
        precedents=bank.precedents,
    )
    return dataclasses.replace(index, scorer=bank.scorer)


@pytest.fixture(scope="session")
def hybrid_answers(hybrid_index):
    """answer() on the story's index, each question answered once a session: the verbatim check
    over every set, the quality floors and others read the same questions."""
    return functools.lru_cache(maxsize=None)(lambda question: answer(hybrid_index, question))


@pytest.fixture(scope="session")
def unprecedented_index(hybrid_index):
    """The story's index without precedents: what the retrieval and the evidence do on their own
    (and what a corpus none of whose passages answers a precedent gets)."""
    return dataclasses.replace(hybrid_index, memory=None)


@pytest.fixture(scope="session")
def bm25_index(corpus):
    return build_index(corpus, encoder=None, dictionary=dictionary_words(), thesaurus=load_thesaurus(CORPUS))


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A copy of the corpus in a temp working directory, nothing else."""
    shutil.copytree(CORPUS, tmp_path / "corpus", ignore=shutil.ignore_patterns(".cache"))
    # The ONNX file exported from the packaged weights (named by their hash) is shared with the
    # repository's cache, so a test with the real model does not export it again; its vectors
    # and every other cache are the copy's own.
    (CORPUS / ".cache" / "onnx").mkdir(parents=True, exist_ok=True)
    (tmp_path / "corpus" / ".cache").mkdir()
    (tmp_path / "corpus" / ".cache" / "onnx").symlink_to(CORPUS / ".cache" / "onnx", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    for name in ("STORYBOT_CORPUS", "STORYBOT_CACHE", "STORYBOT_DB", "DISCORD_TOKEN", "STORYBOT_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STORYBOT_MODEL", "none")  # BM25 keeps these fast; hybrid is tested in test_answer
    return tmp_path


def write_corpus(folder: Path, *articles: Article) -> Path:
    """The articles as curated files; one that names no raw file gets its body as its raw
    file (raw/<id>.txt), as `corpus add` of a text file would, so it may be quoted."""
    folder.mkdir(parents=True, exist_ok=True)
    for article in articles:
        if article.raw is None:
            (folder / "raw").mkdir(exist_ok=True)
            (folder / "raw" / f"{article.id}.txt").write_text(f"{article.title}\n\n{article.body}\n", encoding="utf-8")
            article = dataclasses.replace(article, raw=f"raw/{article.id}.txt")
        (folder / f"{article.id}.md").write_text(format_article(article), encoding="utf-8")
    return folder


@pytest.fixture
def tiny_articles() -> tuple[Article, ...]:
    shared = "Amnesty said the remarks met the level of hate speech."
    return (
        Article(
            id="gazette-2021-02-24",
            title="Amnesty withdraws status",
            outlet="The Gazette",
            published="2021-02-24",
            body=f"Amnesty withdrew the prisoner of conscience status on Tuesday. {shared}\n\n"
            "Mr. Navalny was sentenced to 2.5 years in a U.S.-style colony, the court said.",
        ),
        Article(
            id="herald-2021-02-25",
            title="Navalny loses label",
            outlet="The Herald",
            published="2021-02-25",
            kind="opinion",
            body=f"{shared}\n\nSupporters of Alexeï Navalny were furious at the decision.",
        ),
    )
