"""Keeping the running bot's index current: model loaded in the background, corpus changes
picked up without a restart. A new index is built aside and swapped in whole; questions
already being answered finish on the old one."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from retrieval.bank import BANK_FILE, SCORER_FILE
from retrieval.articles import RAW_FOLDER, VERSIONED_EXTRAS
from retrieval.embeddings import Encoder
from retrieval.errors import StorybotError
from retrieval.index import Index
from retrieval.limits import shorten_error

from bot import engine
from bot.service import AnswerService
from bot.settings import Settings

log = logging.getLogger(__name__)

# Polling rather than inotify: it works the same on every OS and in containers, and a corpus
# of a few hundred files costs microseconds to stat.
WATCH_SECONDS = 2.0


@dataclass(frozen=True)
class ReloadReport:
    version_before: str
    version_after: str
    mode: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]
    passages: int
    embedded: int

    def text(self) -> str:
        if self.version_before == self.version_after:
            return f"No change: corpus {self.version_after}, {self.passages} passages, mode {self.mode}."
        parts = [f"added {', '.join(self.added)}" if self.added else "", f"removed {', '.join(self.removed)}" if self.removed else "",
                 f"changed {', '.join(self.changed)}" if self.changed else ""]
        what = "; ".join(p for p in parts if p) or "hidden passages or the thesaurus changed"
        return (f"Reloaded: {what}. Corpus {self.version_before} -> {self.version_after}, {self.passages} passages "
                f"({self.embedded} newly embedded), mode {self.mode}.")


def corpus_signature(folder: Path) -> tuple:
    """What changes when an article, its raw file, the hidden list, the thesaurus or the bank
    (`storybot fit`: retrieval/bank.py) does (names, sizes, modification times): a raw file
    deleted or edited is checked again."""
    extras = (*VERSIONED_EXTRAS, BANK_FILE, SCORER_FILE)
    files = sorted([*folder.glob("*.md"), *(folder / RAW_FOLDER).glob("*"), *(folder / name for name in extras)])
    return tuple((str(p.relative_to(folder)), p.stat().st_mtime_ns, p.stat().st_size) for p in files if p.is_file())


def _diff(old: Index, new: Index) -> ReloadReport:
    before = {a.id: a for a in old.corpus.articles}
    after = {a.id: a for a in new.corpus.articles}
    return ReloadReport(
        version_before=old.corpus.version,
        version_after=new.corpus.version,
        mode=new.mode,
        added=tuple(sorted(set(after) - set(before))),
        removed=tuple(sorted(set(before) - set(after))),
        changed=tuple(sorted(i for i in set(before) & set(after) if before[i] != after[i])),
        passages=len(new.passages),
        embedded=new.embedded,
    )


class Reloader:
    def __init__(self, settings: Settings, service: AnswerService, encoder: Encoder | None = None) -> None:
        self.settings = settings
        self.service = service
        self.encoder = encoder
        self._lock = asyncio.Lock()
        self._signature = corpus_signature(settings.corpus)

    async def reload(self) -> ReloadReport:
        """Build a new index from the corpus as it is now and answer from it; raises the
        corpus's error (and keeps answering from the old index) when it cannot be loaded."""
        async with self._lock:
            signature = corpus_signature(self.settings.corpus)
            new = await asyncio.to_thread(engine.build, self.settings, self.encoder)
            report = _diff(self.service.index, new)
            self.service.swap(new)
            self._signature = signature
        log.info("%s", report.text())
        return report

    async def load_model(self) -> None:
        """Load the embedding model off the event loop, then switch answers to hybrid."""
        encoder = await asyncio.to_thread(engine.load_model, self.settings.model, self.settings.cache)
        if encoder is None:
            return  # load_model has said why; answers stay BM25
        self.encoder = encoder
        try:
            await self.reload()
        except Exception as exc:  # noqa: BLE001 - whatever it is, the bot answers on from the old index
            log.error("model loaded, but the corpus could not be re-indexed: %s", problem_text(exc))

    async def watch(self, interval: float = WATCH_SECONDS) -> None:
        """Re-index whenever the corpus files change on disk. A corpus that cannot be loaded,
        for whatever reason, keeps the old index, is said once at ERROR, and is watched on:
        the next good change is taken."""
        while True:
            await asyncio.sleep(interval)
            try:
                signature = corpus_signature(self.settings.corpus)
            except OSError:
                continue  # a file vanished between glob and stat: look again next time
            if signature == self._signature or self._lock.locked():
                continue
            try:
                await self.reload()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a bad file must never end the watch
                self._signature = signature  # said once, not at every poll, until the files change again
                log.error("corpus changed but cannot be loaded; still answering from the old index: %s", problem_text(exc))


def problem_text(exc: BaseException) -> str:
    """What went wrong, for an operator: our errors say it themselves; anything else (a
    PermissionError, a bug) by its type too. Bounded, for a log line or a Discord reply."""
    text = str(exc) if isinstance(exc, (StorybotError, OSError)) else f"{type(exc).__name__}: {exc}"
    return shorten_error(text)
