"""The participant's off-chain user database: logins, roles and each user's encrypted signing key.

Personal data (names, phones, e-mail) stays here and never goes on chain. Passwords are argon2id hashes; each
user's private key is a V3 keystore encrypted with the portal's server-side secret."""

from __future__ import annotations

import functools
import json
import os
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import eth_keyfile
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from node.crypto import private_key_to_address
from node.keystore import SCRYPT_N

ROLES = ("consumer", "retailer", "grid")
"""Portal roles: a consumer, a retailer's staff, the grid company's staff."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL, address TEXT NOT NULL,
    keystore_json TEXT NOT NULL, full_name TEXT NOT NULL DEFAULT '', phone TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '');
"""

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters


class UserError(ValueError):
    """A user that cannot be created or a key that cannot be unlocked."""


@dataclass(frozen=True)
class User:
    username: str
    role: str
    address: str
    """Lowercase 0x-hex address of the user's signing key (for staff: the company's address)."""
    full_name: str
    phone: str
    email: str


def load_secret(path: Path) -> bytes:
    """The portal's server-side secret (32 bytes), created with mode 0600 on first use."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
    secret = path.read_bytes()
    if len(secret) != 32:
        raise UserError(f"portal secret {path} must hold 32 bytes, has {len(secret)}")
    return secret


class UserStore:
    def __init__(self, path: Path, secret: bytes) -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.executescript(SCHEMA)
        self.db = self._db
        """The participant's off-chain database, for the portal's own small tables."""
        self._key_password = secret.hex().encode()

    def close(self) -> None:
        self._db.close()

    def add(self, username: str, password: str, role: str, private_key: bytes, *, full_name: str = "",
            phone: str = "", email: str = "") -> User:
        username = username.strip()
        if not username or len(username) > 64:
            raise UserError("a username has 1 to 64 characters")
        if role not in ROLES:
            raise UserError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
        if len(password) < 8:
            raise UserError("a password has at least 8 characters")
        keystore = eth_keyfile.create_keyfile_json(private_key, self._key_password, kdf="scrypt",
                                                   iterations=SCRYPT_N)
        address = "0x" + private_key_to_address(private_key).hex()
        try:
            with self._db:
                self._db.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                 (username, _hasher.hash(password), role, address, json.dumps(keystore),
                                  full_name, phone, email))
        except sqlite3.IntegrityError:
            raise UserError(f"user {username!r} already exists") from None
        return User(username, role, address, full_name, phone, email)

    def authenticate(self, username: str, password: str) -> User | None:
        """The user if the password matches, else None (same work for unknown users, against timing probes)."""
        row = self._db.execute("SELECT password_hash FROM users WHERE username = ?", (username,)).fetchone()
        stored = row[0] if row else _dummy_hash()
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        return self.get(username) if row else None

    def get(self, username: str) -> User | None:
        row = self._db.execute("SELECT username, role, address, full_name, phone, email FROM users "
                               "WHERE username = ?", (username,)).fetchone()
        return User(*row) if row else None

    def update_profile(self, username: str, full_name: str, phone: str, email: str) -> None:
        with self._db:
            self._db.execute("UPDATE users SET full_name = ?, phone = ?, email = ? WHERE username = ?",
                             (full_name.strip()[:200], phone.strip()[:40], email.strip()[:200], username))

    def private_key(self, username: str) -> bytes:
        row = self._db.execute("SELECT keystore_json FROM users WHERE username = ?", (username,)).fetchone()
        if row is None:
            raise UserError(f"no user {username!r}")
        try:
            return bytes(eth_keyfile.decode_keyfile_json(json.loads(row[0]), self._key_password))
        except ValueError as exc:
            raise UserError(f"the key of {username!r} does not unlock with this portal's secret") from exc

    def names_by_address(self) -> dict[str, str]:
        """Address -> full name of consumers, for staff pages (off-chain personal data)."""
        return {a: n for a, n in self._db.execute("SELECT address, full_name FROM users WHERE role = 'consumer'")}


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against for unknown users; made on first use (argon2 is slow by design)."""
    return _hasher.hash(secrets.token_hex(16))
