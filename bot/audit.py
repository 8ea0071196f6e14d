"""The moderators' audit log, under its old name: the audit store lives in bot/store/ now
(bot/audit_store.py is its contract). `AuditLog` is the SQLite backend."""
from __future__ import annotations

from bot.store import *  # noqa: F401,F403 - the names bot.audit always offered
from bot.store import __all__ as _store_names
from bot.store.sqlite import MIGRATIONS, SQLiteStore as AuditLog

__all__ = [*_store_names, "AuditLog", "MIGRATIONS"]
