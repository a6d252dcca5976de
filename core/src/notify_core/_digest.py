"""Digest schedules: when "every day at 09:00 in Europe/Berlin" next falls.

A digest is due at a wall-clock time in a named time zone, so its instants are not a
fixed number of seconds apart: the day a country moves its clocks is 23 or 25 hours
long, and 09:00 local must stay 09:00 local. Each instant is therefore computed from
the local calendar (:mod:`zoneinfo`), never by adding 86,400 seconds.

A local time that does not exist on a spring-forward day (02:30 in Europe/Berlin on
the last Sunday of March) is read with the offset in force before the jump, so it goes
out at 03:30 local; a time that happens twice on a fall-back day goes out at its first
occurrence. Either way a digest goes out exactly once per scheduled day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Literal

import attrs

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Resolved = Literal["send", "drop"]


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; ``ValueError`` with what to do when it is unknown.

    Imported here, not at module level: ``import notify_core`` stays light for the
    many configurations without a digest.
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}: give an IANA name such as 'Europe/Berlin' or "
            "'UTC' (where the system has no time zone database, `pip install tzdata`)"
        ) from None


def parse_clock_time(text: str) -> tuple[int, int]:
    """``"09:00"`` as ``(9, 0)``; ``ValueError`` for anything but ``HH:MM`` on a 24-hour clock."""
    hours, sep, minutes = text.strip().partition(":")
    if (
        sep
        and hours.isdigit()
        and minutes.isdigit()
        and len(minutes) == 2
        and 0 <= int(hours) <= 23
        and 0 <= int(minutes) <= 59
    ):
        return int(hours), int(minutes)
    raise ValueError(f"expected a time of day like 09:00 or 17:30, got {text!r}")


def parse_weekday(text: str) -> int:
    """``"monday"`` (or ``"mon"``) as 0 … ``"sunday"`` as 6."""
    word = text.strip().lower()
    for number, name in enumerate(WEEKDAYS):
        if word in (name, name[:3]):
            return number
    raise ValueError(f"expected a weekday ({', '.join(WEEKDAYS)}), got {text!r}")


@attrs.frozen(kw_only=True)
class DigestPolicy:
    """``digest = { every = "1d", at = "09:00", timezone = "Europe/Berlin" }`` on a channel.

    ``days`` is 1 (daily) or 7 (weekly, on ``weekday``: 0 is Monday). ``by`` splits the
    digest the way a group's ``by`` does (default: one digest per channel and tenant);
    ``resolved`` says whether items whose latest message was a resolve are listed;
    ``show`` is how many items the summary lists before "… and N more".
    """

    days: Literal[1, 7] = 1
    at: tuple[int, int] = (9, 0)
    timezone: str = "UTC"
    weekday: int | None = None
    by: tuple[str, ...] = ()
    resolved: Resolved = "send"
    show: int = 10

    def __attrs_post_init__(self) -> None:
        zone(self.timezone)  # an unknown zone fails when the configuration loads
        if self.days == 7 and self.weekday is None:
            object.__setattr__(self, "weekday", 0)

    @property
    def label(self) -> str:
        """``daily at 09:00 Europe/Berlin``: how people say the schedule."""
        hour, minute = self.at
        when = f"at {hour:02d}:{minute:02d} {self.timezone}"
        if self.days == 7:
            assert self.weekday is not None
            return f"weekly on {WEEKDAYS[self.weekday]} {when}"
        return f"daily {when}"

    @property
    def title_word(self) -> str:
        return "Weekly digest" if self.days == 7 else "Daily digest"

    def instant(self, day: date) -> float:
        """The epoch time of this schedule's ``at`` on ``day``, in its time zone."""
        hour, minute = self.at
        local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone(self.timezone))
        return local.timestamp()

    def next_after(self, now: float) -> float:
        """The first scheduled instant strictly after ``now`` (epoch seconds)."""
        today = datetime.fromtimestamp(now, zone(self.timezone)).date()
        for offset in range(9):  # a weekly slot is at most 7 days (+ the day itself) away
            day = today + timedelta(days=offset)
            if self.days == 7 and day.weekday() != self.weekday:
                continue
            at = self.instant(day)
            if at > now:
                return at
        raise AssertionError("unreachable: every week has the weekday")  # pragma: no cover

    def previous(self, due: float) -> float:
        """The scheduled instant before ``due``: where the period a digest covers began."""
        day = datetime.fromtimestamp(due, zone(self.timezone)).date()
        return self.instant(day - timedelta(days=self.days))
