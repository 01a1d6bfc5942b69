"""JSON-RPC to several nodes with failover: an unreachable node or one that answers garbage is skipped.

A node is never trusted for finality (see `follower`): it is only a source of headers, blocks and receipts
that the gateway checks, and a way into the network for its transactions.
"""
from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Any, Callable, TypeVar

log = logging.getLogger("energy_gateway.nodes")
T = TypeVar("T")


class NodeError(Exception):
    """One node failed to give a usable answer (unreachable, HTTP error, not JSON-RPC, failed a check)."""

    def __init__(self, url: str, message: str) -> None:
        super().__init__(f"node {url}: {message}")
        self.url = url


class NodeRejected(Exception):
    """A node answered with a JSON-RPC error object: a real answer (e.g. "nonce too low"), not a fault."""

    def __init__(self, url: str, code: int, message: str) -> None:
        super().__init__(f"node {url} rejected the call: {message} (code {code})")
        self.url = url
        self.code = code
        self.message = message


class NoNodeAvailable(Exception):
    """Every configured node failed; the causes are in `failures`."""

    def __init__(self, method: str, failures: list[Exception]) -> None:
        super().__init__(f"{method}: no node gave a usable answer: " + "; ".join(str(f) for f in failures))
        self.failures = failures


def call_node(url: str, method: str, params: list, timeout: float) -> Any:
    """One JSON-RPC call; NodeError for a transport or format fault, NodeRejected for an error object."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = response.read(16 * 1024 * 1024)
    except urllib.error.HTTPError as exc:
        raise NodeError(url, f"HTTP {exc.code} for {method}") from None
    except (OSError, ValueError) as exc:
        raise NodeError(url, f"unreachable for {method}: {exc}") from None
    try:
        answer = json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise NodeError(url, f"answered {method} with something that is not JSON: {payload[:60]!r}") from None
    if not isinstance(answer, dict) or ("result" not in answer and "error" not in answer):
        raise NodeError(url, f"answered {method} with a JSON value that is not a JSON-RPC response")
    if "error" in answer and answer["error"] is not None:
        error = answer["error"]
        if not isinstance(error, dict):
            raise NodeError(url, f"answered {method} with a malformed error {error!r}")
        code = error.get("code")
        raise NodeRejected(url, code if isinstance(code, int) else 0, str(error.get("message", "")))
    return answer["result"]


class NodePool:
    """The nodes of the configuration, tried in order starting from the last one that worked."""

    def __init__(self, urls: tuple[str, ...], timeout: float) -> None:
        if not urls:
            raise ValueError("at least one node URL is needed")
        self.urls = urls
        self.timeout = timeout
        self._preferred = 0

    def _order(self) -> list[str]:
        return list(self.urls[self._preferred:]) + list(self.urls[:self._preferred])

    def call(self, method: str, *params: Any, check: Callable[[Any], T] | None = None,
             rejected_is_final: bool = False) -> T:
        """The first usable answer. `check` validates (and may convert) a result, raising ValueError to move on
        to the next node. An error object is a node fault (skipped) unless `rejected_is_final` says it is the
        answer itself (a revert of eth_call, a refused transaction): then NodeRejected is raised at once."""
        failures: list[Exception] = []
        for url in self._order():
            try:
                result = call_node(url, method, list(params), self.timeout)
                value = check(result) if check else result
            except NodeError as exc:
                failures.append(exc)
                log.warning("node failed", extra={"fields": {"node": url, "method": method, "error": str(exc)}})
                continue
            except NodeRejected as exc:
                if rejected_is_final:
                    raise
                failures.append(exc)
                log.warning("node rejected a call", extra={"fields": {"node": url, "method": method,
                                                                      "error": exc.message}})
                continue
            except (ValueError, TypeError, KeyError) as exc:
                failures.append(NodeError(url, f"answer to {method} failed a check: {exc}"))
                log.warning("node gave a bad answer", extra={"fields": {"node": url, "method": method,
                                                                        "error": str(exc)}})
                continue
            self._preferred = self.urls.index(url)
            return value
        raise NoNodeAvailable(method, failures)

    def broadcast(self, method: str, *params: Any) -> tuple[list[str], list[Exception]]:
        """Call every node (sending a transaction to each gets it into the network whichever is up)."""
        accepted, failures = [], []
        for url in self.urls:
            try:
                call_node(url, method, list(params), self.timeout)
                accepted.append(url)
            except (NodeError, NodeRejected) as exc:
                failures.append(exc)
        return accepted, failures
