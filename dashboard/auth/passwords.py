"""Password hashing (argon2id, memory-hard) and the strength rule.

The strength rule is the same everywhere a password is set: the CLI, the demo set-up,
the change-password page and the tests all go through `password_problem()` by way of
`dashboard.accounts`.
"""

from __future__ import annotations

import secrets
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 256
# A local part this short ("a@x.io") would forbid ordinary letters, not guessable words.
MIN_LOCAL_PART_CHECKED = 3
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"

# argon2-cffi's defaults are RFC 9106's low-memory profile: argon2id, 64 MiB, t=3, p=4.
_hasher = PasswordHasher()


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip())


def password_problem(password: str, email: str | None = None) -> str | None:
    """Why `password` is too weak, as a sentence for the user; None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"Password must be at least {MIN_LENGTH} characters long."
    if len(password) > MAX_LENGTH:
        return f"Password must be at most {MAX_LENGTH} characters long."
    if len(set(password)) == 1:
        return "Password must not be a single repeated character."
    lowered = password.lower()
    if lowered.strip() in common_passwords():
        return "Password is too common; choose one that is not on lists of popular passwords."
    if email:
        local_part = email.strip().lower().split("@", 1)[0]
        if len(local_part) >= MIN_LOCAL_PART_CHECKED and local_part in lowered:
            return "Password must not contain your email address."
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than the current ones."""
    return _hasher.check_needs_rehash(password_hash)


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(24))


def burn_verification(password: str) -> None:
    """Spend the time of one verification, so an unknown email answers as slowly as a
    known one with a wrong password."""
    verify_password(_dummy_hash(), password)
