"""The participant registry: who plays which role in the market. Every contract checks roles here.

Roles come from genesis; afterwards the admin grants and revokes them, and a few roles may be granted by the
participant that owns the relationship (a retailer signs up its consumers, the grid company its gateways)."""

from __future__ import annotations

from enum import IntEnum

from contracts_py.abi import Address, Bool, Indexed, String, Uint8
from contracts_py.runtime import Context, ContractStorage, NativeContract, Revert, event, external, view

ADDRESS = bytes.fromhex("000000000000000000000000000000000000e001")


class Role(IntEnum):
    """Roles of market participants; the numbers are stored on-chain and never change meaning."""

    ADMIN = 1
    VALIDATOR = 2
    GRID_COMPANY = 3
    RETAILER = 4
    CONSUMER = 5
    GATEWAY = 6
    AUDITOR = 7
    ISSUER = 8
    MANAGEMENT_COMPANY = 9


ROLE_BY_NAME = {role.name.lower(): role for role in Role}

GRANTORS: dict[Role, frozenset[Role]] = {
    Role.CONSUMER: frozenset({Role.ADMIN, Role.RETAILER}),
    Role.GATEWAY: frozenset({Role.ADMIN, Role.GRID_COMPANY}),
}
"""Who may grant a role besides the admin (who may grant every role)."""


def role_from_name(name: str) -> Role:
    try:
        return ROLE_BY_NAME[name.strip().lower()]
    except KeyError:
        raise Revert(f"unknown role {name!r}; roles: {', '.join(ROLE_BY_NAME)}") from None


def _role_key(address: bytes, role: Role) -> bytes:
    return b"role" + bytes([role]) + address


def grant_at_genesis(storage: ContractStorage, address: bytes, role: Role) -> None:
    """Genesis writes the initial roles directly into the registry's storage."""
    storage.set(_role_key(address, role), b"\x01")


def has_role(ctx: Context, address: bytes, role: Role) -> bool:
    """Whether `address` holds `role`: the check every contract uses."""
    return bool(ctx.call(ADDRESS, "hasRoleId", address, int(role)))


def require_role(ctx: Context, address: bytes, *roles: Role) -> None:
    """Revert unless `address` holds one of `roles`."""
    if not any(has_role(ctx, address, role) for role in roles):
        names = " or ".join(role.name.lower() for role in roles)
        raise Revert(f"0x{address.hex()} lacks the {names} role")


@event
class RoleGranted:
    account: Indexed(Address)
    role: Indexed(Uint8)
    grantor: Indexed(Address)


@event
class RoleRevoked:
    account: Indexed(Address)
    role: Indexed(Uint8)
    revoker: Indexed(Address)


class ParticipantRegistry(NativeContract):
    NAME = "ParticipantRegistry"
    EVENTS = (RoleGranted, RoleRevoked)

    @view
    def hasRole(self, ctx: Context, account: Address, role: String) -> Bool:
        return self.hasRoleId(ctx, account, int(role_from_name(role)))

    @view
    def hasRoleId(self, ctx: Context, account: Address, role: Uint8) -> Bool:
        return ctx.storage.get(_role_key(account, Role(role) if role in Role._value2member_map_ else 0)) is not None

    @external
    def grantRole(self, ctx: Context, account: Address, role: String) -> None:
        granted = role_from_name(role)
        self._require_grantor(ctx, granted)
        ctx.storage.set(_role_key(account, granted), b"\x01")
        ctx.emit(RoleGranted(account=account, role=int(granted), grantor=ctx.sender))

    @external
    def revokeRole(self, ctx: Context, account: Address, role: String) -> None:
        revoked = role_from_name(role)
        self._require_grantor(ctx, revoked)
        if ctx.storage.get(_role_key(account, revoked)) is None:
            raise Revert(f"0x{account.hex()} does not hold the {revoked.name.lower()} role")
        ctx.storage.set(_role_key(account, revoked), None)
        ctx.emit(RoleRevoked(account=account, role=int(revoked), revoker=ctx.sender))

    @staticmethod
    def _require_grantor(ctx: Context, role: Role) -> None:
        allowed = GRANTORS.get(role, frozenset()) | {Role.ADMIN}
        if not any(ctx.storage.get(_role_key(ctx.sender, grantor)) is not None for grantor in allowed):
            raise Revert(f"0x{ctx.sender.hex()} may not grant or revoke the {role.name.lower()} role")
