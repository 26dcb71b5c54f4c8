"""Password hashing (argon2id, memory-hard) and the strength rule.

The strength rule is the same everywhere a password is set: the CLI, the demo set-up,
the change-password page and the tests all go through `password_problem()` by way of
`dashboard.accounts`. Besides length bounds, a list of popular passwords and the user's
own email, company name and domain, it asks the zxcvbn estimator how many guesses the
password would take, with that context as extra dictionary words: repeats
("abcabcabcabc"), sequences, keyboard walks and dates are found there.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 256
# A local part this short ("a@x.io") would forbid ordinary letters, not guessable words.
MIN_LOCAL_PART_CHECKED = 3
# zxcvbn's score 3 means at least 10^8 guesses: with argon2id (tens of guesses a second
# per core) and the login rate limit that outlasts any online or offline attack we expect.
MIN_STRENGTH_SCORE = 3
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"

# argon2-cffi's defaults are RFC 9106's low-memory profile: argon2id, 64 MiB, t=3, p=4.
_hasher = PasswordHasher()


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip())


def _squashed(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def user_words(email: str | None, context: Iterable[str] = ()) -> list[str]:
    """The guessable words of a user: the email, its parts, and the context (company name,
    tenant slug), whole and word by word."""
    words: list[str] = []
    for text in [email or "", *context]:
        text = text.strip().lower()
        if text:
            words.append(text)
            words.extend(part for part in re.split(r"[^a-z0-9]+", text) if part)
    return words


def _context_tokens(email: str | None, context: Iterable[str]) -> list[str]:
    """The company name, slug and email domain (without its last label), squashed."""
    tokens = [_squashed(text) for text in context]
    if email and "@" in email:
        labels = email.strip().lower().rsplit("@", 1)[1].split(".")[:-1]
        tokens.extend(_squashed(label) for label in labels)
        tokens.append(_squashed(".".join(labels)))
    return [token for token in tokens if len(token) >= MIN_LOCAL_PART_CHECKED]


def password_problem(password: str, email: str | None = None,
                     context: Iterable[str] = ()) -> str | None:
    """Why `password` is too weak, as a sentence for the user; None when it is acceptable.

    `context`: other words the password must not lean on, such as the tenant's name and
    slug."""
    context = list(context)
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
    squashed = _squashed(password)
    if any(token in squashed for token in _context_tokens(email, context)):
        return "Password must not contain your organisation's name or email domain."
    estimate = zxcvbn(password, user_inputs=user_words(email, context), max_length=MAX_LENGTH)
    if estimate["score"] < MIN_STRENGTH_SCORE:
        feedback = estimate["feedback"]
        hint = feedback["warning"] or "It follows a pattern that is easy to guess."
        advice = " ".join(feedback["suggestions"][:1]) or "Add another uncommon word or two."
        return f"Password is too easy to guess. {hint} {advice}"
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
