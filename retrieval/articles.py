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
from dataclasses import dataclass, replace
from datetime import date
from functools import cached_property
from enum import Enum
from pathlib import Path

import yaml

from retrieval.errors import CorpusNotFound, MalformedArticle, UnsafeRawPath
from retrieval.limits import MAX_ARTICLE_BYTES, MAX_PARAGRAPH_CHARS
from retrieval.story import FILE_NAME as STORY_FILE, Story, load_story
from retrieval.yaml_text import load_yaml

FIELDS = ("id", "title", "outlet", "author", "published", "url", "kind", "raw", "notes")
REQUIRED = ("id", "title", "kind")
_DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_FRONT_MATTER_RE = re.compile(r"\A---\n(.*?\n)---\n", re.DOTALL)
# A raw file is named by the folder it must stand in and a plain file name: nothing that
# could reach outside corpus/raw (`../`, an absolute path, a hidden file).
_RAW_RE = re.compile(r"^raw/[A-Za-z0-9_][A-Za-z0-9_.-]*$")
RAW_FOLDER = "raw"


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
    story: Story = Story()  # story.yaml: what the story is, its events (retrieval/story.py)

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


def _line_of(front: str, key: str) -> int | None:
    """The file line of `key:` in the front matter (which starts on line 2)."""
    for number, line in enumerate(front.splitlines(), 2):
        if line.startswith(f"{key}:"):
            return number
    return None


def _optional(meta: dict, key: str, path: Path, front: str = "") -> str | None:
    value = meta.get(key)
    if value is None or value == "":
        return None
    if hasattr(value, "isoformat"):  # YAML reads an unquoted 2021-05-07 as a date
        value = value.isoformat()
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise MalformedArticle(path, f"field {key!r} must be text, not {type(value).__name__}", _line_of(front, key))
    return str(value)


def check_raw_field(raw: str | None, path: Path | str = "<text>", line: int | None = None) -> None:
    """UnsafeRawPath unless `raw` names a plain file directly inside corpus/raw."""
    if raw is not None and not _RAW_RE.match(raw):
        raise UnsafeRawPath(path, f"raw {raw!r} must name a file in {RAW_FOLDER}/, as raw/NAME", line)


def parse_article(text: str, path: Path | str = "<text>") -> Article:
    """Read one curated file's text; raise MalformedArticle naming the file and the problem."""
    path = Path(path)
    match = _FRONT_MATTER_RE.match(text.replace("\r\n", "\n"))
    if not match:
        raise MalformedArticle(path, "no front matter: the file must start with a '---' block")
    front = match.group(1)
    meta = load_yaml(front, path, first_line=2, what="front matter")
    if not isinstance(meta, dict):
        raise MalformedArticle(path, "front matter must be a mapping of fields", 2)
    unknown = sorted(str(k) for k in set(meta) - set(FIELDS))
    if unknown:
        raise MalformedArticle(path, f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(FIELDS)}",
                               _line_of(front, unknown[0]))
    for key in REQUIRED:
        if not _optional(meta, key, path, front):
            raise MalformedArticle(path, f"missing required field {key!r}")
    published = _optional(meta, "published", path, front)
    if published and not _valid_date(published):
        raise MalformedArticle(path, f"published {published!r} is not YYYY, YYYY-MM or YYYY-MM-DD (or no such day)",
                               _line_of(front, "published"))
    try:
        kind = Kind.from_str(_optional(meta, "kind", path, front) or "").value
    except ValueError as exc:
        raise MalformedArticle(path, str(exc), _line_of(front, "kind")) from None
    raw = _optional(meta, "raw", path, front)
    check_raw_field(raw, path, _line_of(front, "raw"))
    body = text.replace("\r\n", "\n")[match.end():].strip("\n")
    if not body.strip():
        raise MalformedArticle(path, "the article has no body text")
    _check_paragraphs(text.replace("\r\n", "\n"), body, path)
    return Article(
        id=_optional(meta, "id", path, front),
        title=_optional(meta, "title", path, front),
        body=body,
        kind=kind,
        outlet=_optional(meta, "outlet", path, front),
        author=_optional(meta, "author", path, front),
        published=published,
        url=_optional(meta, "url", path, front),
        raw=raw,
        notes=_optional(meta, "notes", path, front),
    )


def _check_paragraphs(text: str, body: str, path: Path) -> None:
    """MalformedArticle naming the line of a paragraph longer than MAX_PARAGRAPH_CHARS."""
    offset = text.rfind(body) if body else 0
    position = 0
    for paragraph in body.split("\n\n"):
        if len(paragraph) > MAX_PARAGRAPH_CHARS:
            line = text.count("\n", 0, offset + position) + 1
            raise MalformedArticle(path, f"a paragraph of {len(paragraph):,} characters; a paragraph may have "
                                         f"{MAX_PARAGRAPH_CHARS:,} (a blank line separates paragraphs)", line)
        position += len(paragraph) + 2


def _valid_date(text: str) -> bool:
    """YYYY, YYYY-MM or YYYY-MM-DD, and a day that exists (no 30 February)."""
    if not _DATE_RE.match(text):
        return False
    parts = [int(p) for p in text.split("-")] + [1, 1]
    try:
        date(parts[0], parts[1], parts[2])
    except ValueError:
        return False
    return True


def format_article(article: Article) -> str:
    meta = {field: getattr(article, field) for field in FIELDS}
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{front}---\n{article.body}\n"


def article_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.md") if not p.name.startswith((".", "_")) and p.name != "README.md")


# Files beside the articles that change what may be quoted or how it is found, so they
# count in the version (and a running bot reloads when they change).
VERSIONED_EXTRAS = ("hidden.yaml", "thesaurus.txt", STORY_FILE, "promoted.jsonl")


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
        data = _read(path)
        digest.update(path.name.encode() + b"\0" + data + b"\0")
        article = parse_article(decode_article(data, path), path)
        if article.id in seen:
            raise MalformedArticle(path, f"id {article.id!r} is already used by {seen[article.id].name}")
        seen[article.id] = path
        articles.append(article)
    for extra in VERSIONED_EXTRAS:
        if (folder / extra).is_file():
            digest.update(extra.encode() + b"\0" + _read(folder / extra))
    story = load_story(folder)
    if story.dates_before is None:
        story = replace(story, dates_before=_month_after_latest(articles))
    return Corpus(tuple(articles), digest.hexdigest()[:16], story)


def _month_after_latest(articles: list[Article]) -> date | None:
    """The first day of the month after the latest article's date: a month a question names
    without a year is the last such month before it."""
    dated = sorted(a.published for a in articles if a.published)
    if not dated:
        return None
    year, month = (int(p) for p in (dated[-1] + "-12")[:7].split("-"))
    return date(year + month // 12, month % 12 + 1, 1)


def _read(path: Path) -> bytes:
    """A corpus file's bytes; MalformedArticle naming it when it cannot be read or is too big."""
    try:
        if path.stat().st_size > MAX_ARTICLE_BYTES:
            raise MalformedArticle(path, f"larger than {MAX_ARTICLE_BYTES:,} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise MalformedArticle(path, f"cannot be read ({exc.strerror or exc})") from None


def decode_article(data: bytes, path: Path | str) -> str:
    """A curated file's text; MalformedArticle naming the line of the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise MalformedArticle(path, "not UTF-8 text", line) from None
