"""Request-response for sync: one stream per request, one frame each way, both under a timeout.

The handler runs on the node's asyncio loop (it reads the chain store there); the trio side only moves bytes.
A responder that stalls mid-stream makes the requester's timeout fire; a frame above the limit drops the peer.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import trio
from libp2p.abc import INetStream

from .errors import MalformedFrame, MessageTooLarge, NetworkError, PeerNotAllowed, RequestFailed, RequestTimeout
from .framing import FrameReader, encode_frame

if TYPE_CHECKING:
    from .service import NetworkService

logger = logging.getLogger(__name__)

RequestHandler = Callable[[bytes, bytes], Awaitable[bytes]]
"""`async handler(sender_address, request_bytes) -> response_bytes`, run on the node's asyncio loop."""


async def request(
    service: NetworkService, address: bytes, protocol: str, data: bytes, timeout: float
) -> bytes:
    """Send one request and return the response (trio side)."""
    limit = service.limits.max_message_bytes
    if len(data) > limit:
        raise MessageTooLarge(len(data), limit)
    if address not in service.allowlist:
        raise PeerNotAllowed(address)
    stream: INetStream | None = None
    try:
        with trio.fail_after(timeout):
            stream = await service.open_stream(address, protocol)
            await stream.write(encode_frame(data))
            response = await FrameReader(stream, limit).read_frame()
    except trio.TooSlowError:
        raise RequestTimeout(address, protocol, timeout) from None
    except (MessageTooLarge, MalformedFrame) as exc:
        if stream is not None:
            await service.drop_peer(stream.muxed_conn.peer_id, f"response to {protocol}: {exc}")
        raise
    except NetworkError:
        raise
    except Exception as exc:  # stream reset, protocol not supported: libp2p raises many unrelated types
        raise RequestFailed(address, protocol, f"{type(exc).__name__}: {exc}") from exc
    finally:
        await service.close_stream(stream)
    if response is None:
        raise RequestFailed(address, protocol, "stream closed without a response")
    return response


async def serve(service: NetworkService, protocol: str, handler: RequestHandler, stream: INetStream) -> None:
    """Answer one request stream with the node's handler (trio side)."""
    peer_id = stream.muxed_conn.peer_id
    address = service.address_of(peer_id)
    limits = service.limits
    try:
        with trio.fail_after(limits.request_read_timeout):
            data = await FrameReader(stream, limits.max_message_bytes).read_frame()
        if data is None:
            return
        response = await _answer(service, protocol, handler, address, data)
        if response is None:
            await service.reset_stream(stream)
            return
        await stream.write(encode_frame(response))
    except trio.TooSlowError:
        logger.warning("%s request from 0x%s not received in time", protocol, address.hex())
        await service.reset_stream(stream)
    except (MessageTooLarge, MalformedFrame) as exc:
        await service.drop_peer(peer_id, f"request {protocol}: {exc}")
    except Exception as exc:  # the requester reset the stream or the connection went away
        logger.debug("%s request from 0x%s abandoned: %r", protocol, address.hex(), exc)
    finally:
        await service.close_stream(stream)


async def _answer(
    service: NetworkService, protocol: str, handler: RequestHandler, address: bytes, data: bytes
) -> bytes | None:
    """The handler's response, or None (logged) if it failed, took too long or answered too much."""
    limits = service.limits
    try:
        with trio.fail_after(limits.handler_timeout):
            response = await service.bridge.run_in_asyncio(handler, address, data)
    except trio.TooSlowError:
        logger.error("%s handler took more than %ss", protocol, limits.handler_timeout)
        return None
    except Exception:  # the node's handler failed: the requester sees a reset, the log has the traceback
        logger.exception("%s handler failed for a request from 0x%s", protocol, address.hex())
        return None
    if not isinstance(response, bytes) or len(response) > limits.max_message_bytes:
        logger.error("%s handler answered %r (not bytes within the size limit); not sent", protocol, type(response))
        return None
    return response
