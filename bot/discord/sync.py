"""Registering the slash commands with Discord: only when they changed, per scope, tolerating
a server that refuses.

Discord rate-limits command registration (200 creates a day per guild), so a start does not
re-register what is already there: the SHA-256 of each scope's command payload is kept in a
small JSON file, and a scope is sent again only when its hash differs (or on `storybot sync`).
A scope synced before but no longer wanted (guild mode after global mode, a guild dropped
from DISCORD_GUILD_IDS) is emptied. A guild that answers 403 (the bot was removed, or lacks
the applications.commands scope there) is logged and skipped: the bot still starts.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
from discord import app_commands

from retrieval.atomic_files import write_atomic

log = logging.getLogger(__name__)

GLOBAL = "global"


@dataclass(frozen=True)
class ScopeSync:
    """What start-up did with one scope ("global" or a guild id), and why."""

    scope: str
    action: str  # "synced", "unchanged", "cleared", "skipped"
    reason: str


def plan(tree: app_commands.CommandTree, *, guild_ids: tuple[int, ...], extra_guilds: tuple[int, ...]) -> dict[str, list[dict]]:
    """Each scope's command payload. With guild ids every command goes to those guilds (instant
    availability) and the global scope is empty; `extra_guilds` hold guild-only commands
    (the operators' /reload)."""
    scopes: dict[str, list[dict]] = {}
    if guild_ids:
        for guild_id in guild_ids:
            tree.copy_global_to(guild=discord.Object(guild_id))
        scopes[GLOBAL] = []
    else:
        scopes[GLOBAL] = [c.to_dict(tree) for c in tree.get_commands()]
    for guild_id in (*guild_ids, *extra_guilds):
        scopes[str(guild_id)] = [c.to_dict(tree) for c in tree.get_commands(guild=discord.Object(guild_id))]
    return scopes


def digest(application_id: int | None, payload: list[dict]) -> str:
    text = json.dumps({"application": application_id, "commands": payload}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _load_state(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring the command sync record %s (%s): syncing every scope", path, exc)
        return {}
    return {str(k): str(v) for k, v in state.items()} if isinstance(state, dict) else {}


def _save_state(path: Path | None, state: dict[str, str]) -> None:
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(state, indent=1, sort_keys=True))
    except OSError as exc:
        log.warning("could not record the command sync in %s (%s): the next start syncs again", path, exc)


async def _put(http: Any, application_id: int, scope: str, payload: list[dict]) -> None:
    if scope == GLOBAL:
        await http.bulk_upsert_global_commands(application_id, payload=payload)
    else:
        await http.bulk_upsert_guild_commands(application_id, int(scope), payload=payload)


async def sync(client: discord.Client, scopes: dict[str, list[dict]], state_path: Path | None, *,
               force: bool = False) -> list[ScopeSync]:
    """Send each changed scope's commands, empty the stale ones; one scope's failure is logged
    and skipped, never raised."""
    application_id = client.application_id
    assert application_id is not None, "sync needs a logged-in client"
    state = _load_state(state_path)
    outcomes: list[ScopeSync] = []
    wanted = {scope: digest(application_id, payload) for scope, payload in scopes.items()}
    for scope in [*wanted, *(s for s in state if s not in wanted)]:
        payload = scopes.get(scope, [])
        stale = scope not in wanted
        if not stale and not force and state.get(scope) == wanted[scope]:
            outcomes.append(ScopeSync(scope, "unchanged", "same commands as last synced"))
            continue
        try:
            await _put(client.http, application_id, scope, payload)
        except discord.HTTPException as exc:
            where = "globally" if scope == GLOBAL else f"in guild {scope}"
            hint = (" (the bot is not in that server, or was added without the applications.commands scope)"
                    if exc.status == 403 else "")
            log.warning("Discord refused the command sync %s: %s %s%s; skipped, the bot runs on", where,
                        exc.status, exc.text, hint)
            if stale and exc.status in (403, 404):
                state.pop(scope, None)  # gone from that server; Discord drops its commands there
            outcomes.append(ScopeSync(scope, "skipped", f"{exc.status} {exc.text}{hint}"))
            continue
        if stale:
            state.pop(scope, None)
            outcomes.append(ScopeSync(scope, "cleared", "no longer a scope of this bot"))
        else:
            state[scope] = wanted[scope]
            outcomes.append(ScopeSync(scope, "synced", "forced" if force else "commands changed"))
        _save_state(state_path, state)
    for outcome in outcomes:
        if outcome.action != "unchanged":
            log.info("commands %s: %s (%s)", outcome.scope, outcome.action, outcome.reason)
    return outcomes
