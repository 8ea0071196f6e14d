"""The Discord settings: shards and operators, read from the environment with clear refusals."""
from __future__ import annotations

import pytest

from bot.settings import BadSetting, from_env


def settings(tmp_path, **env):
    return from_env(env, tmp_path)


def test_no_shard_settings_let_discord_choose_and_this_process_syncs(tmp_path):
    s = settings(tmp_path)
    assert (s.shard_count, s.shard_ids, s.syncs_commands) == (None, None, True)


@pytest.mark.parametrize("ids, expected, syncs", [("0", (0,), True), ("2,3", (2, 3), False), ("0-2", (0, 1, 2), True), (" 1 , 3 ", (1, 3), False)])
def test_shard_ids_and_ranges_within_the_count(tmp_path, ids, expected, syncs):
    s = settings(tmp_path, DISCORD_SHARD_COUNT="4", DISCORD_SHARD_IDS=ids)
    assert (s.shard_count, s.shard_ids, s.syncs_commands) == (4, expected, syncs)


def test_a_shard_count_alone_runs_every_shard_here(tmp_path):
    assert settings(tmp_path, DISCORD_SHARD_COUNT="3").shard_ids is None


@pytest.mark.parametrize("env, message", [
    ({"DISCORD_SHARD_COUNT": "two"}, "DISCORD_SHARD_COUNT: 'two' is not a number of shards"),
    ({"DISCORD_SHARD_COUNT": "0"}, "DISCORD_SHARD_COUNT: '0' is not a number of shards"),
    ({"DISCORD_SHARD_IDS": "0"}, "DISCORD_SHARD_IDS is set but DISCORD_SHARD_COUNT is not"),
    ({"DISCORD_SHARD_COUNT": "2", "DISCORD_SHARD_IDS": "2"}, "shard 2 is out of range for DISCORD_SHARD_COUNT=2 (ids run from 0 to 1)"),
    ({"DISCORD_SHARD_COUNT": "4", "DISCORD_SHARD_IDS": "0,x"}, "'x' is not a shard id or range"),
    ({"DISCORD_SHARD_COUNT": "4", "DISCORD_SHARD_IDS": "3-1"}, "'3-1' is an empty range"),
    ({"DISCORD_SHARD_COUNT": "4", "DISCORD_SHARD_IDS": "1,0-2"}, "shard 1 is named twice"),
    ({"STORYBOT_OWNER_IDS": "123,@me"}, "STORYBOT_OWNER_IDS: '@me' is not a user id"),
    ({"STORYBOT_OPERATOR_GUILD_IDS": "my-server"}, "STORYBOT_OPERATOR_GUILD_IDS: 'my-server' is not a guild id"),
])
def test_bad_values_are_refused_naming_the_setting(tmp_path, env, message):
    with pytest.raises(BadSetting, match=message.replace("(", r"\(").replace(")", r"\)")):
        settings(tmp_path, **env)


def test_operators_are_user_and_guild_ids(tmp_path):
    s = settings(tmp_path, STORYBOT_OWNER_IDS="11, 12", STORYBOT_OPERATOR_GUILD_IDS="21")
    assert (s.owner_ids, s.operator_guild_ids) == ((11, 12), (21,))
