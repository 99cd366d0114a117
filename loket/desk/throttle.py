"""Login throttling: per username and per client address, in memory, clock passed in.

After ``threshold`` failures on a key, each further failure blocks that key for
``base_delay_s · 2**(failures - threshold)`` seconds, capped at ``max_delay_s``;
a blocked key is refused at once (HTTP 429 with Retry-After) without spending a
password hash on it. A key forgets its failures ``forget_after_s`` after the last
one. A successful login clears the username's strikes, not the address's: else one
known account would let an attacker reset the address counter between guesses.

The address threshold is higher than the username one because a call centre's
agents often reach the desk from one address (NAT, or the reverse proxy when the
real client address is not passed on).

In memory on purpose: a restart forgets strikes, which only lets an attacker
start again at ``threshold`` guesses — negligible against 12-character passwords.
Several gateways each keep their own; a shared store (Redis) would make it exact.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class _Strikes:
    failures: int
    last: float
    blocked_until: float


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    per_user: int = 5
    per_address: int = 20
    base_delay_s: float = 2.0
    max_delay_s: float = 15 * 60
    forget_after_s: float = 60 * 60
    max_keys: int = 10_000
    """Bound on memory under a flood of made-up usernames; oldest keys go first."""


class LoginThrottle:
    def __init__(self, policy: ThrottlePolicy | None = None) -> None:
        self.policy = policy or ThrottlePolicy()
        self._keys: dict[tuple[str, str], _Strikes] = {}

    def _live(self, key: tuple[str, str], now: float) -> _Strikes | None:
        strikes = self._keys.get(key)
        if strikes is not None and now - strikes.last >= self.policy.forget_after_s:
            del self._keys[key]
            return None
        return strikes

    def retry_after(self, username: str, address: str, now: float) -> float:
        """Seconds until a login for this username from this address may be tried; 0: now."""
        wait = 0.0
        for key in (("user", username), ("addr", address)):
            strikes = self._live(key, now)
            if strikes is not None:
                wait = max(wait, strikes.blocked_until - now)
        return wait

    def failure(self, username: str, address: str, now: float) -> None:
        self._strike(("user", username), self.policy.per_user, now)
        self._strike(("addr", address), self.policy.per_address, now)
        if len(self._keys) > self.policy.max_keys:
            self._prune(now)

    def success(self, username: str) -> None:
        self._keys.pop(("user", username), None)

    def failures(self, kind: str, key: str, now: float) -> int:
        strikes = self._live((kind, key), now)
        return 0 if strikes is None else strikes.failures

    def _strike(self, key: tuple[str, str], threshold: int, now: float) -> None:
        strikes = self._live(key, now)
        if strikes is None:
            strikes = self._keys[key] = _Strikes(0, now, now)
        strikes.failures += 1
        strikes.last = now
        over = strikes.failures - threshold
        if over >= 0:
            delay = min(self.policy.max_delay_s, self.policy.base_delay_s * 2.0 ** min(over, 40))
            strikes.blocked_until = max(strikes.blocked_until, now + delay)

    def _prune(self, now: float) -> None:
        for key in [k for k, s in self._keys.items() if now - s.last >= self.policy.forget_after_s]:
            del self._keys[key]
        excess = len(self._keys) - int(self.policy.max_keys * 0.9)
        if excess > 0:
            # keys not blocked go first, so a flood cannot evict a block it wants lifted
            oldest = sorted(
                self._keys.items(), key=lambda kv: (kv[1].blocked_until > now, kv[1].last)
            )[:excess]
            for key, _ in oldest:
                del self._keys[key]
