"""Settings, read once from the environment (and a `.env` file) at the edge of the program."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from retrieval.embeddings import PACKAGED_MODEL


class BadSetting(ValueError):
    """A setting has a value the program cannot use; the message names it."""


@dataclass(frozen=True)
class Settings:
    corpus: Path
    model: str
    cache: Path
    db: Path | str  # STORYBOT_DB: a SQLite file, or a postgresql:// URL passed on as it is (bot.store.open_store)
    discord_token: str | None = None
    guild_ids: tuple[int, ...] = ()
    api_base_url: str | None = None
    gateway_url: str | None = None
    cooldown_seconds: float = 10.0
    log_level: str = ""  # empty: INFO for the bot, WARNING for the interactive commands

    @property
    def history_file(self) -> Path:
        return self.cache / "repl_history"


def _guild_ids(raw: str) -> tuple[int, ...]:
    ids = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        if not part.isdigit():
            raise BadSetting(f"DISCORD_GUILD_IDS: {part!r} is not a guild id (digits, comma-separated)")
        ids.append(int(part))
    return tuple(ids)


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise BadSetting(f"{name}: {raw!r} is not a number") from None
    if value < 0:
        raise BadSetting(f"{name}: {raw!r} must not be negative")
    return value


def _db(raw: str, cwd: Path) -> Path | str:
    from bot.store import is_postgres

    if is_postgres(raw):
        return raw
    return (cwd / raw).resolve() if raw else (cwd / "storybot.db").resolve()


def from_env(env: Mapping[str, str], cwd: Path) -> Settings:
    """Settings from a mapping (the environment); relative paths are taken from `cwd`."""

    def path(name: str, default: Path) -> Path:
        raw = env.get(name, "").strip()
        return (cwd / raw).resolve() if raw else default.resolve()

    corpus = path("STORYBOT_CORPUS", cwd / "corpus")
    return Settings(
        corpus=corpus,
        model=env.get("STORYBOT_MODEL", "").strip() or PACKAGED_MODEL,
        # Caches live beside the articles they were made from, so a copy of the corpus
        # reads and writes only inside that copy.
        cache=path("STORYBOT_CACHE", corpus / ".cache"),
        db=_db(env.get("STORYBOT_DB", "").strip(), cwd),
        discord_token=env.get("DISCORD_TOKEN", "").strip() or None,
        guild_ids=_guild_ids(env.get("DISCORD_GUILD_IDS", "")),
        api_base_url=env.get("DISCORD_API_BASE_URL", "").strip() or None,
        gateway_url=env.get("DISCORD_GATEWAY_URL", "").strip() or None,
        cooldown_seconds=_number(env, "STORYBOT_COOLDOWN_SECONDS", 10.0),
        log_level=env.get("STORYBOT_LOG_LEVEL", "").strip().upper(),
    )


def load(cwd: Path | None = None) -> Settings:
    """The process's settings: `.env` in the working directory fills what the environment lacks."""
    from dotenv import dotenv_values

    cwd = cwd or Path.cwd()
    values = {k: v for k, v in dotenv_values(cwd / ".env").items() if v is not None}
    values.update(os.environ)
    return from_env(values, cwd)
