"""Per-key token buckets for ``--rpm`` and ``--tpm``, and the rate-limit headers the live API sends.

A bucket holds up to ``limit`` units and refills continuously at ``limit`` per minute. Headers count down
as keys spend, and a 429 says in ``Retry-After`` when enough will have refilled.
"""

import math
import time
from dataclasses import dataclass, field

# Shown when no limit is enforced: the figures of a standard plan, so clients see realistic headers.
DEFAULT_TOKENS_PER_MINUTE = 2_000_000
TOKENS_PER_MONTH = 10_000_000_000


@dataclass
class Bucket:
    limit: int
    level: float = field(init=False)
    stamp: float = field(init=False)

    def __post_init__(self) -> None:
        self.level = float(self.limit)
        self.stamp = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.level = min(float(self.limit), self.level + (now - self.stamp) * self.limit / 60.0)
        self.stamp = now

    def wait_for(self, amount: float) -> float:
        """Seconds until ``amount`` is available (0 when it is now)."""
        self._refill()
        missing = amount - self.level
        return 0.0 if missing <= 0 else missing * 60.0 / self.limit

    def take(self, amount: float) -> None:
        self._refill()
        self.level -= amount

    @property
    def remaining(self) -> int:
        self._refill()
        return max(0, math.floor(self.level))


@dataclass
class KeyLimits:
    requests: Bucket | None
    tokens: Bucket
    month_used: int = 0


class RateLimiter:
    """Buckets per API key. Without ``rpm``/``tpm`` nothing is refused, but headers still count."""

    def __init__(self, rpm: int | None, tpm: int | None) -> None:
        self.rpm = rpm
        self.tpm = tpm
        self._keys: dict[str, KeyLimits] = {}

    def _limits(self, key: str) -> KeyLimits:
        limits = self._keys.get(key)
        if limits is None:
            limits = KeyLimits(
                requests=Bucket(self.rpm) if self.rpm else None,
                tokens=Bucket(self.tpm or DEFAULT_TOKENS_PER_MINUTE),
            )
            self._keys[key] = limits
        return limits

    def admit_request(self, key: str) -> float:
        """Spend one request; return 0, or the seconds to wait when the request budget is empty."""
        limits = self._limits(key)
        if limits.requests is None:
            return 0.0
        wait = limits.requests.wait_for(1)
        if wait == 0:
            limits.requests.take(1)
        return wait

    def admit_tokens(self, key: str, cost: int) -> float:
        """Spend ``cost`` tokens; return 0, or the seconds to wait when the token budget is short."""
        limits = self._limits(key)
        if self.tpm is not None:
            wait = limits.tokens.wait_for(min(cost, self.tpm))
            if wait > 0:
                return wait
        limits.tokens.take(cost)
        limits.month_used += cost
        return 0.0

    def exhausted(self, key: str) -> float:
        """0, or the seconds until the key has a token again when ``--tpm`` is set and none is left.

        Every route is refused then, a GET of the models list included; answers that cost tokens also need
        their cost available (``admit_tokens``).
        """
        if self.tpm is None:
            return 0.0
        return self._limits(key).tokens.wait_for(1)

    def spend(self, key: str, cost: int) -> None:
        """Count tokens already served (a replayed answer), without refusing anything."""
        limits = self._limits(key)
        limits.tokens.take(cost)
        limits.month_used += cost

    def headers(self, key: str, cost: int | None = None) -> dict[str, str]:
        limits = self._limits(key)
        out = {}
        if limits.requests is not None:
            out["x-ratelimit-limit-req-minute"] = str(limits.requests.limit)
            out["x-ratelimit-remaining-req-minute"] = str(limits.requests.remaining)
        out["x-ratelimit-limit-tokens-minute"] = str(limits.tokens.limit)
        out["x-ratelimit-remaining-tokens-minute"] = str(limits.tokens.remaining)
        out["x-ratelimit-limit-tokens-month"] = str(TOKENS_PER_MONTH)
        out["x-ratelimit-remaining-tokens-month"] = str(max(0, TOKENS_PER_MONTH - limits.month_used))
        if cost is not None:
            out["x-ratelimit-tokens-query-cost"] = str(cost)
        return out


def retry_seconds(wait: float) -> int:
    """A wait as the whole seconds ``Retry-After`` says (rounded up, at least 1)."""
    return max(1, int(-(-wait // 1)))
