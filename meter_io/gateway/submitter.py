"""From queued readings to final transactions: sign (stored before sending), send with failover, follow receipts,
and let the finality follower decide when a transaction's readings may leave the queue.
"""
from __future__ import annotations

import logging
import time

import eth_abi
from eth_abi.exceptions import DecodingError

from contracts_py import readings as readings_contract
from meter_io.gateway.follower import FinalityFollower
from meter_io.gateway.nodes import NodePool, NodeRejected, NoNodeAvailable
from meter_io.gateway.queue import MINED, PENDING, DurableQueue, Reading, StoredTransaction
from node.crypto import keccak256, private_key_to_address
from node.transactions import sign_fee_market_transaction

log = logging.getLogger("energy_gateway.submitter")

POST_METER_READINGS = keccak256(b"postMeterReadings(uint64[],uint64[],uint256[],uint256[])")[:4]
POST_METER_EVENT = keccak256(b"postMeterEvent(uint64,uint8,uint64)")[:4]
METER_STATE = keccak256(b"meterState(uint64)")[:4]
REJECTED_TOPIC = readings_contract.ReadingRejectedEvent.__event_spec__.topic


def readings_call(batch: list[Reading]) -> bytes:
    """Calldata of `postMeterReadings` for a batch ordered by meter, then interval."""
    return POST_METER_READINGS + eth_abi.encode(
        ["uint64[]", "uint64[]", "uint256[]", "uint256[]"],
        [[r.meter_id for r in batch], [r.interval_start for r in batch], [r.import_wh for r in batch],
         [r.export_wh for r in batch]])


def decode_readings_call(data: bytes) -> list[Reading]:
    """The readings a `postMeterReadings` call carries (tests and audits count them)."""
    if data[:4] != POST_METER_READINGS:
        return []
    ids, starts, imports, exports = eth_abi.decode(["uint64[]", "uint64[]", "uint256[]", "uint256[]"], data[4:])
    return [Reading(*row) for row in zip(ids, starts, imports, exports)]


def readings_gas(entries: int) -> int:
    """A generous gas limit: intrinsic calldata, one load/save per meter, one event per reading (gas is free)."""
    return 200_000 + 20_000 * entries


