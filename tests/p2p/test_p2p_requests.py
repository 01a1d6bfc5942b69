"""Request-response for sync over real libp2p streams: answers, timeouts, failures, size limits."""

import asyncio
import logging

import pytest
from p2p_helpers import ADDRESSES, KEYS, network, run

from node.p2p import (
    MessageTooLarge,
    NetworkLimits,
    P2PNetwork,
    PeerUnavailable,
    RequestFailed,
    RequestTimeout,
    peer_id_from_private_key,
)

HEADERS = "/energy/sync/headers/1"
BLOCKS = "/energy/sync/blocks/1"


def test_request_round_trip_runs_the_handler_on_the_node_loop():
    async def scenario():
        loop = asyncio.get_running_loop()
        seen = []

        async def serve_headers(sender: bytes, request: bytes) -> bytes:
            assert asyncio.get_running_loop() is loop
            seen.append(sender)
            return b"headers for " + request

        async with network(2) as (a, b):
            a.set_request_handler(HEADERS, serve_headers)
            b.set_request_handler(BLOCKS, lambda sender, request: _echo(request))
            assert await b.request(a.address, HEADERS, b"1..100", timeout=5.0) == b"headers for 1..100"
            assert await a.request(b.address, BLOCKS, b"x" * 100_000, timeout=5.0) == b"x" * 100_000
            assert seen == [b.address]

    run(scenario())


async def _echo(request: bytes) -> bytes:
    return request


def test_stalled_responder_times_out():
    async def scenario():
        never = asyncio.Event()

        async def stall(sender: bytes, request: bytes) -> bytes:
            await never.wait()
            return b""

        async with network(2) as (a, b):
            a.set_request_handler(HEADERS, stall)
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(RequestTimeout):
                await b.request(a.address, HEADERS, b"1..100", timeout=0.5)
            assert loop.time() - started < 2.0

    run(scenario())


def test_failing_handler_and_unknown_protocol_fail_the_request(caplog):
    caplog.set_level(logging.ERROR, logger="node.p2p")

    async def broken(sender: bytes, request: bytes) -> bytes:
        raise ValueError("no such block")

    async def scenario():
        async with network(2) as (a, b):
            a.set_request_handler(HEADERS, broken)
            with pytest.raises(RequestFailed):
                await b.request(a.address, HEADERS, b"1", timeout=5.0)
            assert "no such block" in caplog.text
            with pytest.raises(RequestFailed):
                await b.request(a.address, "/energy/sync/nothing/1", b"1", timeout=5.0)

    run(scenario())


def test_oversized_response_drops_the_responder(caplog):
    caplog.set_level(logging.WARNING, logger="node.p2p")
    small = NetworkLimits(max_message_bytes=1024)

    async def scenario():
        async with network(2, limits=[NetworkLimits(), small]) as (a, b):
            a.set_request_handler(BLOCKS, lambda sender, request: _echo(request * 100))
            with pytest.raises(MessageTooLarge):
                await b.request(a.address, BLOCKS, b"0123456789abcdef", timeout=5.0)
            with pytest.raises(MessageTooLarge):
                await b.request(a.address, BLOCKS, b"x" * 1025, timeout=5.0)  # refused before sending
            assert "dropping peer" in caplog.text
            assert "exceeds the limit of 1024" in caplog.text

    run(scenario())


def test_request_to_a_peer_that_is_down_fails_fast():
    async def scenario():
        dead = f"/ip4/127.0.0.1/tcp/9/p2p/{peer_id_from_private_key(KEYS[2])}"
        async with P2PNetwork(KEYS[1], "/ip4/127.0.0.1/tcp/0", [dead], ADDRESSES) as b:
            with pytest.raises(PeerUnavailable):
                await b.request(ADDRESSES[2], HEADERS, b"1", timeout=5.0)
            with pytest.raises(PeerUnavailable):
                await b.request(ADDRESSES[3], HEADERS, b"1", timeout=5.0)  # not a bootstrap peer, not connected

    run(scenario())
