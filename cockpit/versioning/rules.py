"""Semantic-version rules: parse a version, name its tag, and choose the next version.

The next version is greater than every existing version (build metadata does not count); a
pre-release of a stable version starts on the next patch, a series counts on and never goes
back. ``semver`` is imported when first needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from cockpit.errors import CockpitError, Phrase, UsageError
from cockpit.vocabulary import PRE_TOKENS

if TYPE_CHECKING:
    import semver


Bump = Literal["major", "minor", "patch"]


class VersionError(CockpitError):
    """The version asked for cannot be the next one (it is not greater than an existing tag)."""

    exit_code = 1


def parse(text: str) -> semver.Version:
    import semver

    try:
        return semver.Version.parse(text)
    except (ValueError, TypeError):
        raise UsageError.said("err.version", text=text) from None


def tag_name(fmt: str, version: semver.Version | str) -> str:
    return fmt.replace("{version}", str(version))


def version_of_tag(fmt: str, name: str) -> semver.Version | None:
    """The version a tag name carries under ``fmt`` (``v{version}``), or None."""
    import semver

    head, _, tail = fmt.partition("{version}")
    if not name.startswith(head) or not name.endswith(tail) or len(name) <= len(head + tail):
        return None
    text = name[len(head) : len(name) - len(tail)] if tail else name[len(head) :]
    try:
        return semver.Version.parse(text)
    except ValueError:
        return None


def _core(v: semver.Version) -> semver.Version:
    return v.replace(prerelease=None, build=None)


def _pre_parts(v: semver.Version) -> tuple[str, int] | None:
    """``rc.2`` -> ("rc", 2); None for a pre-release not in that form."""
    if not v.prerelease:
        return None
    token, _, number = v.prerelease.partition(".")
    return (token, int(number)) if number.isdigit() else None


@dataclass(frozen=True)
class Choice:
    """The version chosen and why, in words for the screen and the event."""

    version: semver.Version
    why: Phrase  # (str(): the English)


def next_version(
    existing: Iterable[semver.Version],
    *,
    bump: Bump | None = None,
    pre: str | None = None,
    explicit: str | None = None,
    default_bump: Bump | None = None,
) -> Choice:
    """The next version after ``existing`` (every version tag in the repository).

    ``bump`` raises the highest stable version; ``pre`` makes it a pre-release (continuing the
    newest series of the same token, or starting one). Raises :class:`VersionError` when the
    result would not be greater than every existing version.
    """
    versions = sorted(existing)
    latest = versions[-1] if versions else None
    stable = [v for v in versions if not v.prerelease]
    import semver

    base = stable[-1] if stable else semver.Version(0, 0, 0)
    if explicit is not None:
        candidate = parse(explicit)
        why = Phrase("ver.given", {"version": str(candidate)})
    elif pre is not None:
        if pre not in PRE_TOKENS:
            raise UsageError.said("err.pre", value=pre, choices=", ".join(PRE_TOKENS))
        if bump is not None:
            target = base.next_version(bump)
            why = Phrase("ver.after", {"bump": bump, "base": str(base)})
        elif latest is not None and latest.prerelease and _core(latest) > base:
            target = _core(latest)
            why = Phrase("ver.continues", {"target": str(target)})
        elif default_bump is not None:
            target = base.next_version(default_bump)
            why = Phrase("ver.after_commits", {"bump": default_bump, "base": str(base)})
        else:
            target = base.bump_patch()
            why = Phrase("ver.after", {"bump": "patch", "base": str(base)})
        series = [
            parts[1]
            for v in versions
            if _core(v) == target and (parts := _pre_parts(v)) and parts[0] == pre
        ]
        candidate = target.replace(prerelease=f"{pre}.{max(series, default=0) + 1}")
    else:
        if bump is None:
            raise UsageError.said("ver.choose")
        if latest is not None and latest.prerelease and base.next_version(bump) == _core(latest):
            candidate = _core(latest)
            why = Phrase("ver.ends", {"bump": bump, "base": str(base), "version": str(candidate)})
        else:
            candidate = base.next_version(bump)
            why = Phrase("ver.after", {"bump": bump, "base": str(base)})
    check_greater(candidate, versions)
    return Choice(candidate, why)


def check_greater(candidate: semver.Version, existing: Sequence[semver.Version]) -> None:
    """Refuse a version that is not greater than every existing one (build metadata ignored)."""
    for v in existing:
        if v == candidate:
            raise VersionError.said("ver.collides", version=str(candidate), existing=str(v))
    newer = [v for v in existing if v > candidate]
    if newer:
        raise VersionError.said("ver.not_greater", version=str(candidate), existing=str(max(newer)))
