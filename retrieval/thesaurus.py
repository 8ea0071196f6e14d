"""The story's thesaurus: the words people use for what the articles say in other words.

Members ask "when did amnesty restore the title"; the article says it "re-designated" him
as a prisoner of conscience. Neither BM25 nor a small embedding model bridges that, so the
corpus carries a list of equivalent terms (corpus/thesaurus.txt, curated with the articles,
like a search engine's synonym file). A term found in a question is searched as any of its
group: BM25 counts a passage holding an equivalent, and the words aligned with passages are
the articles' own (the group's first term).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from retrieval.errors import MalformedThesaurus
from retrieval.tokenize import stem, words

FILE_NAME = "thesaurus.txt"


@dataclass(frozen=True)
class Expansion:
    """A term found in a question and the terms that mean the same in the story."""

    term: str
    alternatives: tuple[str, ...]


@lru_cache(maxsize=4096)
def _pattern(term: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in words(term))


@dataclass(frozen=True)
class Thesaurus:
    groups: tuple[tuple[str, ...], ...] = ()

    @cached_property
    def _terms_by_first_stem(self) -> dict[str, list[tuple[tuple[str, ...], tuple[str, ...], str]]]:
        """(stemmed pattern, group, term) of every term, by the pattern's first stem: worked
        out once, not for every question."""
        index: dict[str, list[tuple[tuple[str, ...], tuple[str, ...], str]]] = defaultdict(list)
        for group in self.groups:
            for term in group:
                pattern = _pattern(term)
                index[pattern[0]].append((pattern, group, term))
        return dict(index)

    def _found(self, question: str) -> list[tuple[int, int, tuple[str, ...], str]]:
        """(start word, word count, group, term) of every term in the question's words(),
        longest first, none overlapping another already taken."""
        stems = [stem(w) for w in words(question)]
        hits = [
            (start, len(pattern), group, term)
            for start, first in enumerate(stems)
            for pattern, group, term in self._terms_by_first_stem.get(first, ())
            if tuple(stems[start : start + len(pattern)]) == pattern
        ]
        taken: set[int] = set()
        found = []
        for start, length, group, term in sorted(hits, key=lambda h: (-h[1], h[0])):
            span = set(range(start, start + length))
            if not span & taken:
                taken |= span
                found.append((start, length, group, term))
        return sorted(found, key=lambda f: f[0])

    def expansions(self, question: str) -> tuple[Expansion, ...]:
        """Each term found and its group's other terms; a form of the same word ("revoke" for
        "revoked") is no alternative, BM25 already matches it."""
        return tuple(
            Expansion(term, tuple(t for t in group if _pattern(t) != _pattern(term)))
            for _, _, group, term in self._found(question)
        )

    def in_story_words(self, question: str) -> str:
        """The question with each term found replaced by its group's first term (the word the
        articles use); the rest of the question, punctuation and all, as it was."""
        found = self._found(question)
        if not found:
            return question
        # Which whitespace-separated chunk each of words()'s words comes from, so a term is
        # replaced in the text as written ("anti-corruption" is three words but one chunk).
        chunks = question.split()
        owner = [n for n, chunk in enumerate(chunks) for _ in words(chunk)]
        replaced: dict[int, str] = {}
        dropped: set[int] = set()
        for start, length, group, _ in found:
            first, last = owner[start], owner[start + length - 1]
            span = set(range(first, last + 1))
            if span & (dropped | set(replaced)):
                continue
            replaced[first] = group[0]
            dropped |= span - {first}
        return " ".join(replaced.get(n, chunk) for n, chunk in enumerate(chunks) if n not in dropped)


def parse_thesaurus(text: str, source: object = FILE_NAME) -> Thesaurus:
    """One group a line: comma-separated terms, the articles' own word first; # starts a comment.
    A term may stand in one group only: which group "rules" meant would depend on line order."""
    groups = []
    owners: dict[tuple[str, ...], tuple[int, str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        terms = tuple(t.strip() for t in line.split(","))
        if any(not words(t) for t in terms):
            raise MalformedThesaurus(source, number, f"an empty term in {line!r}")
        if len(terms) < 2:
            raise MalformedThesaurus(source, number, f"{line!r} names one term; a group needs two or more")
        for term in terms:
            other = owners.setdefault(_pattern(term), (number, term))
            if other[0] != number:
                raise MalformedThesaurus(source, number, f"{term!r} is already in the group of line {other[0]} (as {other[1]!r})")
        groups.append(terms)
    return Thesaurus(tuple(groups))


def load_thesaurus(corpus_folder: Path | str) -> Thesaurus:
    """The corpus's thesaurus, or an empty one when the corpus has none."""
    path = Path(corpus_folder) / FILE_NAME
    if not path.is_file():
        return Thesaurus()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise MalformedThesaurus(path, 0, "not UTF-8 text") from None
    return parse_thesaurus(text, path)
