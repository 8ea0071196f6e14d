"""Running the Discord bot: open what it needs, start it, stop it cleanly.

The bot and its features (cogs, loaded as extensions) are in `bot.py`; this module opens the
store and the answer service, starts the bot with them, and closes all of it in reverse order.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import discord
import yarl

from retrieval.errors import StorybotError

from bot import engine
from bot.discord.sync import ScopeSync
from bot.audit_store import AuditStore
from bot.discord.bot import BotConfig, StoryBot
from bot.discord.members import expire_periodically
from bot.discord.replies import ERROR_MESSAGE, SHUTTING_DOWN
from bot.live import Reloader
from bot.service import AnswerService
from bot.store import AuditUnavailable, open_store
from bot.settings import Settings

__all__ = ["ERROR_MESSAGE", "SHUTTING_DOWN", "BotStartFailed", "StoryBot", "run_bot", "serve", "sync_commands", "use_endpoints"]

log = logging.getLogger(__name__)


class BotStartFailed(StorybotError):
    """The bot could not connect or log in; the message says what to fix."""


def use_endpoints(api_base_url: str | None, gateway_url: str | None) -> None:
    """Point discord.py at another REST base and gateway (a proxy, or the tests' fake).

    Every REST URL, webhooks and interaction callbacks included, is built from Route.BASE
    when the request is made; a client dials DEFAULT_GATEWAY first and after a session
    that cannot resume (an AutoShardedClient asks /gateway/bot, which that server answers).
    Resumes follow READY's resume_gateway_url, which that server sends.
    """
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    if api_base_url:
        Route.BASE = api_base_url.rstrip("/")
    if gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


async def _cancelled(task: asyncio.Task) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


async def _open_bot(stack: contextlib.AsyncExitStack, settings: Settings, **options) -> StoryBot:
    """The store, the answer service and the client, each closed by `stack` in the reverse
    order (the client first, the store last)."""
    try:
        store: AuditStore = await open_store(settings.db)
    except AuditUnavailable as exc:
        raise BotStartFailed(f"STORYBOT_DB: {exc}") from None
    stack.push_async_callback(store.close)
    try:
        # A store that opens but refuses writes would lose every answer's record: refuse to start.
        await store.check_writable()
    except AuditUnavailable as exc:
        raise BotStartFailed(f"STORYBOT_DB: {exc}") from None
    # BM25 is ready in a fraction of a second; the model takes seconds to load. Answer
    # from BM25 at once (answers say mode "bm25") and switch to hybrid when it is ready.
    service = AnswerService(await asyncio.to_thread(engine.build, settings, None))
    stack.push_async_callback(service.close)
    reloader = Reloader(settings, service)
    bot = StoryBot(service=service, store=store, reloader=reloader, config=BotConfig.from_settings(settings, **options))
    stack.push_async_callback(bot.close)
    return bot


def _start_failed(exc: BaseException) -> BotStartFailed:
    if isinstance(exc, discord.LoginFailure):
        return BotStartFailed("Discord refused DISCORD_TOKEN: check the token in .env (see .env.example)")
    return BotStartFailed(f"could not reach Discord: {exc}")


async def serve(settings: Settings, *, stop: asyncio.Event | None = None) -> int:
    """Run the bot until `stop` is set (SIGTERM, Ctrl-C); then finish answers, close the store."""
    use_endpoints(settings.api_base_url, settings.gateway_url)
    stop = stop or asyncio.Event()
    async with contextlib.AsyncExitStack() as stack:
        bot = await _open_bot(stack, settings, sync_commands=settings.syncs_commands)
        jobs = [bot.reloader.load_model(), bot.reloader.watch()]
        if settings.retention_days is not None:
            jobs.append(expire_periodically(bot.store, settings.retention_days))
        for job in jobs:
            stack.push_async_callback(_cancelled, asyncio.create_task(job))
        runner = asyncio.create_task(bot.start(settings.discord_token or ""), name="discord")
        stack.push_async_callback(_cancelled, runner)
        stopper = asyncio.create_task(stop.wait(), name="stop")
        stack.push_async_callback(_cancelled, stopper)
        done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        log.info("stopping: finishing answers in flight")
        await bot.drain()
        await bot.close()  # before the stack cancels the runner, so the gateway closes cleanly
        if runner in done:
            try:
                runner.result()
            except (discord.LoginFailure, discord.HTTPException, discord.GatewayNotFound, OSError) as exc:
                raise _start_failed(exc) from None
    return 0


async def sync_commands(settings: Settings) -> list[ScopeSync]:
    """`storybot sync`: log in (no gateway), register every command scope now, log out."""
    use_endpoints(settings.api_base_url, settings.gateway_url)
    async with contextlib.AsyncExitStack() as stack:
        bot = await _open_bot(stack, settings, force_sync=True)
        try:
            await bot.login(settings.discord_token or "")
        except (discord.LoginFailure, discord.HTTPException, OSError) as exc:
            raise _start_failed(exc) from None
        return bot.sync_outcomes


def run_bot(settings: Settings) -> int:
    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):  # Windows has no add_signal_handler
                loop.add_signal_handler(sig, stop.set)
        return await serve(settings, stop=stop)

    return asyncio.run(main())
