"""The password rule and the argon2id hashing, without any services."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, Type

from dashboard.auth import passwords
from dashboard.auth.passwords import (
    burn_verification,
    common_passwords,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)


def test_a_long_unusual_password_is_accepted():
    assert password_problem("correct horse battery staple 42", "ana@example.com") is None


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-pass1", "at least 12 characters"),
        ("", "at least 12 characters"),
        ("x" * 257, "at most 256 characters"),
        ("aaaaaaaaaaaaaaaa", "single repeated character"),
        ("passwordpassword", "too common"),
        ("QwertyUiopAsdfgh", "too common"),
        ("iloveyou1234", "too common"),
        ("123456789012", "too common"),
        ("my-ana.lytics-pass", "email address"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password, message):
    assert message in password_problem(password, "Ana.Lytics@Example.com")


def test_a_very_short_local_part_does_not_forbid_ordinary_letters():
    assert password_problem("a sturdy phrase of words", "a@example.com") is None


def test_the_common_password_list_is_substantial_and_has_long_entries():
    listed = common_passwords()
    assert len(listed) >= 200
    assert {"123456", "password", "qwerty", "iloveyou", "letmein"} <= listed
    assert sum(len(entry) >= passwords.MIN_LENGTH for entry in listed) >= 20


def test_hashes_are_argon2id_salted_and_verify_only_the_right_password():
    first, second = hash_password("correct horse battery staple 42"), hash_password(
        "correct horse battery staple 42"
    )
    assert first.startswith("$argon2id$")
    assert first != second
    assert verify_password(first, "correct horse battery staple 42")
    assert not verify_password(first, "correct horse battery staple 43")


def hash_parameters(encoded: str) -> dict[str, int]:
    fields = encoded.split("$")[3]
    return {key: int(value) for key, value in (part.split("=") for part in fields.split(","))}


def test_hashes_use_at_least_64_mib_of_memory():
    parameters = hash_parameters(hash_password("correct horse battery staple 42"))
    assert parameters["m"] >= 64 * 1024


def test_a_damaged_hash_never_verifies():
    assert not verify_password("not-a-hash", "correct horse battery staple 42")


def test_a_hash_made_with_weaker_parameters_needs_rehashing():
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1, type=Type.ID)
    assert needs_rehash(weak.hash("correct horse battery staple 42"))
    assert not needs_rehash(hash_password("correct horse battery staple 42"))


def test_an_unknown_email_costs_a_verification_with_the_real_parameters():
    burn_verification("whatever was typed")
    dummy = passwords._dummy_hash()
    assert dummy.startswith("$argon2id$")
    assert not needs_rehash(dummy)
