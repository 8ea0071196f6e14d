"""Passages moderators hid: `hidden.yaml` in the corpus folder, never quoted again.

The list lives beside the articles because it decides what may be quoted, exactly as the
articles do: it is part of the corpus version, so a change re-indexes like an edited article.
Who hid what and why is also recorded in the audit log.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from retrieval.articles import Corpus
from retrieval.errors import MalformedArticle
from retrieval.index import HiddenSpan

HIDDEN_FILE = "hidden.yaml"


@dataclass(frozen=True)
class HiddenEntry:
    doc_id: str
    start: int
    end: int
    reason: str
    by: str | None = None
    at: str | None = None

    @property
    def span(self) -> HiddenSpan:
        return HiddenSpan(self.doc_id, self.start, self.end)


class BadSpan(MalformedArticle):
    """A span that is not a span of a curated article."""


def load_hidden(folder: Path | str) -> tuple[HiddenEntry, ...]:
    path = Path(folder) / HIDDEN_FILE
    if not path.exists():
        return ()
    try:
        rows = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        return tuple(HiddenEntry(**{k: row[k] for k in row if k in HiddenEntry.__dataclass_fields__}) for row in rows)
    except (yaml.YAMLError, TypeError, KeyError, AttributeError) as exc:
        raise MalformedArticle(path, f"not a list of hidden spans ({exc.__class__.__name__})") from None


def _save(folder: Path, entries: tuple[HiddenEntry, ...]) -> None:
    text = yaml.safe_dump([asdict(e) for e in entries], sort_keys=False, allow_unicode=True, width=1000)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".hidden-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, folder / HIDDEN_FILE)


def check_span(corpus: Corpus, doc_id: str, start: int, end: int) -> None:
    try:
        body = corpus.article(doc_id).body
    except KeyError:
        raise BadSpan(doc_id, "no such article in the corpus") from None
    if not (0 <= start < end <= len(body)):
        raise BadSpan(doc_id, f"span {start}:{end} is not inside the article (0:{len(body)})")


def hide(folder: Path | str, corpus: Corpus, entry: HiddenEntry) -> bool:
    """Add a hidden span; False when exactly that span was already hidden."""
    check_span(corpus, entry.doc_id, entry.start, entry.end)
    if not entry.reason.strip():
        raise BadSpan(entry.doc_id, "a reason is required to hide a passage")
    entries = load_hidden(folder)
    if any(e.span == entry.span for e in entries):
        return False
    _save(Path(folder), entries + (entry,))
    return True


def unhide(folder: Path | str, doc_id: str, start: int, end: int) -> HiddenEntry | None:
    """Remove a hidden span; the removed entry, or None when it was not hidden."""
    entries = load_hidden(folder)
    target = HiddenSpan(doc_id, start, end)
    kept = tuple(e for e in entries if e.span != target)
    if len(kept) == len(entries):
        return None
    _save(Path(folder), kept)
    return next(e for e in entries if e.span == target)
