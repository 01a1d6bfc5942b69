"""Typed errors of the node: each says what is wrong and keeps the offending value."""

from __future__ import annotations


class InvalidTransaction(ValueError):
    """A transaction that can never be included: malformed, badly signed or out of bounds."""


class TransactionTooLarge(InvalidTransaction):
    """The encoded transaction exceeds the size limit."""


class WrongChainId(InvalidTransaction):
    """Signed for another chain (or without EIP-155 replay protection)."""


class UnsupportedTransactionType(InvalidTransaction):
    """A typed transaction other than EIP-1559, or contract creation."""


class NonceTooLow(InvalidTransaction):
    """The sender already used this nonce."""


class NonceGap(InvalidTransaction):
    """The nonce is ahead of the sender's next nonce."""


class InsufficientFunds(InvalidTransaction):
    """The sender cannot pay value plus the maximum fee."""


class IntrinsicGasTooLow(InvalidTransaction):
    """The gas limit does not cover the transaction's intrinsic gas."""


class GasLimitExceeded(InvalidTransaction):
    """The gas limit exceeds what a block allows."""


class InvalidBlock(ValueError):
    """A block that does not follow from its parent: wrong header, roots, seals or transactions."""


class MissingBlock(LookupError):
    """The chain store has no block for that number or hash."""
