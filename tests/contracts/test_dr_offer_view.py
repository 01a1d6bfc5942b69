"""The `offer(offerId)` view: an obligation offer reads back as posted, open until a `handOver` accepts it."""

from contracts_py import demand_response as dr
from contracts_py import ruble
from test_billing_world import BANK, CONSUMER, GRID, NEIGHBOUR
from test_dr_events import EVENT_END, EVENT_START, world  # noqa: F401  (the fixture)


def test_an_offer_reads_back_open_until_handed_over(world):
    event_id = world.ok(GRID, dr.ADDRESS, "announceEvent", 1, EVENT_START, EVENT_END, [4001, 4002],
                        [2_000, 3_000]).value
    offer_id = world.ok(CONSUMER, dr.ADDRESS, "offerToTake", event_id, 4001, 1_000, 1_500).value
    assert world.ok(GRID, dr.ADDRESS, "offer", offer_id).value == (event_id, 4001, 1_000, 1_500, True)
    world.ok(BANK, ruble.ADDRESS, "transfer", NEIGHBOUR, 1_500)
    world.ok(NEIGHBOUR, dr.ADDRESS, "handOver", offer_id, 4002)
    assert world.ok(GRID, dr.ADDRESS, "offer", offer_id).value == (event_id, 4001, 1_000, 1_500, False)


def test_an_unknown_offer_is_refused_by_name(world):
    unknown = world.call(GRID, dr.ADDRESS, "offer", 7)
    assert not unknown.success and unknown.revert_reason == "unknown obligation offer 7"
