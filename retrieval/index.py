"""Everything a question is answered from, built once per corpus version."""
from __future__ import annotations

import dataclasses
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

import numpy as np

from retrieval.articles import Article, Corpus
from retrieval.bm25 import BM25Retriever
from retrieval.chunking import Passage, SentenceStore, chunk_corpus
from retrieval.dense import DenseRetriever
from retrieval.embedding_cache import EmbeddingCache
from retrieval.encoder import Encoder
from retrieval.memory_cache import cached_forms, cached_memory, memory_key
from retrieval.names import acronyms
from retrieval.lessons import NO_LESSONS, Lessons
from retrieval.precedents import Memory, Precedent, article_key, build_memory
from retrieval.question_text import normalise_question
from retrieval.thesaurus import Thesaurus
from retrieval.tokenize import words

if TYPE_CHECKING:
    from retrieval.lessons import Taught

log = logging.getLogger(__name__)

# Token matrices up to this many rows are kept as float32 too (~1.5 KB a row).
FLOAT32_ROWS = 500_000
# Servers whose lessons (retrieval/lessons.py) stay read against the index: each is the bank's
# memory again plus its labels (about 3 MB for the 1,910 precedents), rebuilt in well under a
# second when a server comes back (a forward pass for its labelled questions).
TAUGHT_KEPT = 32



class Mode:
    HYBRID = "hybrid"
    BM25 = "bm25"


@dataclass(frozen=True)
class HiddenSpan:
    """A span moderators decided must never be quoted."""

    doc_id: str
    start: int
    end: int

    def overlaps(self, passage: Passage) -> bool:
        return passage.doc_id == self.doc_id and passage.start < self.end and self.start < passage.end


@dataclass(frozen=True)
class Index:
    corpus: Corpus
    passages: tuple[Passage, ...]
    bm25: BM25Retriever
    dense: DenseRetriever | None
    embedded: int = 0  # passages that had to be run through the model while building
    # Unit vectors of text known not to be the story (sidebars of other headlines).
    off_topic: np.ndarray | None = None
    thesaurus: Thesaurus = Thesaurus()
    # The questions the scorer was fitted on, embedded (retrieval/precedents.py).
    memory: Memory | None = None
    # The fitted scorer that reads this index's evidence (retrieval/scorer.py); None: the
    # one shipped with the package.
    scorer: object | None = None
    # Labels the operator promoted to every server (corpus/promoted.jsonl: retrieval/promoted.py),
    # read with each server's own (retrieval/lessons.py).
    promoted: Lessons = NO_LESSONS

    @property
    def mode(self) -> str:
        return Mode.HYBRID if self.dense is not None else Mode.BM25

    @property
    def model(self) -> str | None:
        return self.dense.encoder.name if self.dense is not None else None

    def article(self, doc_id: str) -> Article:
        return self.corpus.article(doc_id)

    @cached_property
    def passage_outlets(self) -> tuple[str | None, ...]:
        """Each passage's outlet, in passage order."""
        return tuple(self.corpus.article(p.doc_id).outlet for p in self.passages)

    @cached_property
    def outlets(self) -> frozenset[str]:
        return frozenset(o for o in self.passage_outlets if o)

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        """Every word the articles use: text, titles, outlets, authors, and the thesaurus's terms
        (which include the initials of the articles' names: "afp", build_index())."""
        meta = " ".join(f"{a.title} {a.outlet or ''} {a.author or ''}" for a in self.corpus.articles)
        terms = " ".join(t for group in self.thesaurus.groups for t in group)
        return self.bm25.vocabulary | frozenset(words(meta)) | frozenset(words(terms))

    @cached_property
    def known_terms(self) -> frozenset[str]:
        """The words a reason never names as missing (retrieval/reason_words.py): the
        thesaurus's terms and the initials of the articles' names of any length ("ai" for
        Amnesty International), which the articles hold in other words."""
        terms = frozenset(w for group in self.thesaurus.groups for t in group for w in words(t))
        return terms | frozenset(corpus_acronyms(self.corpus))

    def reading(self, memory: Memory | None, scorer: object | None = None) -> "Index":
        """The same index reading other precedents (and the scorer fitted with them), keeping
        what it has worked out about its passages."""
        new = dataclasses.replace(self, memory=memory, scorer=scorer if scorer is not None else self.scorer)
        for name in ("word_lookups", "token_vectors", "passage_outlets", "outlets", "vocabulary"):
            if name in self.__dict__:
                new.__dict__[name] = self.__dict__[name]
        return new

    @cached_property
    def word_lookups(self) -> tuple[Callable[[str], bool], Callable[[str], str]]:
        """`knows` and BM25's typo correction of one word, remembered for this index: each
        runs difflib over the corpus's words, a few milliseconds for a word it does not know."""
        return lru_cache(maxsize=65536)(self.knows), lru_cache(maxsize=65536)(self.bm25.spell)

    @cached_property
    def token_vectors(self) -> np.ndarray:
        """The passages' word-piece vectors as float32 (kept as float16 on disk): converting
        the candidates' rows on every question cost more than the matrix product itself.
        Above FLOAT32_ROWS rows the float16 matrix is used as it is."""
        vectors = self.dense.tokens.vectors
        return vectors if len(vectors) > FLOAT32_ROWS else vectors.astype(np.float32)

    @cached_property
    def _taught(self) -> "OrderedDict":
        return OrderedDict()

    def taught(self, lessons) -> "Taught":
        """One server's lessons read against this index (retrieval/lessons.py), built once per
        version of its labels; the TAUGHT_KEPT servers asked last are kept."""
        from retrieval.lessons import teach

        found = self._taught.get(lessons.key)
        if found is None:
            found = self._taught[lessons.key] = teach(self, lessons)
            while len(self._taught) > TAUGHT_KEPT:
                self._taught.popitem(last=False)
        self._taught.move_to_end(lessons.key)
        return found

    def knows(self, word: str) -> bool:
        """Is `word` (a words() word) one the articles use, or a typo of one?"""
        vocabulary = self.vocabulary
        return word in vocabulary or all(w in vocabulary for w in words(self.bm25.spell(word)))


