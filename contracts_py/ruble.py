"""The ruble token: ERC-20 money of the ledger, 1 unit = 1 kopeck (decimals 2), so wallets show rubles.

Only holders of the issuer role (the settlement bank) mint and burn: every token on-chain stands for a ruble
held off-chain. Other native contracts move a payer's money with `chargeOrigin`, which only works on behalf of the
transaction's signer: a contract can never spend anyone's money but the current signer's."""

from __future__ import annotations

from contracts_py.abi import Address, Bool, Indexed, String, Uint8, Uint256
from contracts_py.participants import Role, require_role
from contracts_py.runtime import Context, ContractStorage, NativeContract, Revert, event, external, internal, view

ADDRESS = bytes.fromhex("000000000000000000000000000000000000e002")
ZERO_ADDRESS = bytes(20)
SUPPLY_KEY = b"supply"


def _balance_key(owner: bytes) -> bytes:
    return b"bal" + owner


def _allowance_key(owner: bytes, spender: bytes) -> bytes:
    return b"alw" + owner + spender


@event
class Transfer:
    from_: Indexed(Address)
    to: Indexed(Address)
    value: Uint256


@event
class Approval:
    owner: Indexed(Address)
    spender: Indexed(Address)
    value: Uint256


def credit_at_genesis(storage: ContractStorage, owner: bytes, amount: int) -> None:
    """Genesis balances: minted into existence with the supply that backs them."""
    storage.set_int(_balance_key(owner), storage.get_int(_balance_key(owner)) + amount)
    storage.set_int(SUPPLY_KEY, storage.get_int(SUPPLY_KEY) + amount)


def _move(ctx: Context, source: bytes, target: bytes, amount: int) -> None:
    if target == ZERO_ADDRESS:
        raise Revert("transfer to the zero address")
    storage = ctx.storage
    balance = storage.get_int(_balance_key(source))
    if balance < amount:
        raise Revert(f"insufficient balance: has {balance}, needs {amount} kopecks")
    if source != target:
        storage.set_int(_balance_key(source), balance - amount)
        storage.set_int(_balance_key(target), storage.get_int(_balance_key(target)) + amount)
    ctx.emit(Transfer(from_=source, to=target, value=amount))


class RubleToken(NativeContract):
    NAME = "RubleToken"
    EVENTS = (Transfer, Approval)

    @view
    def name(self, ctx: Context) -> String:
        return "Russian Ruble"

    @view
    def symbol(self, ctx: Context) -> String:
        return "RUB"

    @view
    def decimals(self, ctx: Context) -> Uint8:
        return 2

    @view
    def totalSupply(self, ctx: Context) -> Uint256:
        return ctx.storage.get_int(SUPPLY_KEY)

    @view
    def balanceOf(self, ctx: Context, owner: Address) -> Uint256:
        return ctx.storage.get_int(_balance_key(owner))

    @view
    def allowance(self, ctx: Context, owner: Address, spender: Address) -> Uint256:
        return ctx.storage.get_int(_allowance_key(owner, spender))

    @external
    def transfer(self, ctx: Context, to: Address, value: Uint256) -> Bool:
        _move(ctx, ctx.sender, to, value)
        return True

    @external
    def approve(self, ctx: Context, spender: Address, value: Uint256) -> Bool:
        ctx.storage.set_int(_allowance_key(ctx.sender, spender), value)
        ctx.emit(Approval(owner=ctx.sender, spender=spender, value=value))
        return True

    @external
    def transferFrom(self, ctx: Context, from_: Address, to: Address, value: Uint256) -> Bool:
        allowed = ctx.storage.get_int(_allowance_key(from_, ctx.sender))
        if allowed < value:
            raise Revert(f"allowance exceeded: {allowed} approved, {value} requested")
        ctx.storage.set_int(_allowance_key(from_, ctx.sender), allowed - value)
        _move(ctx, from_, to, value)
        return True

    @external
    def mint(self, ctx: Context, to: Address, value: Uint256) -> Bool:
        require_role(ctx, ctx.sender, Role.ISSUER)
        if to == ZERO_ADDRESS:
            raise Revert("mint to the zero address")
        ctx.storage.set_int(SUPPLY_KEY, ctx.storage.get_int(SUPPLY_KEY) + value)
        ctx.storage.set_int(_balance_key(to), ctx.storage.get_int(_balance_key(to)) + value)
        ctx.emit(Transfer(from_=ZERO_ADDRESS, to=to, value=value))
        return True

    @external
    def burn(self, ctx: Context, from_: Address, value: Uint256) -> Bool:
        """The issuer burns money it holds or that the holder approved it to take (a withdrawal)."""
        require_role(ctx, ctx.sender, Role.ISSUER)
        if from_ != ctx.sender:
            allowed = ctx.storage.get_int(_allowance_key(from_, ctx.sender))
            if allowed < value:
                raise Revert(f"allowance exceeded: {allowed} approved, {value} to burn")
            ctx.storage.set_int(_allowance_key(from_, ctx.sender), allowed - value)
        balance = ctx.storage.get_int(_balance_key(from_))
        if balance < value:
            raise Revert(f"insufficient balance: has {balance}, burning {value} kopecks")
        ctx.storage.set_int(_balance_key(from_), balance - value)
        ctx.storage.set_int(SUPPLY_KEY, ctx.storage.get_int(SUPPLY_KEY) - value)
        ctx.emit(Transfer(from_=from_, to=ZERO_ADDRESS, value=value))
        return True

    @internal
    def chargeOrigin(self, ctx: Context, to: bytes, value: int) -> bool:
        """Move the transaction signer's money on its behalf: how other contracts take a payment."""
        _move(ctx, ctx.origin, to, value)
        return True
