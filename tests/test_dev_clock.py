"""The dev clock of a single-validator dev network (`node.solo.DevClock`): forward only, strictly increasing."""

import time

import pytest

from node.solo import DevClock, DevTimeError


def test_blocks_are_strictly_after_their_parent_even_when_the_clock_is_behind():
    clock = DevClock()
    far_ahead = int(time.time()) + 10_000
    assert clock.block_timestamp(far_ahead) == far_ahead + 1


def test_a_fixed_timestamp_is_used_once_and_the_clock_continues_from_it():
    clock = DevClock()
    head = int(time.time())
    target = head + 86_400
    clock.set_next_block_timestamp(target, head)
    assert clock.block_timestamp(head) == target
    assert clock.block_timestamp(head) == target  # until a block is sealed with it
    clock.sealed(target)
    assert 86_400 - 5 <= clock.offset_s <= 86_400 + 5
    assert clock.block_timestamp(target) >= target + 1


def test_time_never_goes_back():
    clock = DevClock()
    with pytest.raises(DevTimeError, match="must be after the head's 1000"):
        clock.set_next_block_timestamp(1000, 1000)
    with pytest.raises(DevTimeError, match="time only moves forward"):
        clock.increase_time(-1)
    assert clock.increase_time(60) == 60 and clock.increase_time(30) == 90
