"""How a duration, a weekday and a date are said, in the catalog's words (``when.*``): one
formatter for every screen, command and message (``9d 16h`` / ``9日16時間``, ``Wed 12-16`` /
``12-16(水)``). :mod:`cockpit.window` uses them for its windows' labels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


def format_remaining(td: timedelta, lang: str = "en") -> str:
    """A duration as a short countdown, truncated to the units shown: ``23d 4h``, ``3h12m``,
    ``4m05s``, ``45s`` (ja ``23日4時間``, ``3時間12分``, ``4分05秒``, ``45秒``). A negative
    duration gets a leading ``-``. The one way every screen, command and message says a
    duration."""
    from cockpit.i18n import tr

    sign = "-" if td < timedelta(0) else ""
    seconds = abs(td) // timedelta(seconds=1)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return sign + tr("when.d_h", lang, d=days, h=hours)
    if hours:
        return sign + tr("when.h_m", lang, h=hours, m=f"{minutes:02d}")
    if minutes:
        return sign + tr("when.m_s", lang, m=minutes, s=f"{secs:02d}")
    return sign + tr("when.s", lang, s=secs)


@dataclass(frozen=True)
class Duration:
    """A duration as a value of a message that is said later, in the reader's language
    (:func:`cockpit.i18n.tr` says it with :func:`format_remaining`)."""

    span: timedelta

    def text(self, lang: str) -> str:
        return format_remaining(self.span, lang)

    def __str__(self) -> str:
        return self.text("en")


def day_label(moment: datetime, lang: str = "en", *, year: bool = False) -> str:
    """A date with its weekday, in the catalog's words and order: ``Wed 12-16``, ja
    ``12-16(水)``; with ``year`` ``Wed 2027-01-20``. The weekday never comes from the process
    locale (``%a`` does)."""
    from cockpit.i18n import tr

    day = tr(f"when.day{moment.weekday()}", lang)
    date = f"{moment:{'%Y-' if year else ''}%m-%d}"
    return tr("when.day_date", lang, day=day, date=date)