def precedent_weight(bm25: BM25Retriever) -> Callable[[str], float]:
    """How much a stem says when comparing two questions: its IDF in the articles (as BM25
    weighs it, at least 0.05), so "navalny" says little and "die" a lot."""
    return lambda stem: max(bm25.idf(stem), 0.05)


def precedent_memory(precedents: Sequence[Precedent], passages: Sequence[Passage], bm25: BM25Retriever,
                     thesaurus: Thesaurus, embed: Callable[[list[str]], np.ndarray], corpus: Corpus | None = None) -> Memory | None:
    """The precedents read as answer() reads a question (in the articles' words), embedded by
    `embed`, with the passages answering each; None when no passage answers any of them.
    `corpus`: the articles, to tell which of them each precedent was labelled against."""
    read = [thesaurus.in_story_words(normalise_question(p.question)) for p in precedents]
    articles = {a.id: article_key(a) for a in corpus.articles} if corpus is not None else None
    memory = build_memory(precedents, read, embed(read), passages, precedent_weight(bm25), bm25.passages_with, articles)
    if not memory.answered.any():
        # Questions about another story: the scorer fitted without precedents reads this one.
        log.info("none of the %d precedents is answered by these articles; answering without them", len(precedents))
        return None
    return memory


def corpus_acronyms(corpus: Corpus) -> dict[str, str]:
    """The initials of the articles' capitalised names ("afp"), each with its name."""
    found: dict[str, str] = {}
    for article in corpus.articles:
        for text in (article.title, article.outlet or "", article.author or "", article.body):
            for acronym, name in acronyms(text).items():
                found.setdefault(acronym, name)
    return found


def build_index(
    corpus: Corpus,
    *,
    encoder: Encoder | None,
    cache: EmbeddingCache | None = None,
    hidden: Iterable[HiddenSpan] = (),
    off_topic: Sequence[str] = (),
    dictionary: frozenset[str] = frozenset(),
    sentences: SentenceStore | None = None,
    thesaurus: Thesaurus = Thesaurus(),
    precedents: Sequence[Precedent] = (),
) -> Index:
    """Chunk, drop hidden spans, and build BM25 and (given an encoder) the dense index.

    `off_topic` texts (the sidebars cut from the raw articles) let answer() recognise a
    question about something that merely stood next to the story. `dictionary` holds real
    words that BM25's typo correction must leave alone. `thesaurus` says which words of a
    question the articles use other words for. `precedents` are the labelled questions the
    scorer reads as evidence (embedded here, as answer() reads a question)."""
    hidden = tuple(hidden)
    passages = tuple(p for p in chunk_corpus(corpus.articles, sentences) if not any(h.overlaps(p) for h in hidden))
    dense = None
    embedded = 0
    negatives = None
    if encoder is not None:
        cache = cache or EmbeddingCache(None)
        titles = [corpus.article(p.doc_id).title for p in passages]
        dense = DenseRetriever(passages, encoder, cache, contexts=titles)
        embedded = dense.embedded
        if off_topic:
            negatives = cache.embed(encoder, list(off_topic))
            embedded += cache.encoded_last
    log.info("indexed %d passages of %d articles (%d embedded now)", len(passages), len(corpus.articles), embedded)
    bm25 = BM25Retriever(passages, dictionary=dictionary)
    # "AFP" is searched as the "Agence France-Presse" the articles write (shorter initials are
    # too often something else).
    thesaurus = thesaurus.with_groups(
        (name, acronym) for acronym, name in corpus_acronyms(corpus).items() if len(acronym) >= 3 and acronym not in bm25.vocabulary
    )
    if cache is not None:
        thesaurus = dataclasses.replace(thesaurus, forms=cached_forms(
            cache.folder / "thesaurus-forms" if cache.folder is not None else None, thesaurus.groups))
    memory = None
    if encoder is not None and precedents:
        articles = {a.id: article_key(a) for a in corpus.articles}
        key = memory_key([encoder.cache_key, json.dumps([p.to_json() for p in precedents]),
                          json.dumps([[p.doc_id, p.start, p.end, p.text] for p in passages]),
                          json.dumps([list(group) for group in thesaurus.groups]), json.dumps(articles, sort_keys=True)])
        folder = cache.folder / "precedents" if cache.folder is not None else None
        cache.encoded_last = 0
        memory = cached_memory(folder, key, lambda: precedent_memory(
            precedents, passages, bm25, thesaurus, lambda texts: cache.embed(encoder, texts), corpus), precedent_weight(bm25))
        embedded += cache.encoded_last
    return Index(corpus, passages, bm25, dense, embedded, negatives, thesaurus, memory)
