"""Login rate limits: failed attempts per account and per client address, counted in
Redis sorted sets over a sliding window.

Each attempt first *reserves* a slot in both windows (one atomic script: drop entries
older than the window, count, add), so a burst of parallel guesses cannot slip past the
limit between the check and the count. A successful login gives its slot back and clears
the account's failures; a failed one leaves the slot as the failure record. Refused
attempts are not counted, so the lock lifts when the window has passed since the last
failure that was let through.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from dataclasses import dataclass

import redis

KEY_PREFIX = "valuelens:login-failures"

# KEYS: account window, address window
# ARGV: now, window seconds, account limit, address limit, member
# Returns {1, 0} when the slot is reserved, {0, seconds until a slot frees} when refused.
_RESERVE = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limits = {tonumber(ARGV[3]), tonumber(ARGV[4])}
local wait = 0
for i, key in ipairs(KEYS) do
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
    local count = redis.call('ZCARD', key)
    if count >= limits[i] then
        local oldest = redis.call('ZRANGE', key, count - limits[i], count - limits[i], 'WITHSCORES')
        local frees_in = tonumber(oldest[2]) + window - now
        if frees_in > wait then wait = frees_in end
    end
end
if wait > 0 then
    return {0, tostring(wait)}
end
for _, key in ipairs(KEYS) do
    redis.call('ZADD', key, now, ARGV[5])
    redis.call('EXPIRE', key, math.ceil(window))
end
return {1, '0'}
"""


class TooManyAttempts(Exception):
    """Too many failed logins for this account or address within the window."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many failed login attempts")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Attempt:
    account_key: str
    address_key: str
    member: str


@dataclass(frozen=True)
class LoginLimiter:
    client: redis.Redis
    window_seconds: int
    max_per_account: int
    max_per_address: int

    def begin(self, email: str, address: str) -> Attempt:
        """Reserve a slot for one attempt or raise `TooManyAttempts`."""
        # Hashed so the key space carries no email addresses and has a bounded length.
        account = hashlib.sha256(email.encode()).hexdigest()
        attempt = Attempt(
            account_key=f"{KEY_PREFIX}:account:{account}",
            address_key=f"{KEY_PREFIX}:address:{address}",
            member=f"{time.time():.6f}:{secrets.token_hex(6)}",
        )
        allowed, wait = self.client.eval(
            _RESERVE,
            2,
            attempt.account_key,
            attempt.address_key,
            f"{time.time():.6f}",
            self.window_seconds,
            self.max_per_account,
            self.max_per_address,
            attempt.member,
        )
        if not int(allowed):
            raise TooManyAttempts(max(1, math.ceil(float(wait))))
        return attempt

    def succeeded(self, attempt: Attempt) -> None:
        """The attempt was right: it is not a failure, and the account starts afresh."""
        with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(attempt.account_key)
            pipe.zrem(attempt.address_key, attempt.member)
            pipe.execute()
