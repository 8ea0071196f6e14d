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
    # Sharding: None lets Discord say how many shards (one process runs them all); several
    # processes each name the same count and their own ids.
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    # Operators: who may change what every server sees (/reload). User ids, and servers
    # whose moderators are operators.
    owner_ids: tuple[int, ...] = ()
    operator_guild_ids: tuple[int, ...] = ()
    # Members' questions, votes and reports older than this are removed (None: kept until forgotten).
    retention_days: float | None = None

    @property
    def history_file(self) -> Path:
        return self.cache / "repl_history"

    @property
    def command_sync_file(self) -> Path:
        """The hash of the command set last synced, per scope, so a start re-syncs only on change."""
        return self.cache / "command-sync.json"

    @property
    def syncs_commands(self) -> bool:
        """Only one process of a sharded bot syncs commands: the one running shard 0."""
        return self.shard_ids is None or 0 in self.shard_ids


def _ids(name: str, raw: str, what: str) -> tuple[int, ...]:
    ids = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        if not part.isdigit():
            raise BadSetting(f"{name}: {part!r} is not a {what} (digits, comma-separated)")
        ids.append(int(part))
    return tuple(ids)


def _guild_ids(raw: str) -> tuple[int, ...]:
    return _ids("DISCORD_GUILD_IDS", raw, "guild id")


def _shards(env: Mapping[str, str]) -> tuple[int | None, tuple[int, ...] | None]:
    raw_count = env.get("DISCORD_SHARD_COUNT", "").strip()
    raw_ids = env.get("DISCORD_SHARD_IDS", "").strip()
    count = None
    if raw_count:
        if not raw_count.isdigit() or int(raw_count) < 1:
            raise BadSetting(f"DISCORD_SHARD_COUNT: {raw_count!r} is not a number of shards (a whole number, 1 or more)")
        count = int(raw_count)
    if not raw_ids:
        return count, None
    if count is None:
        raise BadSetting("DISCORD_SHARD_IDS is set but DISCORD_SHARD_COUNT is not: "
                         "give the total number of shards across all processes")
    ids: list[int] = []
    for part in (p.strip() for p in raw_ids.split(",")):
        low, dash, high = part.partition("-")
        if not (low.isdigit() and (not dash or high.isdigit())):
            raise BadSetting(f"DISCORD_SHARD_IDS: {part!r} is not a shard id or range (e.g. 0,1 or 0-3)")
        span = range(int(low), int(high if dash else low) + 1)
        if not span:
            raise BadSetting(f"DISCORD_SHARD_IDS: {part!r} is an empty range")
        for shard in span:
            if shard >= count:
                raise BadSetting(f"DISCORD_SHARD_IDS: shard {shard} is out of range for DISCORD_SHARD_COUNT={count} "
                                 f"(ids run from 0 to {count - 1})")
            if shard in ids:
                raise BadSetting(f"DISCORD_SHARD_IDS: shard {shard} is named twice")
            ids.append(shard)
    return count, tuple(ids)


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


def _retention(env: Mapping[str, str]) -> float | None:
    if not env.get("STORYBOT_RETENTION_DAYS", "").strip():
        return None
    days = _number(env, "STORYBOT_RETENTION_DAYS", 0.0)
    if days <= 0:
        raise BadSetting("STORYBOT_RETENTION_DAYS: must be more than 0 days (leave it out to keep data until forgotten)")
    return days


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
    shard_count, shard_ids = _shards(env)
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
        shard_count=shard_count,
        shard_ids=shard_ids,
        owner_ids=_ids("STORYBOT_OWNER_IDS", env.get("STORYBOT_OWNER_IDS", ""), "user id"),
        retention_days=_retention(env),
        operator_guild_ids=_ids("STORYBOT_OPERATOR_GUILD_IDS", env.get("STORYBOT_OPERATOR_GUILD_IDS", ""), "guild id"),
    )


def load(cwd: Path | None = None) -> Settings:
    """The process's settings: `.env` in the working directory fills what the environment lacks."""
    from dotenv import dotenv_values

    cwd = cwd or Path.cwd()
    values = {k: v for k, v in dotenv_values(cwd / ".env").items() if v is not None}
    values.update(os.environ)
    return from_env(values, cwd)
