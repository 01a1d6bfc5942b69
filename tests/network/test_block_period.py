"""The driver's block period: counted from when the previous height started, so a busy chain does not idle."""

from consensus.events import TimerEvent, TimerKind
from node.bft.driver import timer_delay

PERIOD = 0.25


def test_the_period_counts_from_the_previous_height_start():
    started = {4: 100.0}
    period = TimerEvent(5, 0, TimerKind.BLOCK_PERIOD)
    assert abs(timer_delay(period, PERIOD, started, now=100.1) - 0.15) < 1e-9  # a quick height: wait the rest
    assert timer_delay(period, PERIOD, started, now=101.0) == 0.0  # a height that took longer: propose at once


def test_without_a_previous_height_or_for_other_timers_the_engine_delay_stands():
    assert timer_delay(TimerEvent(5, 0, TimerKind.BLOCK_PERIOD), PERIOD, {}, now=7.0) == PERIOD  # just started
    assert timer_delay(TimerEvent(5, 0, TimerKind.ROUND_TIMEOUT), 4.0, {4: 0.0}, now=7.0) == 4.0
    assert timer_delay(TimerEvent(5, 1, TimerKind.RETRANSMIT), 1.0, {4: 0.0}, now=7.0) == 1.0
