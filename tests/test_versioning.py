"""Versions and git tags (cockpit.versioning, cockpit.tagging, `cockpit tag`) on real git.

Every repository is real: made in ``tmp_path`` with the real ``git``, a bare repository as the
remote (``file://``), shallow clones with ``--depth 1``, signing keys made by ``ssh-keygen`` and
``gpg`` in the test. Nothing of git is mocked; the remote is looked at with ``git ls-remote``.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import semver
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit import tagging
from cockpit.actions import decide
from cockpit.checklist import Refused, Status, load_checklist
from cockpit.cli import main
from cockpit.config import LoadedConfig, parse_config_file
from cockpit.errors import UsageError
from cockpit.events import Event
from cockpit.operator import Operator
from cockpit.release import create_release
from cockpit.session import Session
from cockpit.store import Store
from cockpit.versioning import (
    PROBE_LIMIT,
    Bump,
    Check,
    Git,
    GitFailed,
    TagRequest,
    VersionError,
    insert_changelog,
    next_version,
    parse,
    parse_commit,
    suggest,
)

ALICE = Operator.fixed("alice")
TAG_ACTIONS = ("tag.started", "tag.created", "tag.published", "tag.push_failed", "tag.done")


# --------------------------------------------------------------------------- git helpers


def git(repo: Path, *args: str, check: bool = True) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, timeout=30, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} in {repo}: {done.stderr.strip()}")
    return done.stdout.strip()


def identity(repo: Path, name: str = "Tess Ter", email: str = "tess@example.com") -> None:
    git(repo, "config", "user.name", name)
    git(repo, "config", "user.email", email)


def commit(repo: Path, subject: str, body: str = "", path: str = "app.txt") -> str:
    """One commit changing ``path``; its sha."""
    file = repo / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text((file.read_text() if file.exists() else "") + subject + "\n")
    git(repo, "add", "--", path)
    git(repo, "commit", "-q", "-m", subject, *(["-m", body] if body else []))
    return git(repo, "rev-parse", "HEAD")


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD")


def clone(url: str, dest: Path, *options: str) -> Path:
    git(dest.parent, "clone", "-q", *options, url, str(dest))
    identity(dest, "Olga Ther", "olga@example.com")
    return dest


def local_tags(repo: Path) -> list[str]:
    return git(repo, "tag", "--list").splitlines()


def ls_remote(bare: Path) -> dict[str, str]:
    """ref -> sha of the bare remote, as ``git ls-remote`` (peeled tags as ``ref^{}``)."""
    out = git(bare, "ls-remote", str(bare))
    return {ref: sha for sha, ref in (line.split("\t") for line in out.splitlines())}


def remote_tags(bare: Path) -> list[str]:
    out = git(bare, "ls-remote", "--tags", "--refs", str(bare))
    return [line.split("\t")[1].removeprefix("refs/tags/") for line in out.splitlines()]


def remote_tag_commit(bare: Path, tag: str) -> str | None:
    refs = ls_remote(bare)
    return refs.get(f"refs/tags/{tag}^{{}}") or refs.get(f"refs/tags/{tag}")


def tag_commit(repo: Path, tag: str) -> str:
    return git(repo, "rev-parse", f"refs/tags/{tag}^{{commit}}")


def tag_message(repo: Path, tag: str) -> str:
    return git(repo, "tag", "--list", "--format=%(contents)", tag)


# --------------------------------------------------------------------------- the world

CONFIG = """\
[database]
url = "sqlite:///{root}/cockpit.db"
[audit]
checkpoint = "checkpoint.json"
[roles]
approver = ["bob"]
[environments.staging]
rehearsal = true
[environments.staging.git]
repo = "work"
branches = ["main", "release/*"]
{git}
"""


@dataclass
class World:
    """A bare remote, the working clone the cockpit tags in (``work``), a config and a store.

    The history: ``chore: initial`` tagged v1.0.0, then ``feat: add search`` and
    ``fix: crash on empty query``, all pushed (the commits ask for 1.1.0).
    """

    root: Path
    remote: Path
    work: Path
    config: Path
    store: Store

    @property
    def url(self) -> str:
        return self.remote.as_uri()

    @property
    def loaded(self) -> LoadedConfig:
        return LoadedConfig(parse_config_file(self.config), self.config)

    def configure(self, **git_options: Any) -> None:
        """Rewrite the environment's git table with these options."""
        lines = [f"{k} = {json.dumps(v)}" for k, v in git_options.items()]
        self.config.write_text(CONFIG.format(root=self.root, git="\n".join(lines)))

    def clone(self, name: str, *options: str) -> Path:
        return clone(self.url, self.root / name, *options)

    def push_from_other(self, subject: str = "fix: someone else's fix") -> str:
        """Another clone pushes a commit: the remote branch moves ahead of ``work``."""
        other = self.root / "other"
        if not other.exists():
            self.clone("other")
        else:
            git(other, "pull", "-q", "--ff-only")
        sha = commit(other, subject, path="other.txt")
        git(other, "push", "-q", "origin", "main")
        return sha

    def prepare(self, *, operator: Operator = ALICE, **kw: Any) -> tagging.Prepared:
        options = {
            k: kw.pop(k) for k in ("release_text", "env_name", "repo", "unshallow") if k in kw
        }
        return tagging.prepare(
            Session(store=self.store, loaded=self.loaded, operator=operator),
            TagRequest(**kw),
            **options,
        )

    def execute(self, prep: tagging.Prepared, **kw: Any) -> Event:
        return tagging.execute(
            Session(store=self.store, loaded=self.loaded, operator=ALICE), prep, **kw
        )

    def events(self, *actions: str) -> list[Event]:
        return self.store.events(actions=actions or TAG_ACTIONS)

    def actions(self) -> list[str]:
        return [ev.action for ev in self.store.events()]

    def cli(self, *argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err):
            code = main(["--config", str(self.config), *argv], out=out)
        return code, out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Git sees only the test's own settings: no user or system config of the machine."""
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text("[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GNUPGHOME"):
        monkeypatch.delenv(name, raising=False)
    for name in ("COCKPIT_CONFIG", "COCKPIT_DATABASE_URL", "COCKPIT_AS", "COCKPIT_LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    work = tmp_path / "work"
    git(tmp_path, "init", "-q", "-b", "main", str(work))
    identity(work)
    git(work, "remote", "add", "origin", remote.as_uri())
    commit(work, "chore: initial")
    git(work, "tag", "-a", "-m", "Release 1.0.0", "v1.0.0")
    commit(work, "feat: add search")
    commit(work, "fix: crash on empty query")
    git(work, "push", "-q", "-u", "origin", "main", "--tags")
    store = Store(
        f"sqlite:///{tmp_path / 'cockpit.db'}", checkpoint_file=tmp_path / "checkpoint.json"
    )
    w = World(tmp_path, remote, work, tmp_path / "cockpit.toml", store.open())
    w.configure()
    yield w
    store.close()


def check(prep: tagging.Prepared, name: str) -> Check:
    (found,) = [c for c in prep.plan.checks if c.name == name]
    return found


def git_list(ev: Event) -> list[dict[str, Any]]:
    runs = ev.details_obj["git"]
    assert runs, f"{ev.action} records no git command"
    for run in runs:
        assert run["argv"][0] == "git" and isinstance(run["exit"], int), run
    return list(runs)


def reject_pushes(bare: Path, words: str = "pushes are frozen for the audit") -> Path:
    """A pre-receive hook in the bare remote that refuses every push, saying why."""
    hook = bare / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\necho '{words}' >&2\nexit 1\n")
    hook.chmod(0o755)
    return hook


def assert_nothing_changed(world: World, main_before: str) -> None:
    assert head(world.work) == main_before
    assert local_tags(world.work) == ["v1.0.0"]
    assert remote_tags(world.remote) == ["v1.0.0"]
    assert not (world.work / "CHANGELOG.md").exists()
    assert world.store.events() == []


# --------------------------------------------------------------------------- 1. remote moved


def test_remote_branch_ahead_fails_preflight_and_nothing_changes(world: World) -> None:
    before = head(world.work)
    theirs = world.push_from_other()
    prep = world.prepare(push=True)
    up = check(prep, "up to date")
    assert not up.ok and not prep.ok
    assert f"origin/main is at {theirs[:12]}" in up.detail and "pull" in up.detail
    with pytest.raises(Refused, match="preflight failed: up to date"):
        world.execute(prep)
    assert_nothing_changed(world, before)
    assert ls_remote(world.remote)["refs/heads/main"] == theirs

    code, out, _ = world.cli("tag", "--push", "--yes")
    assert code == 1
    assert "[!] up to date" in out and "preflight failed: nothing was changed" in out
    assert_nothing_changed(world, before)


def test_push_refused_by_the_remote_leaves_the_tag_unpublished_and_a_rerun_publishes_it(
    world: World,
) -> None:
    main_before = head(world.work)
    hook = reject_pushes(world.remote)
    code, _, err = world.cli("tag", "--push", "--yes")
    assert code == 1
    assert "pushes are frozen for the audit" in err  # git's own words, from the remote
    assert "v1.1.0 is made locally and not published" in err
    # Nothing reached the remote: no tag, and the branch did not move either.
    assert remote_tags(world.remote) == ["v1.0.0"]
    assert ls_remote(world.remote)["refs/heads/main"] == main_before
    made = git(world.work, "rev-parse", "refs/tags/v1.1.0")
    assert tag_commit(world.work, "v1.1.0") == head(world.work)
    assert world.actions() == ["tag.started", "tag.created", "tag.push_failed", "tag.failed"]
    (failed,) = world.events("tag.push_failed")
    assert failed.outcome == "failed"
    assert "pushes are frozen for the audit" in failed.details_obj["error"]
    (push,) = git_list(failed)
    assert push["argv"][:3] == ["git", "push", "--atomic"] and push["exit"] != 0
    assert tagging.unpublished_tags(world.store) == {"v1.1.0"}

    hook.unlink()  # the fix
    code, out, err = world.cli("tag", "--push", "--yes")  # the same command again
    assert code == 0, err
    started = world.events("tag.started")[-1]
    assert started.details_obj["todo"] == "push"
    assert "exists on this commit, not published: resume" in out
    # The very tag made before is published; it was not made again.
    assert git(world.work, "rev-parse", "refs/tags/v1.1.0") == made
    assert remote_tag_commit(world.remote, "v1.1.0") == head(world.work)
    assert ls_remote(world.remote)["refs/tags/v1.1.0"] == made
    assert ls_remote(world.remote)["refs/heads/main"] == head(world.work)
    assert [ev.action for ev in world.events("tag.created", "tag.published")] == [
        "tag.created",
        "tag.published",
    ]
    assert tagging.unpublished_tags(world.store) == frozenset()


def test_remote_moving_between_preflight_and_push_fails_atomically_and_resumes_after_pull(
    world: World,
) -> None:
    prep = world.prepare(push=True)
    assert prep.ok and prep.plan.todo == "create" and prep.plan.version == "1.1.0"
    theirs = world.push_from_other()  # after the preflight, before the push
    with pytest.raises(GitFailed, match="git push --atomic origin failed"):
        world.execute(prep)
    assert remote_tags(world.remote) == ["v1.0.0"]
    assert ls_remote(world.remote)["refs/heads/main"] == theirs  # the branch was not pushed
    assert tag_commit(world.work, "v1.1.0") == head(world.work)
    assert [ev.action for ev in world.events("tag.created", "tag.push_failed")] == [
        "tag.created",
        "tag.push_failed",
    ]
    assert tagging.unpublished_tags(world.store) == {"v1.1.0"}

    git(world.work, "pull", "-q", "--rebase", "origin", "main")  # the fix
    prep = world.prepare(push=True)
    assert prep.ok, [c for c in prep.plan.checks if not c.ok]
    assert prep.plan.todo == "remake" and prep.plan.tag == "v1.1.0"
    assert "never published" in check(prep, "tag free").detail
    world.execute(prep)
    now = head(world.work)
    git(world.work, "merge-base", "--is-ancestor", theirs, now)
    assert tag_commit(world.work, "v1.1.0") == now == remote_tag_commit(world.remote, "v1.1.0")
    assert ls_remote(world.remote)["refs/heads/main"] == now
    created = world.events("tag.created")
    assert [ev.details_obj["remade"] for ev in created] == [False, True]
    assert world.events("tag.published")[-1].details_obj["commit"] == now
    assert (world.work / "CHANGELOG.md").read_text().count("## [1.1.0]") == 1


def test_rerun_with_the_same_bump_resumes_the_unpublished_tag(world: World) -> None:
    """``--bump patch`` again after a failed push is the same version, not the next one."""
    hook = reject_pushes(world.remote)
    with pytest.raises(GitFailed):
        world.execute(world.prepare(bump="patch", push=True))
    assert local_tags(world.work) == ["v1.0.0", "v1.0.1"]
    hook.unlink()
    prep = world.prepare(bump="patch", push=True)
    assert (prep.plan.version, prep.plan.todo) == ("1.0.1", "push")
    world.execute(prep)
    assert remote_tags(world.remote) == ["v1.0.0", "v1.0.1"]


# --------------------------------------------------------------------------- 2. the tag exists


def test_tag_on_this_commit_is_resumed_then_already_published(world: World) -> None:
    git(world.work, "tag", "-a", "-m", "made by hand", "v1.1.0")
    made = git(world.work, "rev-parse", "refs/tags/v1.1.0")
    prep = world.prepare(version="1.1.0", push=True)
    assert prep.ok and prep.plan.todo == "push"
    assert check(prep, "version").ok
    world.execute(prep)
    assert ls_remote(world.remote)["refs/tags/v1.1.0"] == made  # pushed as it was
    # 1.1.0 was given (the commits since the hand-made tag suggest nothing): a decision.
    assert world.actions() == ["version.chosen", "tag.started", "tag.published", "tag.done"]

    # Published now: nothing is left to do, and the command changes nothing.
    prep = world.prepare(version="1.1.0", push=True)
    assert prep.ok and prep.plan.todo == "nothing"
    assert "already published" in check(prep, "tag free").detail
    seq = world.store.head()[0]
    code, out, _ = world.cli("tag", "--version", "1.1.0", "--push", "--yes")
    assert code == 0 and "v1.1.0 is already published: nothing to do" in out
    assert world.store.head()[0] == seq
    assert git(world.work, "rev-parse", "refs/tags/v1.1.0") == made


def test_tag_on_another_commit_fails_tag_free_with_both_shas(world: World) -> None:
    older = git(world.work, "rev-parse", "HEAD~1")
    git(world.work, "tag", "-a", "-m", "made by hand", "v1.1.0", older)
    now = head(world.work)
    prep = world.prepare(version="1.1.0", push=True)
    free = check(prep, "tag free")
    assert not free.ok and older[:12] in free.detail and now[:12] in free.detail
    assert not check(prep, "version").ok  # 1.1.0 is taken
    with pytest.raises(Refused):
        world.execute(prep)
    assert tag_commit(world.work, "v1.1.0") == older and world.store.events() == []


def test_tag_published_on_another_commit_is_never_moved(world: World) -> None:
    other = world.clone("other")
    theirs_old = git(other, "rev-parse", "HEAD~1")
    git(other, "tag", "-a", "-m", "theirs", "v1.1.0", theirs_old)
    git(other, "push", "-q", "origin", "v1.1.0")
    now = head(world.work)
    prep = world.prepare(version="1.1.0", push=True)
    free = check(prep, "tag free")
    assert not free.ok and "a published tag is never moved" in free.detail
    assert theirs_old[:12] in free.detail and now[:12] in free.detail
    code, out, _ = world.cli("tag", "--version", "1.1.0", "--push", "--yes")
    assert code == 1 and "preflight failed" in out
    assert remote_tag_commit(world.remote, "v1.1.0") == theirs_old
    assert local_tags(world.work) == ["v1.0.0"] and world.store.events() == []


# --------------------------------------------------------------------------- 3. shallow clones


def test_shallow_clone_fails_history_and_unshallow_fixes_it(world: World) -> None:
    shallow = world.clone("shallow", "--depth", "1")
    assert git(shallow, "rev-parse", "--is-shallow-repository") == "true"
    assert local_tags(shallow) == []  # v1.0.0 is outside the one commit fetched
    requests: list[dict[str, Any]] = [{}, {"bump": "minor"}, {"pre": "rc"}]
    for request in requests:
        prep = world.prepare(repo=str(shallow), push=True, **request)
        history = check(prep, "history")
        assert not history.ok and "--unshallow" in history.detail
        # No version from a partial history (it would be 0.1.0, below the unseen v1.0.0).
        assert (prep.plan.version, prep.plan.suggested, prep.plan.suggestion) == ("?", None, None)
        assert not check(prep, "version").ok
        assert not [c for c in prep.plan.checks if c.name == "tag free"]
        with pytest.raises(Refused, match="preflight failed: history"):
            world.execute(prep)
    code, out, _ = world.cli("tag", "--repo", str(shallow), "--bump", "minor", "--push", "--yes")
    assert code == 1 and "[!] history" in out and "[!] version" in out
    assert "0.1.0" not in out
    assert local_tags(shallow) == [] and world.store.events() == []
    assert remote_tags(world.remote) == ["v1.0.0"]

    prep = world.prepare(repo=str(shallow), unshallow=True)
    assert git(shallow, "rev-parse", "--is-shallow-repository") == "false"
    assert check(prep, "history").ok and prep.ok
    assert (prep.plan.suggested, prep.plan.version) == ("1.1.0", "1.1.0")
    assert prep.plan.suggestion is not None and prep.plan.suggestion.since == "v1.0.0"
    code, out, err = world.cli("tag", "--repo", str(shallow), "--push", "--yes")
    assert code == 0, err
    assert remote_tag_commit(world.remote, "v1.1.0") == head(shallow)


# --------------------------------------------------------------------------- 4. detached HEAD


def test_detached_head_on_exactly_one_allowed_branch_is_accepted(world: World) -> None:
    git(world.work, "checkout", "-q", "--detach", "HEAD")
    prep = world.prepare(push=True)
    branch = check(prep, "branch")
    assert branch.ok and "on main only" in branch.detail and prep.plan.branch == "main"
    world.execute(prep)
    assert ls_remote(world.remote)["refs/heads/main"] == head(world.work)
    assert remote_tag_commit(world.remote, "v1.1.0") == head(world.work)


def test_detached_head_on_no_allowed_branch_is_refused(world: World) -> None:
    git(world.work, "checkout", "-q", "-b", "feature/x")
    commit(world.work, "feat: experiment")
    git(world.work, "checkout", "-q", "--detach", "HEAD")
    prep = world.prepare(push=True)
    branch = check(prep, "branch")
    assert not branch.ok and "no allowed branch" in branch.detail
    assert prep.plan.branch is None
    # On the branch itself: not an allowed one either.
    git(world.work, "checkout", "-q", "feature/x")
    branch = check(world.prepare(push=True), "branch")
    assert not branch.ok and branch.detail == "on feature/x; allowed: main, release/*"


def test_detached_head_on_two_allowed_branches_is_refused(world: World) -> None:
    git(world.work, "branch", "release/1.x")
    git(world.work, "checkout", "-q", "--detach", "HEAD")
    prep = world.prepare(push=True)
    branch = check(prep, "branch")
    assert not branch.ok and "on main, release/1.x" in branch.detail
    with pytest.raises(Refused, match="branch"):
        world.execute(prep)
    assert local_tags(world.work) == ["v1.0.0"] and world.store.events() == []


# --------------------------------------------------------------------------- 5. dirty tree


def test_dirty_tree_is_refused_and_accepted_with_a_logged_reason(world: World) -> None:
    before = head(world.work)
    (world.work / "app.txt").write_text("an edit not committed\n")
    prep = world.prepare(push=True)
    clean = check(prep, "clean")
    assert not clean.ok and "app.txt" in clean.detail and "--allow-dirty" in clean.detail
    with pytest.raises(Refused, match="clean"):
        world.execute(prep)
    assert_nothing_changed(world, before)

    reason = "generated app.txt differs on the build host, INC-42"
    prep = world.prepare(push=True, allow_dirty=reason)
    clean = check(prep, "clean")
    assert clean.ok and clean.warning and reason in clean.detail
    world.execute(prep)
    (started,) = world.events("tag.started")
    assert started.reason == reason
    preflight = {c["check"]: c for c in started.details_obj["preflight"]}
    assert preflight["clean"]["ok"] is True and reason in preflight["clean"]["detail"]
    # The uncommitted edit stays uncommitted: it is not in the tagged commit.
    assert "app.txt" in git(world.work, "status", "--porcelain")
    assert "an edit" not in git(world.work, "show", "v1.1.0:app.txt")


# --------------------------------------------------------------------------- 6. signed tags


@pytest.fixture
def ssh_key(tmp_path: Path) -> Path:
    keys = tmp_path / "keys"
    keys.mkdir()
    key = keys / "release_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "tess@example.com", "-f", str(key)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return key


@pytest.fixture
def gpg_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A passphrase-less signing key in a GNUPGHOME of the test's own; its fingerprint."""
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("GNUPGHOME", str(home))
    spec = (
        "%no-protection\nKey-Type: eddsa\nKey-Curve: ed25519\nKey-Usage: sign\n"
        "Name-Real: Tess Ter\nName-Email: tess@example.com\nExpire-Date: 0\n%commit\n"
    )
    subprocess.run(
        ["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--gen-key"],
        input=spec,
        text=True,
        check=True,
        capture_output=True,
        timeout=60,
    )
    listing = subprocess.run(
        ["gpg", "--batch", "--with-colons", "--list-secret-keys"],
        text=True,
        check=True,
        capture_output=True,
        timeout=30,
    ).stdout
    (fingerprint,) = [ln.split(":")[9] for ln in listing.splitlines() if ln.startswith("fpr:")][:1]
    yield fingerprint
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], capture_output=True, timeout=30, check=False)


