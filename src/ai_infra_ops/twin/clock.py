"""The twin's clock: every timestamp the twin writes (creationTimestamp, event times, pod
startTime, flow times) and every AGE it prints comes from one of these, never from the wall clock
directly, so tests and golden output are deterministic.

Called by ``twin.backend`` (passed in by whoever opens the twin) and handed to ``twin.network``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol, runtime_checkable

__all__ = ["Clock", "FixedClock", "SystemClock", "as_clock", "format_time", "parse_time"]


@runtime_checkable
class Clock(Protocol):
    """Something that says what time it is (timezone-aware UTC)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real time, truncated to whole seconds like the API server's timestamps."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc).replace(microsecond=0)

    def time_ns(self) -> int:
        return int(datetime.now(timezone.utc).timestamp() * 1_000_000_000)


@dataclass
class FixedClock:
    """A clock that stands still until advanced (tests, golden files, benchmarks).

    ``step_s`` > 0 makes every ``now()`` call move time forward by that much afterwards.
    """

    start: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=timezone.utc))
    step_s: float = 0.0

    def __post_init__(self) -> None:
        self._t = self.start if self.start.tzinfo else self.start.replace(tzinfo=timezone.utc)

    def now(self) -> datetime:
        t = self._t
        if self.step_s:
            self._t = self._t + timedelta(seconds=self.step_s)
        return t

    def time_ns(self) -> int:
        return int(self._t.timestamp()) * 1_000_000_000 + self._t.microsecond * 1000

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self._t = self._t + timedelta(seconds=seconds)


class _CallableClock:
    def __init__(self, fn: Callable[[], Any]):
        self._fn = fn

    def now(self) -> datetime:
        v = self._fn()
        if isinstance(v, datetime):
            return v if v.tzinfo else v.replace(tzinfo=timezone.utc)
        return datetime.fromtimestamp(float(v), timezone.utc)

    def time_ns(self) -> int:
        return int(self.now().timestamp() * 1_000_000_000)


def as_clock(clock: Any) -> Any:
    """Accept ``None`` (system clock), a :class:`Clock`, or a callable returning a datetime or
    unix seconds."""
    if clock is None:
        return SystemClock()
    if hasattr(clock, "now"):
        return clock
    if callable(clock):
        return _CallableClock(clock)
    raise TypeError(f"not a clock: {clock!r}")


def format_time(t: datetime) -> str:
    """RFC 3339 with a ``Z`` and whole seconds, as the API server writes metav1.Time."""
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> datetime | None:
    """Inverse of :func:`format_time` (also accepts fractional seconds and offsets)."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
