"""QBFT over the real network: the node's side of `consensus`.

- `service.BftService`: libp2p, the QBFT driver, sync and transaction gossip around one `Node`.
- `driver.QbftDriver`: runs the engine on a worker thread, executes its actions, holds back idle rounds.
- `block_source.NodeBlockSource`: builds blocks from the mempool, validates proposals (the empty-block rule).
- `sync`: `/energy/sync/headers/1` and `/energy/sync/blocks/1`, server and client.
- `tx_gossip`: transaction batches between nodes.
- `votes.PendingVotes`: validator votes the operator asked for (`qbft_proposeValidatorVote`).
"""
