"""Semantic versions and git tags: the next version, preflight, the tag, and its safe publish.

The rules (each one a failure seen in the well-known release tools):

- The next version is greater than *every* version tag in the repository, reachable from HEAD
  or not. Build metadata does not count (``1.2.0+build`` collides with ``1.2.0``). A
  pre-release of a stable version starts on the next patch (``1.0.0`` -> ``1.0.1-rc.1``), a
  series counts on (``-rc.1``, ``-rc.2``) and never goes back (``rc`` -> ``beta`` is refused).
- The suggestion reads the commits since the last release: the highest stable version tag that
  HEAD contains (a pre-release or a tag on another branch does not end them).
- Nothing is computed from a shallow clone: the history would be partial.
- Preflight runs before anything changes and reports every check, passed or not.
- The branch and the tag go to the remote in one ``git push --atomic``; a server without
  atomic pushes gets the branch first, then the tag, and the event says so. A failed push leaves
  the local tag recorded as unpublished; running again resumes from there.

Git is driven through GitPython (imported when first needed); every git command run is kept
with its exit code for the audit event.

The package, one job per module, from the bottom up: :mod:`~cockpit.versioning.rules` (semantic
versions), :mod:`~cockpit.versioning.commits` (conventional commits), :mod:`~cockpit.versioning.git`
(the repository), :mod:`~cockpit.versioning.preflight` (look, change nothing),
:mod:`~cockpit.versioning.changelog` (the words), :mod:`~cockpit.versioning.signing` and
:mod:`~cockpit.versioning.publish` (doing it). The names below are its public API.
"""

from __future__ import annotations

from cockpit.versioning.changelog import changelog_section, insert_changelog, tag_message, today
from cockpit.versioning.commits import (
    GROUPS,
    Commit,
    Suggestion,
    changes_text,
    parse_commit,
    suggest,
)
from cockpit.versioning.git import PROBE_LIMIT, Git, GitFailed, GitRun, first_line, git_words
from cockpit.versioning.preflight import Check, TagPlan, TagRequest, plan_tag
from cockpit.versioning.publish import (
    ATOMIC_UNSUPPORTED,
    Outcome,
    commit_changelog,
    create_tag,
    publish,
)
from cockpit.versioning.rules import (
    Bump,
    Choice,
    VersionError,
    check_greater,
    next_version,
    parse,
    tag_name,
    version_of_tag,
)
from cockpit.versioning.signing import (
    allowed_signers_file,
    key_fingerprint,
    signing_check_for,
    signing_config,
    verify_tag,
)
from cockpit.vocabulary import BUMPS, PRE_TOKENS

__all__ = [
    "ATOMIC_UNSUPPORTED",
    "BUMPS",
    "GROUPS",
    "PRE_TOKENS",
    "PROBE_LIMIT",
    "Bump",
    "Check",
    "Choice",
    "Commit",
    "Git",
    "GitFailed",
    "GitRun",
    "Outcome",
    "Suggestion",
    "TagPlan",
    "TagRequest",
    "VersionError",
    "allowed_signers_file",
    "changelog_section",
    "changes_text",
    "check_greater",
    "commit_changelog",
    "create_tag",
    "first_line",
    "git_words",
    "insert_changelog",
    "key_fingerprint",
    "next_version",
    "parse",
    "parse_commit",
    "plan_tag",
    "publish",
    "signing_check_for",
    "signing_config",
    "suggest",
    "tag_message",
    "tag_name",
    "today",
    "verify_tag",
    "version_of_tag",
]
