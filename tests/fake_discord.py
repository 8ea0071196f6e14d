"""A loopback fake of Discord's REST API (v10) and Gateway, for driving a real discord.py 2.x bot in tests.

    async with FakeDiscord() as fake:
        point_discord_at(fake.api_base, fake.gateway_url)
        task = asyncio.create_task(bot.start(fake.token))
        await fake.wait_ready()
        sent = await fake.slash("ping")
        rec = await fake.wait_for_response(sent.id)      # the POST .../callback, as a Recorded
        assert rec.json["data"]["content"] == "pong" and rec.latency < 3

Everything runs on 127.0.0.1 on a random free port. The fake speaks plain (uncompressed) JSON text frames:
discord.py asks for ``compress=zlib-stream`` but only decompresses *binary* frames, so text frames are accepted.
Every REST request is recorded (``fake.requests``), including unknown routes, which get a Discord-style 404.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import re
import secrets
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Optional, Union

import yarl
from aiohttp import WSMsgType, web

API_PREFIX = "/api/v10"
BOT_ID = APP_ID = 1000000000000000001  # modern apps: application id == bot user id
GUILD_ID = 2000000000000000002
CHANNEL_ID = 3000000000000000003
USER_ID = 4000000000000000004
MANAGE_MESSAGES = 1 << 13
# VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES | READ_MESSAGE_HISTORY | USE_APPLICATION_COMMANDS
BASIC_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 31)
EPHEMERAL = 1 << 6
LOADING = 1 << 7


def point_discord_at(api_base: str, gateway_url: str) -> None:
    """Make every discord.py client in this process talk to `api_base` / `gateway_url` instead of discord.com.

    * ``discord.http.Route.BASE`` is the prefix of every REST URL (HTTPClient *and* the webhook adapters used for
      interaction callbacks/follow-ups); it is read when each Route is built, so set it before ``login``.
    * ``DiscordWebSocket.DEFAULT_GATEWAY`` is what ``Client.connect`` dials first (it does not call /gateway/bot;
      only AutoShardedClient does, and this fake answers that with its own URL too) and what it falls back to after
      a non-resumable INVALID_SESSION. Resumes go to READY's ``resume_gateway_url``, which the server supplies.
    """
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    Route.BASE = api_base.rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


@dataclass
class Recorded:
    """One REST request. `time` is time.perf_counter() on arrival; `latency` is seconds since the related
    INTERACTION_CREATE was written to the gateway (None if the request is not tied to an interaction).
    `kind`: login, gateway, application, commands, callback, followup, {get,edit,delete}_{original,followup},
    channel_message, unknown."""

    method: str
    path: str  # without the /api/v10 prefix
    query: Dict[str, str]
    json: Any
    files: List[str]
    time: float
    kind: str = "unknown"
    status: int = 200
    interaction_id: Optional[int] = None
    latency: Optional[float] = None
    auth: Optional[str] = None


@dataclass
class Session:
    """One gateway session (one shard of the bot). `shard` is (shard id, shard count) from IDENTIFY, (0, 1)
    when the client did not shard. `ws` is its socket; it receives dispatches once `ready`."""

    id: str
    shard: tuple
    ws: Optional[web.WebSocketResponse] = None
    ready: bool = False
    seq: int = 0
    log: List[Dict[str, Any]] = field(default_factory=list)

    def covers(self, guild_id: Optional[Any]) -> bool:
        """Discord's rule: guild events go to shard (guild_id >> 22) % shard_count; DMs to shard 0."""
        shard_id, count = self.shard
        return shard_id == 0 if guild_id is None else (int(guild_id) >> 22) % count == shard_id


@dataclass
class SentInteraction:
    """An INTERACTION_CREATE the fake sent. `sent_at` is time.perf_counter() when it was written to the socket."""

    id: int
    token: str
    payload: Dict[str, Any]
    sent_at: Optional[float] = None
    responded: bool = False
    original: Optional[str] = None  # message id of the @original response, once there is one
    followups: List[str] = field(default_factory=list)


def text_input_ids(modal_data: Dict[str, Any]) -> List[str]:
    """custom_ids of the text inputs in a modal callback's `data` (rows of type 1 or labels of type 18)."""
    out: List[str] = []
    for c in modal_data.get("components", []):
        for child in c.get("components", []) + ([c["component"]] if "component" in c else []) + [c]:
            if child.get("type") == 4:
                out.append(child["custom_id"])
    return out


