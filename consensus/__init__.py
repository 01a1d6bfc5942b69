"""QBFT-style proof of authority, as pure code: no I/O, no clocks, no randomness.

- `messages`: PROPOSAL, PREPARE, COMMIT, ROUND-CHANGE; signing, wire encoding, decoding with sender recovery.
- `seals`: the header's BFT extra data and commit seals; `verify_commit_seals` proves a block final.
- `validators`: proposer rotation, quorum, validator set changes by vote, signer metrics.
- `justification`: when a round change or a later-round proposal may be believed (the QBFT "Justify" rules).
- `events`: the state machine's configuration, timer events and actions.
- `qbft`: `QbftEngine`, the state machine of one validator.
- `abc`: the `BlockSource` and `Transport` interfaces; `memory_network`: a virtual-clock network for tests.

Consensus knows nothing of contracts and imports nothing of the node but `node.crypto`.
"""
