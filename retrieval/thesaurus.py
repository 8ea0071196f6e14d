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
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Iterable, Mapping

from lemminflect import getAllLemmas, getInflection, getLemma

from retrieval.errors import MalformedThesaurus
from retrieval.limits import MAX_LIST_FILE_BYTES
from retrieval.tokenize import stem, words

FILE_NAME = "thesaurus.txt"


@dataclass(frozen=True)
class Expansion:
    """A term found in a question and the terms that mean the same in the story."""

    term: str
    alternatives: tuple[str, ...]


@lru_cache(maxsize=65536)
def _key(word: str) -> str:
    """A word of a phrase as the phrase is matched: its verb's base form, stemmed, so an
    irregular verb's forms match ("taken back", "took back" and "take back" all key alike)."""
    return stem((getAllLemmas(word).get("VERB") or (word,))[0])


@lru_cache(maxsize=4096)
def _pattern(term: str) -> tuple[str, ...]:
    """A one-word term is matched by stem only; in a phrase, verbs by their base form too.
    A lone word's irregular forms can mean other things here ("lost" the title is stripped,
    "lose" an appeal is not), but a phrase pins its verb's meaning down."""
    found = words(term)
    return tuple(_key(w) for w in found) if len(found) > 1 else (stem(found[0]),)


# Particles of phrasal verbs, which people put after the object: "give the status back",
# "take the title away".
PARTICLES = frozenset({"back", "away", "up", "off", "out", "down", "over"})
# The farthest a particle may stand from its verb: "take the prisoner of conscience title away".
MAX_PARTICLE_GAP = 5
# After these, "back" is a time ("give back in January"), not a return.
_NOT_A_PARTICLE_BEFORE = frozenset(_key(w) for w in ("in", "then", "when", "at", "during", "around"))


def _placements(stems: list[str], start: int, pattern: tuple[str, ...]) -> list[tuple[int, ...]]:
    """The word positions at which `pattern` occurs from `start` in the question's `stems`
    (its _key()s for a phrase): side by side, or for a verb and its particle ("give back")
    with up to MAX_PARTICLE_GAP words between."""
    end = start + len(pattern)
    if tuple(stems[start:end]) == pattern:
        placed = tuple(range(start, end))
    elif len(pattern) == 2 and pattern[1] in PARTICLES:
        after = stems[start + 2 : start + 2 + MAX_PARTICLE_GAP]
        if pattern[1] not in after:
            return []
        placed = (start, start + 2 + after.index(pattern[1]))
    else:
        return []
    if pattern[-1] in PARTICLES and placed[-1] + 1 < len(stems) and stems[placed[-1] + 1] in _NOT_A_PARTICLE_BEFORE:
        return []
    return [placed]


