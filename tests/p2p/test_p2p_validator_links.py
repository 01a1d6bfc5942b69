"""The consensus transport over real libp2p hosts: broadcast to the other validators, send to one, handler."""

import asyncio

from p2p_helpers import eventually, network, run

from consensus.abc import Transport
from node.p2p import ValidatorLinks


def test_validator_links_implement_the_consensus_transport():
    async def scenario():
        async with network(4, full_mesh=True) as nets:
            a, b, c, observer = nets
            validators = [a.address, b.address, c.address]  # the fourth node is an observer
            links = [ValidatorLinks(net, lambda: validators) for net in (a, b, c)]
            Transport.register(ValidatorLinks)
            assert isinstance(links[0], Transport)
            inboxes: list[list[bytes]] = [[], [], []]
            for link, inbox in zip(links, inboxes):
                link.set_handler(inbox.append)

            links[0].broadcast(b"prepare")
            links[1].send(c.address, b"commit")
            await eventually(lambda: _equal(inboxes[1], [b"prepare"]))
            await eventually(lambda: _equal(sorted(inboxes[2]), [b"commit", b"prepare"]))
            assert inboxes[0] == []  # a node never hears its own broadcast

            await observer.send_direct(a.address, b"not from a validator")
            await b.send_direct(a.address, b"round change")
            await eventually(lambda: _equal(inboxes[0], [b"round change"]))
            for link in links:
                await link.close()

    run(scenario())


async def _equal(actual, expected) -> bool:
    await asyncio.sleep(0)
    return actual == expected
