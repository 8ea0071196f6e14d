"""Curated articles: Markdown files with YAML front matter, and the corpus they make up.

A curated file looks like::

    ---
    id: lbc-2021-02-25
    title: Amnesty strips Alexei Navalny of 'prisoner of conscience' status
    outlet: LBC
    ...
    ---
    First paragraph.

    Second paragraph.

Offsets of passages and quotes are into `Article.body`: the text after the closing `---`
line, without the final newline.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from enum import Enum
from pathlib import Path

import yaml

from retrieval.errors import CorpusNotFound, MalformedArticle

FIELDS = ("id", "title", "outlet", "author", "published", "url", "kind", "raw", "notes")
REQUIRED = ("id", "title", "kind")
_DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_FRONT_MATTER_RE = re.compile(r"\A---\n(.*?\n)---\n", re.DOTALL)


class Kind(str, Enum):
    NEWS = "news"
    OPINION = "opinion"
    ANALYSIS = "analysis"
    STATEMENT = "statement"

    @classmethod
    def from_str(cls, value: str) -> "Kind":
        try:
            return cls(value.strip().lower())
        except ValueError:
            valid = ", ".join(kind.value for kind in cls)
            raise ValueError(f"unknown kind {value!r}; expected one of: {valid}") from None


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    body: str
    kind: str = Kind.NEWS.value
    outlet: str | None = None
    author: str | None = None
    published: str | None = None  # YYYY, YYYY-MM or YYYY-MM-DD: as precise as the source allows
    url: str | None = None
    raw: str | None = None  # the raw file it came from, relative to the corpus folder
    notes: str | None = None

    @property
    def paragraphs(self) -> tuple[str, ...]:
        return tuple(self.body.split("\n\n"))


@dataclass(frozen=True)
class Corpus:
    articles: tuple[Article, ...]
    version: str  # changes whenever any curated file changes

    @cached_property
    def _by_id(self) -> dict[str, Article]:
        return {article.id: article for article in self.articles}

    def article(self, doc_id: str) -> Article:
        return self._by_id[doc_id]

    def by_date(self) -> tuple[Article, ...]:
        return tuple(sorted(self.articles, key=lambda a: (a.published or "9999", a.id)))


def slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")


def make_id(outlet: str | None, published: str | None, taken: set[str] = frozenset()) -> str:
    base = f"{slug(outlet or 'unknown')}-{published or 'undated'}"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def _optional(meta: dict, key: str, path: Path) -> str | None:
    value = meta.get(key)
    if value is None or value == "":
        return None
    if hasattr(value, "isoformat"):  # YAML reads an unquoted 2021-05-07 as a date
        value = value.isoformat()
    if not isinstance(value, (str, int)):
        raise MalformedArticle(path, f"field {key!r} must be text, not {type(value).__name__}")
    return str(value)


def parse_article(text: str, path: Path | str = "<text>") -> Article:
    """Read one curated file's text; raise MalformedArticle naming the file and the problem."""
    path = Path(path)
    match = _FRONT_MATTER_RE.match(text.replace("\r\n", "\n"))
    if not match:
        raise MalformedArticle(path, "no front matter: the file must start with a '---' block")
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        raise MalformedArticle(path, f"front matter is not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(meta, dict):
        raise MalformedArticle(path, "front matter must be a mapping of fields")
    unknown = sorted(set(meta) - set(FIELDS))
    if unknown:
        raise MalformedArticle(path, f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(FIELDS)}")
    for key in REQUIRED:
        if not _optional(meta, key, path):
            raise MalformedArticle(path, f"missing required field {key!r}")
    published = _optional(meta, "published", path)
    if published and not _DATE_RE.match(published):
        raise MalformedArticle(path, f"published {published!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    try:
        kind = Kind.from_str(_optional(meta, "kind", path) or "").value
    except ValueError as exc:
        raise MalformedArticle(path, str(exc)) from None
    body = text.replace("\r\n", "\n")[match.end():].strip("\n")
    if not body.strip():
        raise MalformedArticle(path, "the article has no body text")
    return Article(
        id=_optional(meta, "id", path),
        title=_optional(meta, "title", path),
        body=body,
        kind=kind,
        outlet=_optional(meta, "outlet", path),
        author=_optional(meta, "author", path),
        published=published,
        url=_optional(meta, "url", path),
        raw=_optional(meta, "raw", path),
        notes=_optional(meta, "notes", path),
    )


def format_article(article: Article) -> str:
    meta = {field: getattr(article, field) for field in FIELDS}
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{front}---\n{article.body}\n"


def article_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.md") if not p.name.startswith((".", "_")) and p.name != "README.md")


# Files beside the articles that change what may be quoted or how it is found, so they
# count in the version (and a running bot reloads when they change).
VERSIONED_EXTRAS = ("hidden.yaml", "thesaurus.txt")


def load_corpus(folder: Path | str) -> Corpus:
    """Every curated article in the folder; fails on the first malformed one, naming it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CorpusNotFound(f"corpus folder {str(folder)!r} does not exist")
    files = article_files(folder)
    if not files:
        raise CorpusNotFound(f"corpus folder {str(folder)!r} holds no curated article (*.md)")
    digest = hashlib.sha256()
    articles: list[Article] = []
    seen: dict[str, Path] = {}
    for path in files:
        data = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + data + b"\0")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedArticle(path, "not UTF-8 text") from None
        article = parse_article(text, path)
        if article.id in seen:
            raise MalformedArticle(path, f"id {article.id!r} is already used by {seen[article.id].name}")
        seen[article.id] = path
        articles.append(article)
    for extra in VERSIONED_EXTRAS:
        if (folder / extra).is_file():
            digest.update(extra.encode() + b"\0" + (folder / extra).read_bytes())
    return Corpus(tuple(articles), digest.hexdigest()[:16])