@dataclass(frozen=True)
class Thesaurus:
    groups: tuple[tuple[str, ...], ...] = ()
    # (article's word, question's word) -> the article's word in the question's verb form, worked
    # out ahead for every form of every term (verb_forms(), kept on disk by the index): lemminflect's
    # inflection table takes 0.3-0.9 s to load, most of a one-question process's first answer.
    # A pair not here is worked out as it is asked, with the same result.
    forms: Mapping[tuple[str, str], str] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def _terms_by_first_word(self) -> dict[tuple[bool, str], list[tuple[tuple[str, ...], tuple[str, ...], str]]]:
        """(pattern, group, term) of every term, by whether it is a phrase and the pattern's
        first word: worked out once, not for every question."""
        index: dict[tuple[bool, str], list[tuple[tuple[str, ...], tuple[str, ...], str]]] = defaultdict(list)
        for group in self.groups:
            for term in group:
                pattern = _pattern(term)
                index[len(pattern) > 1, pattern[0]].append((pattern, group, term))
        return dict(index)

    def with_groups(self, groups: Iterable[tuple[str, ...]]) -> Thesaurus:
        """This thesaurus and those of `groups` none of whose terms it has already."""
        taken = {_pattern(term) for group in self.groups for term in group}
        extra = []
        for group in groups:
            patterns = {_pattern(term) for term in group}
            if not patterns & taken:
                extra.append(tuple(group))
                taken |= patterns
        return Thesaurus(self.groups + tuple(extra))

    def _found(self, question: str) -> list[tuple[tuple[int, ...], tuple[str, ...], str]]:
        """(word positions, group, term) of every term in the question's words(), longest
        first, none overlapping another already taken."""
        found_words = words(question)
        stems = [stem(w) for w in found_words]
        keys = [_key(w) for w in found_words]
        terms = self._terms_by_first_word
        hits = [
            (positions, group, term)
            for phrase, seen in ((False, stems), (True, keys))
            for start, first in enumerate(seen)
            for pattern, group, term in terms.get((phrase, first), ())
            for positions in _placements(seen, start, pattern)
        ]
        taken: set[int] = set()
        found = []
        for positions, group, term in sorted(hits, key=lambda h: (-len(h[0]), h[0][0])):
            if not taken & set(positions):
                taken |= set(positions)
                found.append((positions, group, term))
        return sorted(found, key=lambda f: f[0][0])

    def expansions(self, question: str) -> tuple[Expansion, ...]:
        """Each term found and its group's other terms; a form of the same word ("revoke" for
        "revoked") is no alternative, BM25 already matches it."""
        return tuple(
            Expansion(term, tuple(t for t in group if _pattern(t) != _pattern(term)))
            for _, group, term in self._found(question)
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
        for positions, group, _ in found:
            first = owner[positions[0]]
            # A separated particle goes ("give the status back" -> "re-designated the status");
            # the words between stay.
            span = {first} | {owner[p] for p in positions[1:]}
            if span & (dropped | set(replaced)):
                continue
            asked = chunks[first].strip(".,;:!?\"'()").lower()
            replaced[first] = self.forms.get((group[0], asked)) or _in_form_of(group[0], chunks[first])
            dropped |= span - {first}
        return " ".join(replaced.get(n, chunk) for n, chunk in enumerate(chunks) if n not in dropped)


def verb_forms(groups: Iterable[tuple[str, ...]]) -> dict[tuple[str, str], str]:
    """_in_form_of(article word, form) for every verb form of every term's first word: what
    `Thesaurus.forms` holds."""
    table = {}
    for group in groups:
        for term in group:
            first = (words(term) or [""])[0]
            asked = {first} | {form for lemma in getAllLemmas(first).get("VERB", ())
                               for tag in _VERB_FORMS for form in getInflection(lemma, tag=tag)}
            for word in sorted(a for a in asked if a):
                table[group[0], word] = _in_form_of(group[0], word)
    return table


# Verb forms, in the order a form shared by two ("restored": past and participle) is read.
_VERB_FORMS = ("VB", "VBD", "VBN", "VBG", "VBZ")


@lru_cache(maxsize=4096)
def _in_form_of(article_word: str, asked: str) -> str:
    """The article's word in the form of the question's verb ("when did they take it away"
    reads "when did they strip it", "after dropping the tag" "after stripping the status");
    otherwise as it is."""
    asked = asked.strip(".,;:!?\"'()").lower()
    if " " in article_word or not asked.isalpha():
        return article_word
    asked_verb = (getAllLemmas(asked).get("VERB") or (None,))[0]
    article_lemmas = getAllLemmas(article_word.lower())
    # A noun of the articles stays a noun ("status" for "title", which could be a verb);
    # a word the lexicon lacks ("re-designated") is taken for the verb it looks like.
    if asked_verb is None or (article_lemmas and "VERB" not in article_lemmas):
        return article_word
    form = next((tag for tag in _VERB_FORMS if asked in getInflection(asked_verb, tag=tag)), None)
    lemma = getLemma(article_word.lower(), upos="VERB")
    inflected = getInflection(lemma[0], tag=form) if form and lemma else ()
    return inflected[0] if inflected else article_word


# A group is a handful of terms; the longest line of corpus/thesaurus.txt has under 100
# characters. Messages quote at most SHOWN_CHARS of a line (a 100 KB line made a
# 100,167-character /reload reply, issue 13).
MAX_LINE_CHARS = 2000
SHOWN_CHARS = 80


def _shown(text: str) -> str:
    return repr(text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…")


def parse_thesaurus(text: str, source: object = FILE_NAME) -> Thesaurus:
    """One group a line: comma-separated terms, the articles' own word first; # starts a comment.
    A term may stand in one group only: which group "rules" meant would depend on line order."""
    groups = []
    owners: dict[tuple[str, ...], tuple[int, str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        shown = _shown(line)
        if len(line) > MAX_LINE_CHARS:
            raise MalformedThesaurus(source, number, f"{shown} is {len(line):,} characters long; a line may have {MAX_LINE_CHARS}")
        terms = tuple(t.strip() for t in line.split(","))
        if any(not words(t) for t in terms):
            raise MalformedThesaurus(source, number, f"an empty term in {shown}")
        if len(terms) < 2:
            raise MalformedThesaurus(source, number, f"{shown} names one term; a group needs two or more")
        for term in terms:
            other = owners.setdefault(_pattern(term), (number, term))
            if other[0] != number:
                raise MalformedThesaurus(source, number, f"{_shown(term)} is already in the group of line {other[0]} (as {_shown(other[1])})")
        groups.append(terms)
    return Thesaurus(tuple(groups))


def load_thesaurus(corpus_folder: Path | str) -> Thesaurus:
    """The corpus's thesaurus, or an empty one when the corpus has none."""
    path = Path(corpus_folder) / FILE_NAME
    if not path.is_file():
        return Thesaurus()
    try:
        if path.stat().st_size > MAX_LIST_FILE_BYTES:
            raise MalformedThesaurus(path, 0, f"larger than {MAX_LIST_FILE_BYTES:,} bytes")
        data = path.read_bytes()
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedThesaurus(path, data.count(b"\n", 0, exc.start) + 1, "not UTF-8 text") from None
    except OSError as exc:
        raise MalformedThesaurus(path, 0, f"cannot be read ({exc.strerror or exc})") from None
    return parse_thesaurus(text, path)
