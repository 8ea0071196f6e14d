import pytest
from bot.audit_store import Scope
from bot_world import GUILD_A, MODERATOR, bot_world
from store_backends import postgres_server, postgres_url  # noqa

@pytest.mark.asyncio
async def test_debug(bm25_index, tmp_path, postgres_url):
    async with bot_world(bm25_index, tmp_path, postgres_url) as world:
        await world.set_modlog(user_id=11)
        for i in range(3):
            body, _ = await world.ask("why did amnesty withdraw navalny's prisoner of conscience status", user_id=21+i)
            print(i, bool(body.get("embeds")))
        [entry] = await world.store.recent(Scope.guild(GUILD_A), 1)
        await world.command("audit hide", {"id": entry.id, "quote_number": 1, "reason": "legal request"}, permissions=MODERATOR)
        body, _ = await world.ask("why did amnesty withdraw navalny's prisoner of conscience status", user_id=29)
        assert body.get("embeds")
