"""Validator votes this node's operator asked for (`qbft_proposeValidatorVote`), waiting to go into blocks.

Besu's model: the operator of a validator proposes to add or remove a candidate; each block this validator builds
carries one of its pending votes in the header, and the chain counts them (`consensus.validators`). A vote that
can no longer change anything (the candidate already is, or already is not, a validator) is dropped.
"""

from __future__ import annotations

import threading

from consensus.validators import ValidatorSnapshot, Vote


class PendingVotes:
    """Candidate -> add (True) or remove (False); read by the block builder's thread, changed by RPC."""

    def __init__(self) -> None:
        self._votes: dict[bytes, bool] = {}
        self._lock = threading.Lock()

    def propose(self, candidate: bytes, add: bool) -> None:
        with self._lock:
            self._votes[candidate] = add

    def discard(self, candidate: bytes) -> None:
        with self._lock:
            self._votes.pop(candidate, None)

    def all(self) -> dict[bytes, bool]:
        with self._lock:
            return dict(self._votes)

    def choose(self, snapshot: ValidatorSnapshot, voter: bytes, height: int) -> Vote | None:
        """The vote for the block at `height`: a pending one that still changes something, rotating by height.

        Votes this validator already has standing on the chain come last, so that every candidate gets its turn.
        """
        with self._lock:
            for candidate in [c for c, add in self._votes.items() if add == (c in snapshot.validators)]:
                del self._votes[candidate]
            if not self._votes:
                return None
            standing = {(cast.candidate, cast.add) for cast in snapshot.votes if cast.voter == voter}
            fresh = sorted(c for c, add in self._votes.items() if (c, add) not in standing)
            pool = fresh or sorted(self._votes)
            candidate = pool[height % len(pool)]
            return Vote(candidate, self._votes[candidate])
