from bot.discord.cooldown import PRUNE_SECONDS, Cooldown
from bot.store.values import MAX_COOLDOWN_SECONDS


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_member_waits_in_one_server_only_and_the_servers_own_length_counts():
    clock = Clock()
    cooldown = Cooldown(10.0, clock)
    cooldown.start(1, 7)
    clock.now += 4
    assert cooldown.remaining(1, 7) == 6.0
    assert cooldown.remaining(2, 7) == 0.0 and cooldown.remaining(None, 7) == 0.0  # another server, DMs
    assert cooldown.remaining(1, 7, seconds=3.0) == 0.0  # the server shortened it since


def test_members_whose_pause_is_over_are_dropped_from_the_map():
    clock = Clock()
    cooldown = Cooldown(10.0, clock)
    for user in range(100):
        cooldown.start(1, user)
    clock.now += MAX_COOLDOWN_SECONDS + PRUNE_SECONDS
    cooldown.start(1, 500)
    assert len(cooldown) == 1 and cooldown.remaining(1, 500) == 10.0