def _json(data: Any, status: int = 200) -> web.Response:
    # Exactly "application/json": discord.py's json_or_text() treats "application/json; charset=utf-8"
    # (what web.json_response sends) as plain text.
    return web.Response(status=status, body=json.dumps(data).encode(), content_type="application/json")


def _error(status: int, message: str, code: int = 0) -> web.Response:
    return _json({"message": message, "code": code}, status)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _option(name: str, value: Any) -> Dict[str, Any]:
    kind = 5 if isinstance(value, bool) else 4 if isinstance(value, int) else 10 if isinstance(value, float) else 3
    return {"name": name, "type": kind, "value": value}


class FakeDiscord:
    """The fake server. Public state a test reads (all append-only lists unless noted):

    requests            every REST request as Recorded, in arrival order
    identify_payloads   the `d` of every IDENTIFY (token, intents, properties, ...)
    resume_payloads     the `d` of every RESUME (token, session_id, seq)
    heartbeats          time.perf_counter() of every HEARTBEAT received
    gateway_connections the query string of every websocket connection (v, encoding, compress)
    command_bodies      {None: [...global...], guild_id: [...]} - the last PUT body per scope (dict)
    messages            {message_id: message object} for every message the bot created (dict)
    interactions        {interaction_id: SentInteraction} (dict)
    sessions            {session_id: Session} (dict): one per IDENTIFY; a sharded client opens one per shard,
                        and each gets the guilds (READY, GUILD_CREATE, interactions) of its shard only
    """

    def __init__(self, *, token: str = "fake-bot-token", heartbeat_interval_ms: int = 1000,
                 guild_ids: tuple = (GUILD_ID,), channel_id: int = CHANNEL_ID, send_guild_create: bool = True,
                 app_flags: int = 0, bot_name: str = "fakebot", ack_deadline: Optional[float] = None,
                 forbidden_guilds: tuple = ()) -> None:
        self.token, self.heartbeat_interval_ms = token, heartbeat_interval_ms
        self.guild_ids, self.channel_id, self.send_guild_create = tuple(guild_ids), channel_id, send_guild_create
        self.bot_id = self.app_id = APP_ID
        self.app_flags = app_flags
        self.ack_deadline = ack_deadline  # e.g. 3.0: later callbacks get 404 Unknown interaction, like Discord
        # Guilds whose command endpoints answer 403 Missing Access (the bot was removed, or lacks the
        # applications.commands scope there).
        self.forbidden_guilds = {int(g) for g in forbidden_guilds}
        self.bot_user = {**self.user_payload(BOT_ID, bot_name), "bot": True, "verified": True, "flags": 0}
        self.ack_heartbeats = True  # set False to simulate a zombie connection
        self.requests: List[Recorded] = []
        self.identify_payloads: List[Dict[str, Any]] = []
        self.resume_payloads: List[Dict[str, Any]] = []
        self.heartbeats: List[float] = []
        self.gateway_connections: List[Dict[str, str]] = []
        self.command_bodies: Dict[Optional[int], List[Dict[str, Any]]] = {}
        self.messages: Dict[str, Dict[str, Any]] = {}
        self.interactions: Dict[int, SentInteraction] = {}
        # More text channels per guild, sent in GUILD_CREATE: add them with add_text_channel() before the bot starts.
        self.extra_channels: Dict[int, List[Dict[str, Any]]] = {}
        self.ready_count = self.resumed_count = 0
        self.session_id: Optional[str] = None  # the latest session's
        self.sessions: Dict[str, Session] = {}
        self._registered: Dict[Optional[int], List[Dict[str, Any]]] = {}
        self._by_token: Dict[str, SentInteraction] = {}
        self._ids = itertools.count(5000000000000000000)
        self._pending: List[tuple] = []  # dispatches queued while no live session covers their guild
        self._sockets: set = set()
        self._runner: Optional[web.AppRunner] = None
        self._cond = asyncio.Condition()
        self._send_lock = asyncio.Lock()
        self.port = 0

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> "FakeDiscord":
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        for ws in list(self._sockets):
            await ws.close(code=1001)
        if self._runner:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    # ------------------------------------------------------------------ queries and waits
    def interaction_log(self, interaction_id: int) -> List[Recorded]:
        """Every request tied to that interaction (callback, follow-ups, edits, gets), in arrival order."""
        return [r for r in self.requests if r.interaction_id == interaction_id]

    @property
    def unknown_requests(self) -> List[Recorded]:
        return [r for r in self.requests if r.kind == "unknown"]

    @property
    def channel_messages(self) -> List[Recorded]:
        return [r for r in self.requests if r.kind == "channel_message"]

    def max_heartbeat_gap(self) -> float:
        """Largest interval in seconds between consecutive heartbeats received (0.0 if fewer than two)."""
        return max((b - a for a, b in zip(self.heartbeats, self.heartbeats[1:])), default=0.0)

    async def wait_until(self, predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
        """Wait until predicate() is truthy (re-checked after every request/gateway message); return its value."""
        try:
            async with self._cond:
                return await asyncio.wait_for(self._cond.wait_for(predicate), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"FakeDiscord: timed out after {timeout}s waiting for {what}") from None

    async def wait_for_response(self, interaction_id: int, kind: str = "callback", timeout: float = 5.0) -> Recorded:
        """The first request for that interaction of `kind`: "callback" (the POST .../callback), "final" (the
        user-visible answer: a non-deferred callback, or the follow-up / @original edit after a defer), or any
        Recorded.kind such as "followup" or "edit_original"."""

        def match(r: Recorded) -> bool:
            if kind != "final":
                return r.kind == kind
            deferred = r.kind == "callback" and (r.json or {}).get("type") in (5, 6)
            return r.status < 300 and not deferred and r.kind in ("callback", "followup", "edit_original")

        return await self.wait_until(lambda: next((r for r in self.interaction_log(interaction_id) if match(r)), None),
                                     timeout, f"{kind} response to interaction {interaction_id}")

    async def wait_ready(self, timeout: float = 5.0) -> None:
        """Until READY (and the GUILD_CREATEs) have been sent to the client."""
        await self.wait_until(lambda: self.ready_count >= 1, timeout, "READY")

    async def wait_resumed(self, count: int = 1, timeout: float = 5.0) -> None:
        """Until `count` sessions in total have been RESUMED."""
        await self.wait_until(lambda: self.resumed_count >= count, timeout, f"{count} RESUMED")

    async def wait_heartbeats(self, count: int, timeout: float = 5.0) -> None:
        await self.wait_until(lambda: len(self.heartbeats) >= count, timeout, f"{count} heartbeats")

    # ------------------------------------------------------------------ gateway: test-facing
    def _session_for(self, guild_id: Optional[Any]) -> Optional[Session]:
        live = [s for s in self.sessions.values() if s.ready and s.ws is not None and s.covers(guild_id)]
        return live[-1] if live else None

    async def dispatch(self, event: str, data: Dict[str, Any]) -> None:
        """Send a DISPATCH (op 0) event to the session of the shard its guild belongs to (DMs: shard 0). If no
        such session is live (not yet identified, or reconnecting), it is queued and sent right after the next
        READY/RESUMED of a session that covers it."""
        session = self._session_for(data.get("guild_id"))
        if session is None:
            self._pending.append((event, data))
        else:
            await self._send_event(session, event, data)

    async def request_reconnect(self, *, wait: bool = True, timeout: float = 5.0) -> None:
        """Send op 7 RECONNECT to the latest live session. discord.py closes the socket and RESUMEs on
        resume_gateway_url; events dispatched meanwhile are queued. With wait=True, return once RESUMED."""
        live = [s for s in self.sessions.values() if s.ready and s.ws is not None]
        target = self.resumed_count + 1
        if not live:
            raise RuntimeError("no live gateway session")
        session = live[-1]
        ws, session.ws, session.ready = session.ws, None, False
        await self._send(ws, {"op": 7, "d": None})
        if wait:
            await self.wait_resumed(target, timeout)

    # ------------------------------------------------------------------ interactions: test-facing
    def user_payload(self, user_id: int = USER_ID, name: str = "tester") -> Dict[str, Any]:
        return {"id": str(user_id), "username": name, "discriminator": "0", "global_name": name, "avatar": None,
                "public_flags": 0}

    async def slash(self, command: str, options: Union[Dict[str, Any], List[Dict[str, Any]], None] = None, *,
                    data_extra: Optional[Dict[str, Any]] = None, **who: Any) -> SentInteraction:
        """Dispatch a chat-input command. `command` is the full path ("ping", "audit recent", "cfg set name");
        `options` is {name: value} (type inferred: bool 5, int 4, float 10, else str 3) or a raw option list.
        data.id/guild_id come from the synced commands (guild scope first), so the bot's tree finds guild commands.
        `who`: user_id, username, permissions (int or str), dm, guild_id, channel_id, locale, app_permissions."""
        root, *subs = command.split()
        opts = [_option(k, v) for k, v in options.items()] if isinstance(options, dict) else list(options or [])
        for depth, name in enumerate(reversed(subs)):
            opts = [{"name": name, "type": 1 if depth == 0 else 2, "options": opts}]
        data: Dict[str, Any] = {"id": str(next(self._ids)), "name": root, "type": 1, "options": opts}
        scopes = [None] if who.get("dm") else [who.get("guild_id", self.guild_ids[0] if self.guild_ids else None), None]
        for scope in scopes:
            reg = next((c for c in self._registered.get(scope, []) if c["name"] == root), None)
            if reg:
                data["id"] = reg["id"]
                if scope is not None:
                    data["guild_id"] = str(scope)
                break
        return await self._send_interaction(2, {**data, **(data_extra or {})}, **who)

    async def message_command(self, name: str, message: Dict[str, Any], **who: Any) -> SentInteraction:
        """Dispatch a message context-menu command (application command of type 3) on `message` (e.g. one from
        member_message()); Discord sends the target message in data.resolved, so no message intent is needed."""
        scopes = [None] if who.get("dm") else [who.get("guild_id", self.guild_ids[0] if self.guild_ids else None), None]
        data: Dict[str, Any] = {"id": str(next(self._ids)), "name": name, "type": 3, "target_id": message["id"],
                                "resolved": {"messages": {message["id"]: message}}}
        for scope in scopes:
            reg = next((c for c in self._registered.get(scope, []) if c["name"] == name and c.get("type") == 3), None)
            if reg:
                data["id"] = reg["id"]
                if scope is not None:
                    data["guild_id"] = str(scope)
                break
        return await self._send_interaction(2, data, **who)

    def member_message(self, content: str, *, channel_id: Optional[int] = None, author_id: int = USER_ID + 1,
                       author_name: str = "poster", embeds: tuple = (), attachments: tuple = ()) -> Dict[str, Any]:
        """A message a member posted (not the bot): what a message command's target looks like."""
        mid = str(next(self._ids))
        return {"id": mid, "type": 0, "channel_id": str(channel_id or self.channel_id),
                "author": self.user_payload(author_id, author_name), "content": content, "embeds": list(embeds),
                "components": [], "attachments": list(attachments), "mentions": [], "mention_roles": [],
                "mention_everyone": False, "pinned": False, "tts": False, "timestamp": _now(),
                "edited_timestamp": None, "flags": 0}

    def add_text_channel(self, guild_id: int, channel_id: int, name: str, *, bot_can_post: bool = True) -> Dict[str, Any]:
        """Another text channel in a guild; with bot_can_post=False, @everyone (the bot included) is denied
        Send Messages there by a permission overwrite."""
        deny = [] if bot_can_post else [{"id": str(guild_id), "type": 0, "allow": "0", "deny": str(1 << 11)}]
        channel = {"id": str(channel_id), "type": 0, "name": name, "position": len(self.extra_channels.get(int(guild_id), [])) + 1,
                   "guild_id": str(guild_id), "permission_overwrites": deny, "nsfw": False, "parent_id": None}
        self.extra_channels.setdefault(int(guild_id), []).append(channel)
        return channel

    def resolved_channels(self, *channel_ids: int) -> Dict[str, Any]:
        """data.resolved for channel options (as Discord sends with a command naming channels)."""
        known = {c["id"]: c for g in self.extra_channels.values() for c in g}
        out = {}
        for cid in channel_ids:
            c = known.get(str(cid)) or {"id": str(cid), "type": 0, "name": "general"}
            out[str(cid)] = {"id": c["id"], "type": c["type"], "name": c["name"], "permissions": str(BASIC_PERMISSIONS),
                             "parent_id": None, "guild_id": c.get("guild_id")}
        return {"resolved": {"channels": out}}

    async def press_button(self, custom_id: str, *, message: Optional[Dict[str, Any]] = None,
                           **who: Any) -> SentInteraction:
        """Dispatch a button click (type 3). `message` is the message the button is on (a dict such as one from
        fake.messages); by default a bot message carrying just that button is made up."""
        if message is None:
            button = {"type": 2, "style": 1, "label": "button", "custom_id": custom_id}
            message = self._message({"content": "", "components": [{"type": 1, "components": [button]}]},
                                    who.get("channel_id") or (self.channel_id if who.get("dm")
                                                              else self.channel_of(who.get("guild_id") or self.guild_ids[0])))
        self.messages[message["id"]] = message
        return await self._send_interaction(3, {"custom_id": custom_id, "component_type": 2}, message=message, **who)

    async def submit_modal(self, custom_id: str, values: Dict[str, str], **who: Any) -> SentInteraction:
        """Dispatch a modal submit (type 5): `values` maps each text input's custom_id to the typed text."""
        rows = [{"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]} for k, v in values.items()]
        return await self._send_interaction(5, {"custom_id": custom_id, "components": rows}, **who)

    def build_interaction(self, itype: int, data: Dict[str, Any], *, user_id: int = USER_ID,
                          username: str = "tester", permissions: Union[int, str] = BASIC_PERMISSIONS,
                          dm: bool = False, guild_id: Optional[int] = None, channel_id: Optional[int] = None,
                          locale: str = "en-US", app_permissions: Union[int, str] = BASIC_PERMISSIONS,
                          message: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """A complete INTERACTION_CREATE payload, from a guild member (member.permissions) or, with dm=True,
        from a user in a DM with the bot (user, no member)."""
        iid = next(self._ids)
        user = self.user_payload(user_id, username)
        channel_id = channel_id or (self.channel_id if dm else self.channel_of(guild_id or self.guild_ids[0]))
        p: Dict[str, Any] = {
            "id": str(iid), "application_id": str(self.app_id), "type": itype, "data": data,
            "token": f"itok-{iid}-{secrets.token_hex(8)}", "version": 1, "locale": locale,
            "app_permissions": str(int(app_permissions)), "entitlements": [], "entitlement_sku_ids": [],
            "attachment_size_limit": 10 * 1024 * 1024, "channel_id": str(channel_id),
        }
        if dm:
            p.update(user=user, context=1, authorizing_integration_owners={"0": "0"},
                     channel={"id": str(channel_id), "type": 1, "recipients": [user], "flags": 0})
        else:
            gid = guild_id or self.guild_ids[0]
            p.update(guild_id=str(gid), guild={"id": str(gid), "locale": "en-US", "features": []},
                     guild_locale="en-US", context=0, authorizing_integration_owners={"0": str(gid)},
                     channel={"id": str(channel_id), "type": 0, "name": "general", "guild_id": str(gid),
                              "position": 0, "permission_overwrites": [], "nsfw": False, "parent_id": None,
                              "flags": 0, "rate_limit_per_user": 0},
                     member={"user": user, "roles": [], "joined_at": _now(), "deaf": False, "mute": False,
                             "flags": 0, "pending": False, "nick": None, "avatar": None,
                             "communication_disabled_until": None, "permissions": str(int(permissions))})
        if message is not None:
            p["message"] = message
        return p

    async def _send_interaction(self, itype: int, data: Dict[str, Any], **who: Any) -> SentInteraction:
        payload = self.build_interaction(itype, data, **who)
        sent = SentInteraction(int(payload["id"]), payload["token"], payload)
        self.interactions[sent.id] = self._by_token[sent.token] = sent
        await self.dispatch("INTERACTION_CREATE", payload)
        return sent

    def channel_of(self, guild_id: int) -> int:
        """The one text channel of a guild: `channel_id` in the first guild, guild id + 1 in the others."""
        return self.channel_id if not self.guild_ids or int(guild_id) == self.guild_ids[0] else int(guild_id) + 1

    def guild_payload(self, guild_id: int) -> Dict[str, Any]:
        """The GUILD_CREATE sent after READY: @everyone role, the bot as member, and one text channel."""
        channels = [{"id": str(self.channel_of(guild_id)), "type": 0, "name": "general", "position": 0,
                     "guild_id": str(guild_id), "permission_overwrites": [], "nsfw": False, "parent_id": None},
                    *self.extra_channels.get(int(guild_id), [])]
        everyone = {"id": str(guild_id), "name": "@everyone", "permissions": str(BASIC_PERMISSIONS), "position": 0,
                    "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0}
        me = {"user": self.bot_user, "roles": [], "joined_at": _now(), "deaf": False, "mute": False, "flags": 0}
        return {"id": str(guild_id), "name": f"guild-{guild_id}", "icon": None, "owner_id": str(USER_ID),
                "unavailable": False, "member_count": 2, "large": False, "features": [], "preferred_locale": "en-US",
                "joined_at": _now(), "roles": [everyone], "channels": channels, "members": [me], "threads": [],
                "emojis": [], "stickers": [], "voice_states": [], "presences": [], "stage_instances": [],
                "guild_scheduled_events": [], "soundboard_sounds": []}

    # ------------------------------------------------------------------ gateway internals
    async def _send(self, ws: web.WebSocketResponse, frame: Dict[str, Any]) -> None:
        async with self._send_lock:
            try:
                await ws.send_str(json.dumps(frame))
            except (ConnectionError, RuntimeError):
                pass  # client went away; dispatches stay in the session's log and are replayed on RESUME

    async def _send_event(self, session: Session, event: str, data: Dict[str, Any]) -> None:
        async with self._send_lock:
            session.seq += 1
            frame = {"op": 0, "t": event, "s": session.seq, "d": data}
            session.log.append(frame)
            if event == "INTERACTION_CREATE" and (sent := self.interactions.get(int(data["id"]))):
                sent.sent_at = sent.sent_at or time.perf_counter()
            ws = session.ws
            if ws is None:
                return  # kept in the log, replayed on RESUME
            try:
                await ws.send_str(json.dumps(frame))
            except (ConnectionError, RuntimeError):
                if session.ws is ws:
                    session.ws, session.ready = None, False

    async def _go_live(self, session: Session, ws: web.WebSocketResponse) -> None:
        session.ws, session.ready = ws, True
        for item in [item for item in self._pending if session.covers(item[1].get("guild_id"))]:
            if session.ws is not ws:
                break
            self._pending.remove(item)
            await self._send_event(session, *item)

    async def _notify(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self.gateway_connections.append(dict(request.query))
        self._sockets.add(ws)
        try:
            await self._send(ws, {"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self._on_gateway(ws, json.loads(msg.data))
                    await self._notify()
        finally:
            self._sockets.discard(ws)
            for session in self.sessions.values():
                if session.ws is ws:
                    session.ws, session.ready = None, False
        return ws

    async def _on_gateway(self, ws: web.WebSocketResponse, msg: Dict[str, Any]) -> None:
        op, d = msg.get("op"), msg.get("d")
        if op == 1:  # HEARTBEAT
            self.heartbeats.append(time.perf_counter())
            if self.ack_heartbeats:
                await self._send(ws, {"op": 11})
        elif op == 2:  # IDENTIFY -> new session
            self.identify_payloads.append(d)
            if d.get("token") != self.token:
                await ws.close(code=4004, message=b"Authentication failed.")
                return
            session = Session(secrets.token_hex(16), tuple(d.get("shard") or (0, 1)), ws)
            self.sessions[session.id] = session
            self.session_id = session.id
            guilds = [g for g in self.guild_ids if session.covers(g)]
            ready = {"v": 10, "user": self.bot_user, "session_id": session.id, "session_type": "normal",
                     "resume_gateway_url": self.gateway_url, "private_channels": [], "relationships": [],
                     "guilds": [{"id": str(g), "unavailable": True} for g in guilds],
                     "application": {"id": str(self.app_id), "flags": self.app_flags}}
            if "shard" in d:
                ready["shard"] = d["shard"]
            await self._send_event(session, "READY", ready)
            if self.send_guild_create:
                for gid in guilds:
                    await self._send_event(session, "GUILD_CREATE", self.guild_payload(gid))
            self.ready_count += 1
            await self._go_live(session, ws)
        elif op == 6:  # RESUME -> replay what the client missed, then RESUMED
            self.resume_payloads.append(d)
            session = self.sessions.get(d.get("session_id") or "")
            if session is None or d.get("token") != self.token:
                await self._send(ws, {"op": 9, "d": False})
                return
            for frame in [f for f in session.log if f["s"] > (d.get("seq") or 0)]:
                await self._send(ws, frame)
            session.ws = ws
            await self._send_event(session, "RESUMED", {})
            self.resumed_count += 1
            await self._go_live(session, ws)
        elif op == 8 and (session := next((s for s in self.sessions.values() if s.ws is ws), None)):
            # REQUEST_GUILD_MEMBERS -> one empty chunk, so chunking never hangs
            await self._send_event(session, "GUILD_MEMBERS_CHUNK", {"guild_id": d["guild_id"], "members": [], "not_found": [],
                                                               "chunk_index": 0, "chunk_count": 1, "nonce": d.get("nonce")})

    # ------------------------------------------------------------------ REST internals
    _ROUTES = [
        ("GET", r"/users/@me", "_r_me", "login"),
        ("GET", r"/gateway(?:/bot)?", "_r_gateway", "gateway"),
        ("GET", r"/oauth2/applications/@me", "_r_app", "application"),
        ("GET PUT", r"/applications/(?P<app>\d+)(?:/guilds/(?P<guild>\d+))?/commands", "_r_commands", "commands"),
        ("POST", r"/interactions/(?P<iid>\d+)/(?P<token>[^/]+)/callback", "_r_callback", "callback"),
        ("POST", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)", "_r_followup", "followup"),
        ("GET PATCH DELETE", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)",
         "_r_webhook_message", None),
        ("POST", r"/channels/(?P<cid>\d+)/messages", "_r_channel_message", "channel_message"),
        ("GET PATCH", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)", "_r_channel_message_by_id", None),
    ]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.path == "/" and request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._gateway(request)
        t = time.perf_counter()
        body, files = await self._read_body(request)
        prefixed = request.path.startswith(API_PREFIX + "/")
        rec = Recorded(request.method, request.path[len(API_PREFIX):] if prefixed else request.path,
                       dict(request.query), body, files, t, auth=request.headers.get("Authorization"))
        route = next(((h, k, m) for methods, rx, h, k in self._ROUTES if request.method in methods.split()
                      and (m := re.fullmatch(rx, rec.path))), None) if prefixed else None
        if rec.auth is not None and rec.auth != f"Bot {self.token}":
            resp = _error(401, "401: Unauthorized")
        elif route is None:
            resp = _error(404, "404: Not Found")
        else:
            handler, rec.kind, match = route[0], route[1] or rec.kind, route[2]
            resp = await getattr(self, handler)(rec, **match.groupdict())
        rec.status = resp.status
        self.requests.append(rec)
        await self._notify()
        return resp

    @staticmethod
    async def _read_body(request: web.Request) -> tuple:
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            files = [v.filename for v in form.values() if hasattr(v, "filename")]
            return json.loads(form.get("payload_json") or "null"), files
        text = await request.text()
        return (json.loads(text) if text else None), []

    def _tag(self, rec: Recorded, sent: SentInteraction) -> None:
        rec.interaction_id = sent.id
        rec.latency = rec.time - sent.sent_at if sent.sent_at else None

    def _message(self, body: Dict[str, Any], channel_id: Any, flags: int = 0) -> Dict[str, Any]:
        mid = str(next(self._ids))
        msg = {"id": mid, "type": 0, "channel_id": str(channel_id), "author": self.bot_user, "content": "",
               "embeds": [], "components": [], "attachments": [], "mentions": [], "mention_roles": [],
               "mention_everyone": False, "pinned": False, "tts": False, "timestamp": _now(),
               "edited_timestamp": None, "flags": 0, "application_id": str(self.app_id)}
        msg.update({k: v for k, v in body.items() if k in ("content", "embeds", "components", "flags", "tts")})
        msg["flags"] = (msg.get("flags") or 0) | flags
        self.messages[mid] = msg
        return msg

    async def _r_me(self, rec: Recorded) -> web.Response:
        return _json(self.bot_user)

    async def _r_gateway(self, rec: Recorded) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    async def _r_app(self, rec: Recorded) -> web.Response:
        return _json({"id": str(self.app_id), "name": "fake-app", "description": "", "icon": None, "bot_public": True,
                      "bot_require_code_grant": False, "owner": self.user_payload(USER_ID, "owner"), "team": None,
                      "verify_key": "0" * 64, "flags": self.app_flags, "bot": self.bot_user})

    async def _r_commands(self, rec: Recorded, app: str, guild: Optional[str]) -> web.Response:
        if int(app) != self.app_id:
            return _error(404, "Unknown Application", 10002)
        scope = int(guild) if guild else None
        if scope in self.forbidden_guilds:
            return _error(403, "Missing Access", 50001)
        if rec.method == "PUT":
            self.command_bodies[scope] = rec.json
            old = {c["name"]: c["id"] for c in self._registered.get(scope, [])}
            self._registered[scope] = [
                {"description": "", "type": 1, **c, "id": old.get(c["name"]) or str(next(self._ids)),
                 "application_id": str(self.app_id), "version": str(next(self._ids)),
                 **({"guild_id": str(scope)} if scope else {})} for c in rec.json]
        return _json(self._registered.get(scope, []))

    async def _r_callback(self, rec: Recorded, iid: str, token: str) -> web.Response:
        sent = self.interactions.get(int(iid))
        if sent is None or sent.token != token:
            return _error(404, "Unknown interaction", 10062)
        self._tag(rec, sent)
        if sent.responded:
            return _error(400, "Interaction has already been acknowledged.", 40060)
        if self.ack_deadline is not None and (rec.latency or 0) > self.ack_deadline:
            return _error(404, "Unknown interaction", 10062)
        sent.responded = True
        rtype, data = (rec.json or {}).get("type"), (rec.json or {}).get("data") or {}
        cb: Dict[str, Any] = {"id": iid, "type": sent.payload["type"]}
        resource: Dict[str, Any] = {"type": rtype}
        if rtype in (4, 5):  # message now, or a "thinking..." placeholder
            msg = self._message(data, sent.payload["channel_id"], LOADING if rtype == 5 else 0)
            sent.original = msg["id"]
            cb.update(response_message_id=msg["id"], response_message_loading=rtype == 5,
                      response_message_ephemeral=bool(msg["flags"] & EPHEMERAL))
            if rtype == 4:
                resource["message"] = msg
        elif rtype in (6, 7) and "message" in sent.payload:  # (deferred) update of the component's message
            msg = self.messages.setdefault(sent.payload["message"]["id"], sent.payload["message"])
            sent.original = msg["id"]
            if rtype == 7:
                msg.update({k: v for k, v in data.items() if k in ("content", "embeds", "components", "flags")})
                msg["edited_timestamp"] = _now()
                resource["message"] = msg
            cb["response_message_id"] = msg["id"]
        if rec.query.get("with_response", "").lower() not in ("1", "true"):  # discord.py 2.7 always sends "1"
            return web.Response(status=204)
        return _json({"interaction": cb, "resource": resource})

    async def _r_followup(self, rec: Recorded, app: str, token: str) -> web.Response:
        sent = self._by_token.get(token)
        if sent is None or int(app) != self.app_id or not sent.responded:
            return _error(404, "Unknown Webhook", 10015)
        self._tag(rec, sent)
        loading = self.messages.get(sent.original or "")
        if loading is not None and loading.get("flags", 0) & LOADING:
            # As Discord does: the first follow-up after a deferred "thinking" response edits that
            # placeholder, keeping its visibility: the follow-up's own ephemeral flag is ignored.
            loading.update({k: v for k, v in (rec.json or {}).items() if k in ("content", "embeds", "components")})
            loading.update(flags=loading["flags"] & ~LOADING, edited_timestamp=_now())
            return _json(loading)
        msg = self._message(rec.json or {}, sent.payload["channel_id"])
        sent.followups.append(msg["id"])
        return _json(msg)

    async def _r_webhook_message(self, rec: Recorded, app: str, token: str, mid: str) -> web.Response:
        rec.kind = {"GET": "get", "PATCH": "edit", "DELETE": "delete"}[rec.method] + (
            "_original" if mid == "@original" else "_followup")
        sent = self._by_token.get(token)
        if sent is None or int(app) != self.app_id:
            return _error(404, "Unknown Webhook", 10015)
        self._tag(rec, sent)
        msg = self.messages.get((sent.original if mid == "@original" else mid) or "")
        if msg is None:
            return _error(404, "Unknown Message", 10008)
        if rec.method == "DELETE":
            del self.messages[msg["id"]]
            return web.Response(status=204)
        if rec.method == "PATCH":
            msg.update({k: v for k, v in (rec.json or {}).items() if k in ("content", "embeds", "components", "flags")})
            msg.update(flags=(msg.get("flags") or 0) & ~LOADING, edited_timestamp=_now())
        return _json(msg)

    async def _r_channel_message(self, rec: Recorded, cid: str) -> web.Response:
        return _json(self._message(rec.json or {}, cid))

    async def _r_channel_message_by_id(self, rec: Recorded, cid: str, mid: str) -> web.Response:
        """Read or edit a message in a channel. As Discord: the bot edits only its own messages, and
        an ephemeral message is no channel's (only its interaction's token reaches it)."""
        rec.kind = "get_message" if rec.method == "GET" else "edit_message"
        msg = self.messages.get(mid)
        if msg is None or msg.get("channel_id") != cid or (msg.get("flags") or 0) & EPHEMERAL:
            return _error(404, "Unknown Message", 10008)
        if rec.method == "PATCH":
            if msg.get("author", {}).get("id") != self.bot_user["id"]:
                return _error(403, "Cannot edit a message authored by another user", 50005)
            msg.update({k: v for k, v in (rec.json or {}).items() if k in ("content", "embeds", "components")})
            msg["edited_timestamp"] = _now()
        return _json(msg)