class Submitter:
    def __init__(self, queue: DurableQueue, pool: NodePool, follower: FinalityFollower, private_key: bytes,
                 chain_id: int, max_batch: int, max_in_flight: int, resend_after_s: float,
                 retry_reverted_after_s: float) -> None:
        self.queue = queue
        self.pool = pool
        self.follower = follower
        self.key = private_key
        self.address = private_key_to_address(private_key)
        self.chain_id = chain_id
        self.max_batch = max_batch
        self.max_in_flight = max_in_flight
        self.resend_after_s = resend_after_s
        self.retry_reverted_after_s = retry_reverted_after_s
        self._reported_displaced: set[int] = set()

    # --- one cycle ---------------------------------------------------------------------------------------------

    def cycle(self) -> None:
        """Sign what is waiting, send what is pending, and finish what is final. Node failures are logged and
        the cycle ends early; everything stays in the queue for the next one."""
        try:
            self._learn_nonce()
            self.sign_waiting()
            self.send_pending()
            self.collect_receipts()
            self.follower.advance(self.pool)
            self.finish_final()
        except NoNodeAvailable as exc:
            log.warning("no node reachable; queue kept", extra={"fields": {"error": str(exc),
                                                                           **self.queue.counts()}})

    def _learn_nonce(self) -> None:
        if self.queue.next_nonce() is None:
            nonce = self.pool.call("eth_getTransactionCount", "0x" + self.address.hex(), "pending",
                                   check=lambda v: int(v, 16))
            self.queue.set_next_nonce(nonce)
            log.info("nonce learned from the chain", extra={"fields": {"nonce": nonce}})

    def _sign(self, data: bytes, gas: int) -> tuple[int, bytes, bytes]:
        nonce = self.queue.next_nonce()
        raw = sign_fee_market_transaction(self.key, chain_id=self.chain_id, nonce=nonce,
                                          to=readings_contract.ADDRESS, data=data, gas=gas)
        return nonce, keccak256(raw), raw

    def sign_waiting(self) -> None:
        """Turn waiting readings and events into signed, stored transactions (bounded by `max_in_flight`).

        Nothing new is signed while a signed transaction has not reached any node yet: during an outage the
        readings wait unsigned, so the catch-up goes out in a few full batches instead of one per poll."""
        open_transactions = self.queue.open_transactions()
        if any(tx.state == PENDING and not tx.sent_at for tx in open_transactions):
            return
        in_flight = len(open_transactions)
        for event in self.queue.unassigned_events():
            if in_flight >= self.max_in_flight:
                return
            data = POST_METER_EVENT + eth_abi.encode(["uint64", "uint8", "uint64"],
                                                     [event.meter_id, event.kind, event.at])
            nonce, tx_hash, raw = self._sign(data, 200_000)
            self.queue.store_signed(nonce, tx_hash, raw, [], event)
            in_flight += 1
            log.info("meter event signed", extra={"fields": {"nonce": nonce, "meter_id": event.meter_id,
                                                             "kind": event.kind, "at": event.at}})
        while in_flight < self.max_in_flight:
            waiting = self.queue.unassigned_readings(self.max_batch, time.time())
            if not waiting:
                return
            retried = [reading for reading, attempts in waiting if attempts]
            if retried:  # after a revert: one meter per transaction, so one bad meter does not block the rest
                batch = [r for r in retried if r.meter_id == retried[0].meter_id]
            else:
                batch = [reading for reading, _ in waiting]
            nonce, tx_hash, raw = self._sign(readings_call(batch), readings_gas(len(batch)))
            self.queue.store_signed(nonce, tx_hash, raw, batch)
            in_flight += 1
            log.info("readings signed", extra={"fields": {"nonce": nonce, "tx": "0x" + tx_hash.hex(),
                                                          "readings": len(batch),
                                                          "meters": len({r.meter_id for r in batch})}})

    def send_pending(self) -> None:
        """Send (or resend, the same raw bytes) pending transactions to every node that takes them."""
        now = time.time()
        for tx in self.queue.open_transactions():
            if tx.state != PENDING or now - tx.sent_at < self.resend_after_s:
                continue
            accepted, failures = self.pool.broadcast("eth_sendRawTransaction", "0x" + tx.raw.hex())
            known = [f for f in failures if isinstance(f, NodeRejected) and _already_seen(f.message)]
            if accepted or known:
                self.queue.mark_sent(tx.nonce)
                continue
            for failure in failures:
                log.warning("transaction not accepted", extra={"fields": {"nonce": tx.nonce, "error": str(failure)}})
            if all(not isinstance(f, NodeRejected) for f in failures):
                raise NoNodeAvailable("eth_sendRawTransaction", failures)

    def collect_receipts(self) -> None:
        """Ask for receipts of pending transactions; a receipt is only a hint until `finish_final` checks it."""
        sent = [tx for tx in self.queue.open_transactions() if tx.state == PENDING and tx.sent_at]
        if not sent:
            return
        # the account nonce first: a transaction of ours that used a nonce by then has a receipt afterwards
        chain_nonce = self.pool.call("eth_getTransactionCount", "0x" + self.address.hex(), "latest",
                                     check=lambda v: int(v, 16))
        for tx in sent:
            receipt = self.pool.call("eth_getTransactionReceipt", "0x" + tx.hash.hex(), check=_receipt_or_none)
            if receipt is not None:
                self.queue.mark_mined(tx.nonce, int(receipt["blockNumber"], 16), int(receipt["status"], 16))
                self._report_rejections(tx, receipt)
            elif chain_nonce > tx.nonce and tx.nonce not in self._reported_displaced:
                # Only another transaction signed with this key (a second gateway with the same key, a queue
                # restored from an old backup) can do this. Its readings stay queued: re-signing them could post
                # them twice, so an operator decides.
                self._reported_displaced.add(tx.nonce)
                log.error("nonce used by another transaction of this key; its readings stay queued",
                          extra={"fields": {"nonce": tx.nonce, "tx": "0x" + tx.hash.hex(),
                                            "chain_nonce": chain_nonce}})

    def _report_rejections(self, tx: StoredTransaction, receipt: dict) -> None:
        for entry in receipt.get("logs", []):
            topics = entry.get("topics", [])
            if topics and topics[0] == "0x" + REJECTED_TOPIC.hex():
                try:
                    meter_id, start = int(topics[1], 16), int(topics[2], 16)
                    code, reason = eth_abi.decode(["uint8", "string"], bytes.fromhex(entry["data"][2:]))
                except (ValueError, KeyError, IndexError, TypeError, DecodingError):
                    log.warning("unreadable rejection event in a receipt", extra={"fields": {"nonce": tx.nonce}})
                    continue
                log.error("reading rejected by the readings contract",
                          extra={"fields": {"nonce": tx.nonce, "meter_id": meter_id, "interval_start": start,
                                            "code": code, "reason": reason}})

    def finish_final(self) -> None:
        """Drop readings whose transaction is in a block the gateway checked; give back those that reverted."""
        for tx in self.queue.open_transactions():
            if tx.state != MINED or tx.block_number > self.follower.checkpoint.height:
                continue
            included = self.follower.includes(self.pool, tx.block_number, tx.raw)
            if included is None:
                continue
            if not included:
                log.warning("receipt named a block without the transaction; waiting again",
                            extra={"fields": {"nonce": tx.nonce, "block": tx.block_number}})
                self.queue.mark_unmined(tx.nonce)
                continue
            self.queue.finish(tx.nonce, tx.status == 1, self.retry_reverted_after_s)
            if tx.status == 1:
                log.info("transaction final", extra={"fields": {"nonce": tx.nonce, "block": tx.block_number,
                                                                "entries": tx.entries}})
            else:
                log.error("transaction reverted; its readings are kept and retried meter by meter",
                          extra={"fields": {"nonce": tx.nonce, "block": tx.block_number}})

    # --- chain reads ----------------------------------------------------------------------------------------

    def last_interval_on_chain(self, meter_id: int) -> int | None:
        """The meter's newest interval on the chain (for a meter the queue has never seen), None if unknown."""
        call = {"to": "0x" + readings_contract.ADDRESS.hex(),
                "data": "0x" + (METER_STATE + eth_abi.encode(["uint64"], [meter_id])).hex()}
        try:
            result = self.pool.call("eth_call", call, "latest", check=lambda v: bytes.fromhex(v[2:]),
                                    rejected_is_final=True)
        except (NoNodeAvailable, NodeRejected) as exc:
            log.warning("meter state not readable from the chain",
                        extra={"fields": {"meter_id": meter_id, "error": str(exc)}})
            return None
        types = ["address", "bool", "bool", "uint64", "uint64", "uint64", "uint64", "uint256", "uint256",
                 "uint64", "uint64", "uint64"]
        return eth_abi.decode(types, result)[6]


def _already_seen(message: str) -> bool:
    lowered = message.lower()
    return "known" in lowered or "already" in lowered


def _receipt_or_none(value):
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("blockNumber"), str) \
            or not isinstance(value.get("status"), str):
        raise ValueError("receipt lacks blockNumber or status")
    return value