def test_ssh_signed_tag_verifies_with_the_key_fingerprint(world: World, ssh_key: Path) -> None:
    world.configure(signing="ssh", signing_key=str(ssh_key))
    prep = world.prepare(push=True)
    signing = check(prep, "signing")
    expected = subprocess.run(
        ["ssh-keygen", "-lf", f"{ssh_key}.pub"], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    assert signing.ok and expected in signing.detail
    world.execute(prep)
    (created,) = world.events("tag.created")
    details = created.details_obj
    assert details["signed"] == "ssh" and details["verified"] is True
    assert details["key_fingerprint"] == expected and expected.startswith("SHA256:")
    (verify,) = [r for r in git_list(created) if "verify-tag" in r["argv"]]
    assert verify["argv"][-2:] == ["verify-tag", "v1.1.0"] and verify["exit"] == 0
    assert "-----BEGIN SSH SIGNATURE-----" in git(world.work, "cat-file", "tag", "v1.1.0")
    # Verified here too, by git itself, against the public key: the published tag as well.
    signers = world.root / "allowed_signers"
    signers.write_text(f"tess@example.com {Path(f'{ssh_key}.pub').read_text()}")
    fresh = world.clone("verifier")
    done = subprocess.run(
        ["git", "-c", f"gpg.ssh.allowedSignersFile={signers}", "verify-tag", "v1.1.0"],
        cwd=fresh,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert 'Good "git" signature for tess@example.com' in done.stderr


def test_broken_ssh_key_fails_the_signing_check(world: World, ssh_key: Path) -> None:
    ssh_key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n")  # .pub still fine
    world.configure(signing="ssh", signing_key=str(ssh_key))
    prep = world.prepare(push=True)
    signing = check(prep, "signing")
    assert not signing.ok and signing.detail.startswith("ssh signing fails")
    with pytest.raises(Refused, match="preflight failed: signing"):
        world.execute(prep)
    assert local_tags(world.work) == ["v1.0.0"] and world.store.events() == []
    # A key that is not there at all says so too.
    world.configure(signing="ssh", signing_key=str(world.root / "keys" / "missing"))
    signing = check(world.prepare(push=True), "signing")
    assert not signing.ok and signing.detail.startswith("ssh key:")


def test_gpg_signed_tag_verifies_with_the_key_fingerprint(world: World, gpg_key: str) -> None:
    world.configure(signing="gpg", signing_key=gpg_key)
    prep = world.prepare(push=True)
    signing = check(prep, "signing")
    assert signing.ok and gpg_key in signing.detail
    world.execute(prep)
    (created,) = world.events("tag.created")
    details = created.details_obj
    assert details["signed"] == "gpg" and details["verified"] is True
    assert details["key_fingerprint"] == gpg_key
    assert "-----BEGIN PGP SIGNATURE-----" in git(world.work, "cat-file", "tag", "v1.1.0")
    done = subprocess.run(
        ["git", "verify-tag", "--raw", "v1.1.0"],
        cwd=world.clone("verifier"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"VALIDSIG {gpg_key}" in done.stderr


def test_gpg_key_without_its_secret_fails_the_signing_check(world: World, gpg_key: str) -> None:
    subprocess.run(
        ["gpg", "--batch", "--yes", "--delete-secret-keys", gpg_key],
        check=True,
        capture_output=True,
        timeout=30,
    )
    world.configure(signing="gpg", signing_key=gpg_key)
    prep = world.prepare(push=True)
    signing = check(prep, "signing")
    assert not signing.ok and signing.detail.startswith("gpg signing fails")
    with pytest.raises(Refused, match="preflight failed: signing"):
        world.execute(prep)
    assert local_tags(world.work) == ["v1.0.0"] and world.store.events() == []


# --------------------------------------------------------------------------- 7. atomic push


def test_branch_and_tag_go_to_the_remote_in_one_atomic_push(world: World) -> None:
    final = world.execute(world.prepare(push=True))
    assert (final.action, final.outcome) == ("tag.done", "ok")
    assert final.details_obj["published"] is True and final.details_obj["atomic"] is True
    now = head(world.work)
    (published,) = world.events("tag.published")
    assert published.details_obj["atomic"] is True and published.details_obj["note"] is None
    assert git_list(published) == [
        {
            "argv": [
                "git",
                "push",
                "--atomic",
                "--porcelain",
                "origin",
                f"{now}:refs/heads/main",
                "refs/tags/v1.1.0:refs/tags/v1.1.0",
            ],
            "exit": 0,
        }
    ]
    refs = ls_remote(world.remote)
    assert refs["refs/heads/main"] == now
    assert refs["refs/tags/v1.1.0^{}"] == now
    assert refs["refs/tags/v1.1.0"] == git(world.work, "rev-parse", "refs/tags/v1.1.0")


def test_a_server_without_atomic_pushes_gets_the_branch_then_the_tag(world: World) -> None:
    git(world.remote, "config", "receive.advertiseAtomic", "false")
    world.execute(world.prepare(push=True))
    now = head(world.work)
    (published,) = world.events("tag.published")
    assert published.details_obj["atomic"] is False
    assert "branch, then tag" in published.details_obj["note"]
    runs = git_list(published)
    assert [(r["argv"][2], r["exit"] == 0) for r in runs] == [
        ("--atomic", False),
        ("--porcelain", True),
        ("--porcelain", True),
    ]
    assert [r["argv"][-1] for r in runs[1:]] == [
        f"{now}:refs/heads/main",
        "refs/tags/v1.1.0:refs/tags/v1.1.0",
    ]
    assert ls_remote(world.remote)["refs/heads/main"] == now
    assert remote_tag_commit(world.remote, "v1.1.0") == now


# --------------------------------------------------------------------------- 8. next version

SEMVER_11 = [
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
]


def vs(*texts: str) -> list[semver.Version]:
    return [parse(t) for t in texts]


def test_semver_11_precedence_is_the_ordering_used() -> None:
    versions = vs(*SEMVER_11)
    for lower, higher in itertools.pairwise(versions):
        assert lower < higher, (str(lower), str(higher))
    assert [str(v) for v in sorted(reversed(versions))] == SEMVER_11
    # The ordering next_version relies on: the newest of them is the highest.
    assert str(next_version(versions, pre="rc").version) == "1.0.1-rc.1"


@pytest.mark.parametrize(
    ("existing", "kwargs", "expected"),
    [
        ([], {"bump": "minor"}, "0.1.0"),
        (["1.0.0"], {"pre": "rc"}, "1.0.1-rc.1"),  # never 1.0.0-rc.1
        (["1.0.0"], {"bump": "minor", "pre": "beta"}, "1.1.0-beta.1"),
        (["1.2.0", "1.3.0-rc.1"], {"pre": "rc"}, "1.3.0-rc.2"),
        (["1.2.0", "1.3.0-beta.1"], {"pre": "rc"}, "1.3.0-rc.1"),
        (["1.2.0", "1.3.0-rc.2"], {"bump": "minor"}, "1.3.0"),  # ends the pre-releases
        (["1.2.0", "1.3.0-rc.2"], {"bump": "patch"}, None),  # 1.2.1 is below 1.3.0-rc.2
        (["1.2.0", "1.3.0-rc.1"], {"pre": "beta"}, None),  # rc -> beta goes back
        (["1.2.0", "1.3.0-rc.1"], {"bump": "minor", "pre": "beta"}, None),
        (["1.2.0+build.7"], {"explicit": "1.2.0"}, None),  # build metadata does not count
        (["1.2.0"], {"explicit": "1.2.0+build.8"}, None),
        (["1.2.0"], {"explicit": "1.1.9"}, None),
        (["1.2.0"], {"explicit": "2.0.0"}, "2.0.0"),
        (["0.9.0", "1.2.0", "1.10.0"], {"bump": "patch"}, "1.10.1"),  # numeric, not text
    ],
)
def test_next_version_rules(
    existing: list[str], kwargs: dict[str, Any], expected: str | None
) -> None:
    if expected is None:
        with pytest.raises(VersionError):
            next_version(vs(*existing), **kwargs)
    else:
        assert str(next_version(vs(*existing), **kwargs).version) == expected


def test_next_version_refusals_say_why() -> None:
    with pytest.raises(VersionError, match=r"1\.2\.0 collides with existing version 1\.2\.0\+b"):
        next_version(vs("1.2.0+b"), explicit="1.2.0")
    with pytest.raises(VersionError, match=r"1\.3\.0-beta\.1 is not greater than .* 1\.3\.0-rc\.1"):
        next_version(vs("1.2.0", "1.3.0-rc.1"), pre="beta")
    with pytest.raises(UsageError, match="--pre 'gamma'"):
        next_version([], pre="gamma")
    with pytest.raises(UsageError, match="choose a bump"):
        next_version([])


_cores = st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 3))
_pre = st.one_of(
    st.none(),
    st.tuples(st.sampled_from(["alpha", "beta", "rc"]), st.integers(1, 3)).map(
        lambda t: f"{t[0]}.{t[1]}"
    ),
    st.sampled_from(["alpha", "rc", "alpha.beta", "x.7.z"]),
)
_build = st.one_of(st.none(), st.sampled_from(["build.1", "sha.5114f85"]))
versions = st.builds(
    lambda c, p, b: semver.Version(c[0], c[1], c[2], prerelease=p, build=b), _cores, _pre, _build
)
bumps: st.SearchStrategy[Bump | None] = st.sampled_from([None, "major", "minor", "patch"])
pres = st.sampled_from([None, "alpha", "beta", "rc"])


@settings(max_examples=400, deadline=None)
@given(st.lists(versions, max_size=8), bumps, pres, bumps)
def test_next_version_is_above_every_existing_version(
    existing: list[semver.Version], bump: Bump | None, pre: str | None, default: Bump | None
) -> None:
    if bump is None and pre is None:
        bump = "patch"
    try:
        chosen = next_version(existing, bump=bump, pre=pre, default_bump=default).version
    except VersionError:
        # Refused only when a pre-release is above what was asked (rc -> beta, 1.2.1 under
        # 1.3.0-rc.1): with stable versions alone every bump and pre-release is possible.
        assert any(v.prerelease for v in existing)
        return
    assert all(chosen > v for v in existing)
    assert chosen.build is None
    assert all(chosen.compare(v) != 0 for v in existing)


@settings(max_examples=200, deadline=None)
@given(st.lists(versions, max_size=8), st.sampled_from(["alpha", "beta", "rc"]))
def test_a_pre_release_series_counts_on(existing: list[semver.Version], pre: str) -> None:
    try:
        first = next_version(existing, pre=pre).version
    except VersionError:
        return
    second = next_version([*existing, first], pre=pre).version
    assert second > first
    assert second.replace(prerelease=None) == first.replace(prerelease=None)
    token, number = str(first.prerelease).split(".")
    assert second.prerelease == f"{token}.{int(number) + 1}"


@settings(max_examples=200, deadline=None)
@given(st.lists(versions, min_size=1, max_size=6), st.data())
def test_build_metadata_never_makes_a_version_new(
    existing: list[semver.Version], data: st.DataObject
) -> None:
    taken = data.draw(st.sampled_from(existing))
    with pytest.raises(VersionError):
        next_version(existing, explicit=str(taken.replace(build="ci.42")))


def test_a_tag_on_another_branch_still_counts(world: World) -> None:
    git(world.work, "checkout", "-q", "-b", "maint")
    commit(world.work, "fix: only on maint")
    git(world.work, "tag", "-a", "-m", "maint", "v1.1.0")
    git(world.work, "checkout", "-q", "main")
    assert "v1.1.0" not in git(world.work, "tag", "--merged", "HEAD")
    prep = world.prepare(bump="minor")
    assert prep.plan.version == "1.2.0"  # not 1.1.0: that version exists, elsewhere
    # The suggestion still counts the commits since the last release reachable from HEAD...
    assert prep.plan.suggestion is not None and prep.plan.suggestion.since == "v1.0.0"
    # ...and its version is above the unreachable tag too.
    assert prep.plan.suggested == "1.2.0"
    refused = world.prepare(version="1.1.0")
    assert not check(refused, "version").ok


def probes(g: Git) -> list[str]:
    """The tags asked about with ``merge-base --is-ancestor``, in order."""
    return [
        r.argv[2].removeprefix("refs/tags/")
        for r in g.runs
        if r.argv[:2] == ["merge-base", "--is-ancestor"]
    ]


def merged_answer(repo: Path, tags: dict[str, tuple[semver.Version, str]]) -> str | None:
    """The last release as ``git tag --merged HEAD`` says: its highest stable version."""
    merged = set(git(repo, "tag", "--merged", "HEAD").splitlines())
    found = [(v, n) for n, (v, _) in tags.items() if n in merged and not v.prerelease]
    return max(found)[1] if found else None


def test_last_release_skips_tags_on_another_branch_which_still_count(world: World) -> None:
    git(world.work, "checkout", "-q", "-b", "maint", "v1.0.0")
    commit(world.work, "fix: only on maint")
    git(world.work, "tag", "-a", "-m", "maint", "v1.0.1")
    git(world.work, "checkout", "-q", "-b", "next", "main")
    commit(world.work, "feat: only on next")
    git(world.work, "tag", "v2.0.0")  # lightweight
    git(world.work, "checkout", "-q", "main")
    g = Git(world.work)
    tags = g.version_tags("v{version}")
    assert g.last_release(tags) == "v1.0.0"
    # Highest first; one question each; no walk of the whole history.
    assert probes(g) == ["v2.0.0", "v1.0.1", "v1.0.0"]
    assert [r.exit for r in g.runs[-3:]] == [1, 1, 0]
    assert not [r for r in g.runs if r.argv[:2] == ["tag", "--merged"]]
    # From the maintenance branch its own tag is the last release.
    git(world.work, "checkout", "-q", "maint")
    assert g.last_release(tags) == "v1.0.1" == merged_answer(world.work, tags)
    git(world.work, "checkout", "-q", "main")
    prep = world.prepare()
    assert prep.plan.suggestion is not None and prep.plan.suggestion.since == "v1.0.0"
    assert [c.text for c in prep.plan.suggestion.commits] == ["crash on empty query", "add search"]
    # The commits ask for a minor bump, above every tag: v2.0.0 on next included.
    assert (prep.plan.suggested, prep.plan.version) == ("2.1.0", "2.1.0")


def test_git_asks_the_repository_it_was_given_and_stops_a_git_that_hangs(
    world: World, tmp_path: Path
) -> None:
    """``Git`` runs ``git`` itself (no GitPython): a work tree's top, a bare repository and a
    linked work tree are repositories, a subdirectory is not (parents are not searched); git's
    exit and words are kept; a command that does not answer within the timeout is stopped."""
    assert Git(world.work).out("rev-parse", "HEAD") == head(world.work)
    assert Git(world.remote).out("rev-parse", "--is-bare-repository") == "true"
    linked = tmp_path / "linked"
    git(world.work, "worktree", "add", "-q", "--detach", str(linked))
    assert Git(linked).out("rev-parse", "HEAD") == head(world.work)
    (world.work / "sub").mkdir()
    for path in (world.work / "sub", tmp_path / "none"):
        with pytest.raises(UsageError, match=f"^{re.escape(str(path))}: not a git repository$"):
            Git(path)
    g = Git(world.work, timeout=0.3)
    missing = g.run("rev-parse", "--verify", "nope", check=False)
    assert (missing.exit, missing.stderr) == (128, "fatal: Needed a single revision")
    with pytest.raises(GitFailed, match=r"^git rev-parse failed \(128\): fatal: Needed"):
        g.run("rev-parse", "--verify", "nope")
    started = time.monotonic()
    hung = g.run("-c", "alias.hang=!sleep 5", "hang", check=False)
    assert time.monotonic() - started < 3
    assert hung.exit == -9 and hung.stderr.endswith("no answer within 0.3 s, stopped")
    assert [r.argv[0] for r in g.runs] == ["rev-parse", "rev-parse", "-c"]


def test_a_pre_release_is_never_the_last_release(world: World) -> None:
    git(world.work, "tag", "-a", "-m", "rc", "v1.1.0-rc.1")  # on HEAD, the newest tag
    g = Git(world.work)
    assert g.last_release(g.version_tags("v{version}")) == "v1.0.0"
    assert probes(g) == ["v1.0.0"]  # the pre-release is not asked about
    prep = world.prepare()
    assert prep.plan.suggestion is not None and prep.plan.suggestion.since == "v1.0.0"
    assert len(prep.plan.suggestion.commits) == 2
    assert prep.plan.version == "1.1.0"  # the minor bump ends the 1.1.0 pre-releases
    assert "ends the 1.1.0 pre-releases" in world.prepare(bump="minor").plan.why


def test_more_tags_outside_head_than_the_probe_limit_fall_back_to_tag_merged(
    world: World,
) -> None:
    git(world.work, "checkout", "-q", "-b", "next")
    outside = PROBE_LIMIT + 5
    for minor in range(outside):
        commit(world.work, f"feat: next {minor}")
        git(world.work, "tag", f"v2.{minor}.0")
    git(world.work, "tag", f"v2.{outside}.0-rc.1")  # not asked about
    git(world.work, "checkout", "-q", "main")
    g = Git(world.work)
    tags = g.version_tags("v{version}")
    assert g.last_release(tags) == "v1.0.0" == merged_answer(world.work, tags)
    assert len(probes(g)) == PROBE_LIMIT
    assert probes(g)[0] == f"v2.{outside - 1}.0"
    assert [r.argv for r in g.runs[-1:]] == [["tag", "--merged", "HEAD"]]
    # Asked one by one instead, the answer is the same.
    g.runs.clear()
    assert g.last_release(tags, limit=outside + 1) == "v1.0.0"
    assert len(probes(g)) == outside + 1 and g.runs[-1].argv[0] == "merge-base"
    prep = world.prepare()
    assert prep.plan.suggestion is not None and prep.plan.suggestion.since == "v1.0.0"
    assert prep.plan.version == f"2.{outside}.0"


def test_last_release_is_what_tag_merged_says_from_every_commit(world: World) -> None:
    """Branches, pre-releases, two tags on one commit, build metadata, a tag of a tree; every
    commit as HEAD and every probe limit give the answer of ``git tag --merged``."""
    w = world.work
    git(w, "tag", "v1.1.0-rc.1")
    git(w, "tag", "-a", "-m", "build", "v1.0.0+build.7", "v1.0.0")
    git(w, "checkout", "-q", "-b", "maint", "v1.0.0")
    commit(w, "fix: maint one")
    git(w, "tag", "v1.0.1")
    git(w, "tag", "v1.0.1-dup")  # not a version: ignored
    commit(w, "fix: maint two")
    git(w, "tag", "-a", "-m", "two", "v1.0.2")
    git(w, "tag", "v1.0.2+meta")
    git(w, "checkout", "-q", "-b", "next", "main")
    commit(w, "feat!: next")
    git(w, "tag", "v2.0.0-beta.1")
    commit(w, "feat: next two")
    git(w, "tag", "v2.0.0")
    git(w, "checkout", "-q", "main")
    commit(w, "feat: main three")
    git(w, "tag", "v1.1.0")
    tree = git(w, "rev-parse", "HEAD^{tree}")
    heads = git(w, "rev-list", "--all").splitlines()
    g = Git(w)
    tags = g.version_tags("v{version}")
    git(w, "tag", "v9.0.0", tree)  # a tag of a tree: git cannot answer for it
    with_tree = g.version_tags("v{version}")
    assert "v9.0.0" in with_tree
    answers = set()
    for sha in heads:
        git(w, "checkout", "-q", "--detach", sha)
        want = merged_answer(w, tags)
        answers.add(want)
        for limit in (0, 1, 2, 3, PROBE_LIMIT):
            assert g.last_release(tags, limit=limit) == want, (sha, limit)
            assert g.last_release(with_tree, limit=limit) == want, (sha, limit, "tree")
    # Equal versions (build metadata) are told apart by name, as max() of (version, name) does.
    assert answers == {"v1.0.0+build.7", "v1.0.1", "v1.0.2+meta", "v1.1.0", "v2.0.0"}


@pytest.mark.parametrize(
    ("subject", "body", "bump"),
    [
        ("feat: search", "", "minor"),
        ("feat(api): search", "", "minor"),
        ("fix: crash", "", "patch"),
        ("perf: faster", "", "patch"),
        ("feat!: drop the v1 API", "", "major"),
        ("fix(db)!: new schema", "", "major"),
        ("feat: new login", "BREAKING CHANGE: the old tokens stop working", "major"),
        ("refactor: tokens", "Why.\n\nBREAKING-CHANGE: tokens", "major"),
        ("feat: x", "mentions BREAKING CHANGE: in the middle of a line", "minor"),
        ("docs: readme", "", None),
        ("chore: deps", "", None),
        ("Merge branch 'x'", "", None),
        ("feat:no space", "", None),
    ],
)
def test_conventional_commit_bumps(subject: str, body: str, bump: str | None) -> None:
    assert parse_commit("0" * 40, subject, body).bump == bump


def test_suggestion_lists_the_deciding_commits() -> None:
    commits = [
        parse_commit("a" * 40, "fix: one"),
        parse_commit("b" * 40, "feat(ui): two"),
        parse_commit("c" * 40, "docs: three"),
        parse_commit("d" * 40, "feat: four"),
    ]
    s = suggest(commits, "v1.0.0")
    assert s.bump == "minor"
    assert [c.sha[0] for c in s.deciding] == ["b", "d"]
    assert s.describe() == "minor: 2 of 4 commit(s) since v1.0.0 ask for it"
    assert suggest(commits[2:3], None).deciding == []


def test_commits_in_the_repository_decide_the_suggestion(world: World) -> None:
    prep = world.prepare()
    assert (prep.plan.suggested, prep.plan.version) == ("1.1.0", "1.1.0")
    assert [d["subject"] for d in prep.deciding] == ["feat: add search"]
    breaking = commit(world.work, "feat: new tokens", "BREAKING CHANGE: old tokens stop working")
    bang = commit(world.work, "refactor!: drop the v1 API")
    prep = world.prepare()
    assert (prep.plan.suggested, prep.plan.version) == ("2.0.0", "2.0.0")
    assert [d["sha"] for d in prep.deciding] == [bang[:12], breaking[:12]]
    assert prep.plan.why == "from the commits: major"
    assert "### Breaking\n- drop the v1 API" in prep.plan.notes


# --------------------------------------------------------------------------- 9. events, the CLI


def test_tag_message_carries_an_audit_checkpoint_of_a_stored_event(world: World) -> None:
    world.execute(world.prepare(push=True))
    message = tag_message(world.work, "v1.1.0")
    m = re.search(r"^Audit-Checkpoint: seq=(\d+) sha256=([0-9a-f]{64})$", message, re.MULTILINE)
    assert m, message
    seq, digest = int(m.group(1)), m.group(2)
    (ev,) = [e for e in world.store.events() if e.seq == seq]
    assert ev.hash == digest
    assert ev.action == "tag.started"  # the intent, recorded before the tag was made
    (created,) = world.events("tag.created")
    assert created.details_obj["checkpoint"] == {"seq": seq, "hash": digest}
    assert created.seq > seq
    # The message: version, date, changes (feat and fix, by their commits).
    assert message.startswith("Release 1.1.0\n\nVersion: 1.1.0\nDate: ")
    assert (
        "### Added\n- add search (" in message and "### Fixed\n- crash on empty query (" in message
    )


def test_every_tag_event_keeps_its_git_commands_with_exit_codes(world: World) -> None:
    hook = reject_pushes(world.remote)
    with pytest.raises(GitFailed):
        world.execute(world.prepare(push=True))
    hook.unlink()
    world.execute(world.prepare(push=True))
    runs = {
        ev.action: git_list(ev)
        for ev in world.events("tag.created", "tag.push_failed", "tag.published")
    }
    assert set(runs) == {"tag.created", "tag.push_failed", "tag.published"}
    made = [r["argv"][1:3] for r in runs["tag.created"]]
    assert ["commit", "-m"] in made and ["tag", "-a"] in made
    assert all(r["exit"] == 0 for r in runs["tag.created"] + runs["tag.published"])
    assert [r["exit"] != 0 for r in runs["tag.push_failed"]] == [True]
    # The outcome events say what happened; the intent says what was planned.
    started = world.events("tag.started")
    assert [s.details_obj["todo"] for s in started] == ["create", "push"]
    assert all(s.details_obj["preflight"] for s in started)
    assert world.actions()[-1] == "tag.done"


def test_cli_dry_run_changes_nothing_and_exits_by_the_preflight(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = head(world.work)
    code, out, err = world.cli("tag", "--dry-run", "--push")
    assert code == 0, err
    assert "version     1.1.0" in out and "minor" in out
    assert "[x] up to date" in out and "[!]" not in out
    assert "tag message (v1.1.0)" in out and "  | Release 1.1.0" in out
    assert_nothing_changed(world, before)

    code, out, _ = world.cli("tag", "--dry-run", "--json", "--push")
    assert code == 0
    shown = json.loads(out)
    assert (shown["version"], shown["tag"], shown["todo"], shown["ok"]) == (
        "1.1.0",
        "v1.1.0",
        "create",
        True,
    )
    assert shown["suggested"] == "1.1.0" and shown["branch"] == "main"
    assert [d["subject"] for d in shown["deciding"]] == ["feat: add search"]
    assert {c["check"] for c in shown["checks"]} >= {"history", "version", "clean", "tag free"}

    # Without --dry-run and without --yes, a script (no terminal) is not asked: refused.
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    code, _, err = world.cli("tag", "--push")
    assert code == 2 and "add --yes" in err
    assert_nothing_changed(world, before)

    (world.work / "app.txt").write_text("dirty\n")
    code, out, _ = world.cli("tag", "--dry-run", "--push")
    assert code == 1 and "[!] clean" in out and "preflight failed: nothing was changed" in out
    code, out, _ = world.cli("tag", "--dry-run", "--json")
    assert code == 1 and json.loads(out)["ok"] is False
    assert_nothing_changed(world, before)


def test_the_preflight_asks_git_each_thing_once(world: World) -> None:
    """HEAD and depth in one rev-parse, every tag and the branch in one for-each-ref; no
    repeated rev-parse, however many tags."""
    commit(world.work, "fix: one more")  # HEAD ahead of origin/main: the ancestry is asked
    prep = world.prepare()
    asked = [run.argv[0] for run in prep.git.runs]
    assert asked.count("rev-parse") == 1 and asked.count("for-each-ref") == 1, asked
    assert "symbolic-ref" not in asked
    assert sorted(asked) == sorted(
        ["rev-parse", "for-each-ref", "merge-base", "log", "status", "ls-remote", "merge-base"]
    ), asked


def test_a_dry_run_with_env_does_not_open_the_store_and_knows_the_unpublished_tags(
    world: World,
) -> None:
    """``cockpit tag --env X --dry-run`` reads the tags the log left unpublished through the
    standard library (no SQLAlchemy, no migration) and gives the answer the store would; it
    asks git through subprocesses (no GitPython)."""
    world.execute(world.prepare())  # v1.1.0 made here, not pushed: recorded as unpublished
    code = (
        "import io, json, sys\n"
        "from cockpit.cli import main\n"
        "out = io.StringIO()\n"
        f"rc = main(['--config', {str(world.config)!r}, 'tag', '--env', 'staging', "
        "'--dry-run', '--json', '--push'], out=out)\n"
        "shown = json.loads(out.getvalue())\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules}"
        " & {'sqlalchemy', 'alembic', 'yaml', 'git', 'gitdb'}"
        " | {m for m in sys.modules} & {'cockpit.checklist', 'cockpit.store'})\n"
        "print(json.dumps([rc, shown['version'], shown['todo'], heavy]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=world.root, check=True
    )
    rc, version, todo, heavy = json.loads(result.stdout.splitlines()[-1])
    # The tag made here is not counted as released: push it, not a new version past it.
    assert (rc, version, todo) == (0, "1.1.0", "push")
    assert heavy == []
    # The store's own answer (in-process, store open) is the same.
    _, out, _ = world.cli("tag", "--env", "staging", "--dry-run", "--json", "--push")
    assert (json.loads(out)["version"], json.loads(out)["todo"]) == (version, todo)


# --------------------------------------------------------------------------- 10. CHANGELOG.md


def test_changelog_section_is_committed_before_the_tag_once(world: World) -> None:
    (world.work / "CHANGELOG.md").write_text(
        "# Changelog\n\n## [Unreleased]\n\n## [1.0.0] - 2026-01-01\n\n- first\n"
    )
    git(world.work, "add", "CHANGELOG.md")
    git(world.work, "commit", "-q", "-m", "docs: changelog")
    git(world.work, "push", "-q", "origin", "main")
    prep = world.prepare()  # created, not pushed
    world.execute(prep)
    day = datetime.now(ZoneInfo("Asia/Tokyo")).date().isoformat()
    assert git(world.work, "log", "-1", "--format=%s") == "chore(release): 1.1.0"
    assert tag_commit(world.work, "v1.1.0") == head(world.work)
    assert git(world.work, "show", "--name-only", "--format=", "HEAD") == "CHANGELOG.md"
    text = git(world.work, "show", "v1.1.0:CHANGELOG.md")
    assert text.index("## [Unreleased]") < text.index(f"## [1.1.0] - {day}")
    assert text.index(f"## [1.1.0] - {day}") < text.index("## [1.0.0] - 2026-01-01")
    assert "### Added\n- add search (" in text

    # The tag is lost (deleted by hand) and the same command runs again: no second section.
    tagged = head(world.work)
    git(world.work, "tag", "-d", "v1.1.0")
    world.execute(world.prepare(push=True))
    assert head(world.work) == tagged == tag_commit(world.work, "v1.1.0")
    assert (world.work / "CHANGELOG.md").read_text().count("## [1.1.0]") == 1
    assert remote_tag_commit(world.remote, "v1.1.0") == tagged


def test_no_changelog_makes_no_section_and_no_commit(world: World) -> None:
    before = head(world.work)
    code, _, err = world.cli("tag", "--no-changelog", "--push", "--yes")
    assert code == 0, err
    assert head(world.work) == before == tag_commit(world.work, "v1.1.0")
    assert not (world.work / "CHANGELOG.md").exists()
    assert remote_tag_commit(world.remote, "v1.1.0") == before


def test_changelog_insertion_keeps_a_changelog_order() -> None:
    section = "## [1.1.0] - 2026-12-16\n\n### Added\n- b\n"
    fresh = insert_changelog("", section)
    assert fresh.startswith("# Changelog\n") and fresh.endswith(section)
    assert fresh.index("## [Unreleased]") < fresh.index("## [1.1.0]")
    unreleased = "# Changelog\n\n## [Unreleased]\n\n- pending\n\n## [1.0.0] - 2026-01-01\n"
    out = insert_changelog(unreleased, section)
    assert out.index("- pending") < out.index("## [1.1.0]") < out.index("## [1.0.0]")
    plain = "# Changelog\n\n## [1.0.0] - 2026-01-01\n"
    assert (
        insert_changelog(plain, section)
        == "# Changelog\n\n" + section + "\n## [1.0.0] - 2026-01-01\n"
    )


# --------------------------------------------------------------------------- 11. the release plan


def test_the_release_plan_tag_step_runs_after_the_t3_gate(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = create_release(
        Session(store=world.store, loaded=world.loaded, operator=ALICE),
        plan="release",
        environment="staging",
        version="1.1.0",
        t0="2026-12-16T01:00",
    ).id
    code, _, err = world.cli("item", "done", rid, "t1.tag")
    assert code == 1 and "t3.approval" in err  # the T-3 gate is not approved yet
    assert local_tags(world.work) == ["v1.0.0"]
    prep = world.prepare(release_text=rid)
    assert not prep.ok and check(prep, "plan").detail.startswith("t1.tag: ")

    for item in ("t3.docs_updated", "t3.release_notes", "t3.changelog", "t3.technical_docs"):
        decide(Session(store=world.store, loaded=world.loaded, operator=ALICE), rid, item, "done")
    with pytest.raises(Refused, match="four-eyes"):
        decide(
            Session(store=world.store, loaded=world.loaded, operator=ALICE),
            rid,
            "t3.approval",
            "approve",
        )
    monkeypatch.setenv("COCKPIT_AS", "bob")  # the rehearsal's stand-in second approver
    code, out, err = world.cli("item", "approve", rid, "t3.approval")
    assert code == 0, err
    monkeypatch.delenv("COCKPIT_AS")

    code, out, err = world.cli("item", "done", rid, "t1.tag")
    assert code == 0, err
    assert "step.succeeded t1.tag" in out
    checklist = load_checklist(world.store, rid)
    assert checklist.state("t1.tag").status is Status.DONE
    actions = [ev.action for ev in world.store.events(release_id=rid)][-4:]
    assert actions == ["step.started", "tag.created", "tag.published", "step.succeeded"]
    started = world.store.events(release_id=rid, actions=("step.started",))[-1]
    assert started.subject == "t1.tag" and started.rehearsal is True
    assert started.details_obj["tag"] == "v1.1.0" and started.details_obj["push"] is True
    assert remote_tag_commit(world.remote, "v1.1.0") == head(world.work)
    assert ls_remote(world.remote)["refs/heads/main"] == head(world.work)
    # Done is done: the step does not run twice.
    code, _, err = world.cli("item", "done", rid, "t1.tag")
    assert code == 1 and "t1.tag" in err
    assert len(world.events("tag.created")) == 1
