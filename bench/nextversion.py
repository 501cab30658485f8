"""Benchmark of the next version: time to compute it from conventional commits in a large
repository, ``cockpit.versioning`` against python-semantic-release and commitizen.

Run from the repository root::

    .venv/bin/python bench/nextversion.py            # full run (about 140 s on 2 cores)
    .venv/bin/python bench/nextversion.py --quick    # smoke run: 3 runs of each, no what-ifs
    .venv/bin/python bench/nextversion.py --json     # machine-readable output

What it measures, all in one run:

1. A repository of 20,000 commits on ``main`` and 500 annotated version tags, written in one
   go with ``git fast-import`` into a temporary directory (a single pack, no commit-graph, as
   fast-import leaves it). The commit messages are conventional commits drawn with a fixed
   seed: ``feat`` (some with a scope), ``fix``, ``chore``, ``docs``, ``test``, ``ci``, a few
   ``feat!`` (breaking), a few that are not conventional at all; about one in five has a body.
   The first commit holds the ``pyproject.toml`` that configures python-semantic-release and
   commitizen, so all three tools read the same history with their configuration in place.
   Tag ``k`` sits on main's commit ``40k + 20``: ``v0.0.1`` first, then each version raised by
   what the commits since the previous tag ask for (breaking -> major, ``feat`` -> minor,
   anything else -> patch). Pre-releases and merges, as a real repository has them: every
   fifth release has a release candidate ``vX.Y.Z-rc.1`` tagged 10 commits before it, and
   every third interval between tags has a feature branch of 3 commits, forked 3 commits after
   the tag and merged back with a merge commit 10 commits after it. The last tag is 20 main
   commits before HEAD; after it, the only ``feat`` is on a merged feature branch and there is
   no breaking change, so the expected answer is a minor bump of the last tag, which the
   benchmark also computes itself from the stream it wrote.
2. python-semantic-release and commitizen, at pinned versions (``TOOLS``), installed with pip
   into a throwaway venv under the temporary directory (from the same base interpreter as the
   project's venv), never into the project's environment.
3. Each tool as a fresh process, cwd the generated repository, timed wall-clock from spawn to
   exit (interpreter start and imports included), stdout captured:

   - ours: ``python -c`` with the engine path of ``cockpit tag``'s version suggestion
     (:func:`cockpit.versioning.plan_tag` without its preflight and remote checks), the
     engine's functions as shipped: ``Git(path)``, ``is_shallow()`` (the suggestion is only
     made on a full history), ``version_tags("v{version}")``, ``last_release(tags)`` (the
     newest stable tag reachable from HEAD: ``git merge-base --is-ancestor`` on the highest
     versions first), ``commits(since)``, ``suggest(...)`` and
     ``next_version(existing, bump=suggestion.bump)``;
   - ``semantic-release --noop version --print``;
   - ``cz bump --get-next``.

   One unmeasured run of each first (it also writes their bytecode cache, which every child
   reads from a directory in the work area: ``PYTHONPYCACHEPREFIX``), then N runs of each,
   interleaved (the order rotates every round); median, best and worst. Every run's answer is
   checked against the expected version.
4. Where our time goes: ``python -c pass`` (median of 5), and stamps taken inside each timed
   run of ours (interpreter ready, imports, ``Git()``, each git
   command, the rest), medians over the runs, and how many git questions the last-release
   lookup asked.
5. What-ifs for ours (not with ``--quick``), N runs each, interleaved: ours as shipped against
   the previous lookup (the child script patched to list ``git tag --merged HEAD`` with
   ``merged_tags()`` and keep the highest stable tag in it, as ``plan_tag`` did before; never
   ``cockpit/``), each (a) in the repository, (b) in a copy with a commit-graph
   (``git commit-graph write --reachable``, as ``git gc`` leaves a repository) and (c) in a
   worktree whose HEAD is detached 20 commits after the tag ``PROBE_LIMIT + 10`` tags before
   the last: the higher tags are not reachable, so the shipped lookup asks ``PROBE_LIMIT``
   questions and then falls back to ``git tag --merged`` (its worst case). In (c) the answer
   must be the previous lookup's.

The tools' settings that could make their answers differ are set in the generated
``pyproject.toml`` to what cockpit does: a breaking change on a 0.x version goes to 1.0.0
(python-semantic-release ``major_on_zero = true``, commitizen ``major_version_zero = false``,
their defaults), versions are SemVer (commitizen ``version_scheme = "semver2"``), tags are
``v{version}``. Only ``feat``, ``fix`` and breaking commits are generated among the bumping
types: commitizen also bumps on ``refactor`` (patch), which cockpit and python-semantic-release
do not.

Target (checked unless ``--no-check``; the exit status is 1 when it is missed): our median
<= 0.5 x the median of the fastest of the other two.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# _common puts the repository root first on sys.path: import it before cockpit.
from _common import ROOT, finish, machine, ms, parser, stage, table, target, target_lines

TARGET_RATIO = 0.5
COMMITS = 20_000
TAGS = 500
SPACING = 40  # commits between tags
FIRST_TAG_AT = 20  # 1-based commit number of the first tag; the last is SPACING * (TAGS - 1) later
SEED = 20261123
TAG_FORMAT = "v{version}"
# Feature branches: every BRANCH_EVERY-th interval between tags (and the one after the last
# tag) has one, forked BRANCH_FORK_AT main commits after the tag with BRANCH_COMMITS commits,
# merged (a merge commit) at BRANCH_MERGED_AT; never across a tag.
BRANCH_EVERY = 3
BRANCH_FORK_AT = 3
BRANCH_COMMITS = 3
BRANCH_MERGED_AT = 10
# Release candidates: every RC_EVERY-th release has a `-rc.1` tag RC_BEFORE commits before it.
RC_EVERY = 5
RC_BEFORE = 10
# Pinned: the versions the figures in docs/performance.md were measured with.
TOOLS = {
    "python-semantic-release": "python-semantic-release==10.7.0",
    "commitizen": "commitizen==4.19.3",
}
AUTHOR = "Release Bench <bench@example.invalid>"
REMOTE = "https://example.invalid/bench/bench-repo.git"
EPOCH = 1_600_000_000  # the first commit's time; one commit an hour after it

PYPROJECT = """\
[project]
name = "bench-repo"
version = "0.0.0"

[tool.semantic_release]
version_toml = ["pyproject.toml:project.version"]
tag_format = "v{version}"
commit_parser = "conventional"
major_on_zero = true
allow_zero_version = true

[tool.semantic_release.branches.main]
match = "main"
prerelease = false

[tool.commitizen]
name = "cz_conventional_commits"
version_provider = "scm"
version_scheme = "semver2"
tag_format = "v$version"
major_version_zero = false
"""

# Ours, in a fresh process: the engine path of plan_tag's suggestion. Stamps (time.time(), to be
# compared with the parent's clock at spawn) go to stdout after the version, without importing
# anything more than the path itself does.
OURS = """\
import time
_t = [time.time()]
import sys
from pathlib import Path

sys.path.insert(0, sys.argv[1])
from cockpit.versioning import Git, next_version, suggest
_t.append(time.time())
git = Git(Path.cwd())
_t.append(time.time())
shallow = git.is_shallow()
_t.append(time.time())
tags = git.version_tags(sys.argv[2])
existing = [v for v, _ in tags.values()]
_t.append(time.time())
suggestion = None
if not shallow:
    since = git.last_release(tags)
    _t.append(time.time())
    commits = git.commits(since)
    _t.append(time.time())
    suggestion = suggest(commits, since)
answer = "-"
if suggestion is not None and suggestion.bump is not None:
    answer = str(next_version(existing, bump=suggestion.bump).version)
_t.append(time.time())
print(answer)
asked = [r.argv[0] + " " + r.argv[1] for r in git.runs]
print("lookup:", asked.count("merge-base --is-ancestor"), asked.count("tag --merged"), since)
print(" ".join(repr(t) for t in _t))
"""
OURS_STAMPS = (
    "interpreter ready",
    "import cockpit.versioning",
    "Git(path)",
    "git rev-parse --is-shallow-repository",
    "git for-each-ref refs/tags + parse (imports semver)",
    "last_release: git merge-base --is-ancestor",
    "git log since..HEAD + parse",
    "suggest + next_version",
)

# The previous lookup, for the what-ifs only (the child script is patched, never cockpit/):
# every tag reachable from HEAD listed with ``git tag --merged HEAD`` (which walks the whole
# history without a commit-graph), and the highest stable version among them.
_SHIPPED = """\
    since = git.last_release(tags)
"""
_PREVIOUS = """\
    merged = git.merged_tags()
    reachable = [(v, n) for n, (v, _) in tags.items() if n in merged and not v.prerelease]
    since = max(reachable)[1] if reachable else None
"""
assert _SHIPPED in OURS
PREVIOUS = OURS.replace(_SHIPPED, _PREVIOUS)
# name -> (child script, which repository: "repo", "graph" or "behind").
WHAT_IF = {
    "as shipped": (OURS, "repo"),
    "previous lookup: git tag --merged HEAD": (PREVIOUS, "repo"),
    "as shipped, commit-graph": (OURS, "graph"),
    "previous lookup, commit-graph": (PREVIOUS, "graph"),
    "as shipped, HEAD behind the highest tags (fallback)": (OURS, "behind"),
    "previous lookup, HEAD behind the highest tags": (PREVIOUS, "behind"),
}


# ---------------------------------------------------------------- the repository


def _message(rng: random.Random, breaking_ok: bool, feat_ok: bool = True) -> tuple[str, str]:
    """A commit message (subject, body) and its kind: feat!, feat, fix, or other."""
    scopes = ("api", "cli", "store", "ui", "docs", "deps", "ci", "core")
    words = (
        "release notes",
        "tag preflight",
        "audit checkpoint",
        "config loader",
        "retry on timeout",
        "cache of plans",
        "error message",
        "lock file",
        "dashboard row",
        "signing key",
    )
    roll = rng.random()
    if not feat_ok and roll < 0.25:
        roll += 0.25  # a fix instead
    if breaking_ok and roll < 0.002:
        kind, subject = "feat!", f"feat!: drop the old {rng.choice(words)}"
    elif roll < 0.25:
        kind = "feat"
        scope = f"({rng.choice(scopes)})" if rng.random() < 0.5 else ""
        subject = f"feat{scope}: add {rng.choice(words)}"
    elif roll < 0.55:
        kind = "fix"
        scope = f"({rng.choice(scopes)})" if rng.random() < 0.5 else ""
        subject = f"fix{scope}: {rng.choice(words)} no longer fails"
    elif roll < 0.75:
        kind, subject = "other", f"chore: bump {rng.choice(words)}"
    elif roll < 0.90:
        kind, subject = "other", f"docs: explain {rng.choice(words)}"
    elif roll < 0.95:
        kind, subject = "other", f"test: cover {rng.choice(words)}"
    elif roll < 0.98:
        kind, subject = "other", f"ci: run {rng.choice(words)} checks"
    else:
        kind, subject = "other", f"Update {rng.choice(words)}"
    body = ""
    if rng.random() < 0.2:
        body = (
            f"The {rng.choice(words)} now follows the {rng.choice(words)}.\n\n"
            f"Refs: #{rng.randrange(1, 5000)}\n"
        )
    return kind, subject + ("\n\n" + body if body else "\n")


def _bump(version: tuple[int, int, int], kinds: set[str]) -> tuple[int, int, int]:
    major, minor, patch = version
    if "feat!" in kinds:
        return (major + 1, 0, 0)
    if "feat" in kinds:
        return (major, minor + 1, 0)
    return (major, minor, patch + 1)


def _data(text: str) -> bytes:
    raw = text.encode()
    return b"data %d\n%s\n" % (len(raw), raw)


def _tag(name: str, mark: int, when: str) -> bytes:
    head = f"tag {name}\nfrom :{mark}\ntagger {AUTHOR} {when}\n".encode()
    return head + _data(f"Release {name}\n")


def build_repo(path: Path, commits: int, tags: int) -> dict[str, Any]:
    """The repository described in the module's docstring; what the answer must be."""
    started = time.perf_counter()
    last_tag_at = FIRST_TAG_AT + SPACING * (tags - 1)
    if last_tag_at >= commits or commits - last_tag_at < BRANCH_MERGED_AT + 2:
        raise SystemExit(f"{tags} tags every {SPACING} commits need more than {commits} commits")
    rng = random.Random(SEED)
    stream = bytearray()
    version: tuple[int, int, int] | None = None
    since_tag: set[str] = set()
    tag_names: list[str] = []
    prereleases = merges = 0
    mark = 0  # fast-import marks: main's commits and the feature branches' commits
    main_tip = 0
    branch_tip = 0
    tagged_at = 0  # main-line number of the last tag
    for n in range(1, commits + 1):
        after_last = n > last_tag_at
        when = f"{EPOCH + 3600 * n} +0000"
        since = n - tagged_at  # main-line commits since the last tag (or the start)
        interval = (n - FIRST_TAG_AT) // SPACING
        with_branch = tagged_at and (after_last or interval % BRANCH_EVERY == 0)
        if with_branch and since == BRANCH_FORK_AT:
            # A feature branch off main: BRANCH_COMMITS commits, merged back further down.
            # After the last tag its last commit is the only feat before HEAD.
            parent = main_tip
            for i in range(BRANCH_COMMITS):
                mark += 1
                last = after_last and i == BRANCH_COMMITS - 1
                kind, message = _message(rng, breaking_ok=not after_last, feat_ok=not after_last)
                if last:
                    kind, message = "feat", "feat(cli): add the last feature before the release\n"
                since_tag.add(kind)
                stream += f"commit refs/heads/feature-{interval}\nmark :{mark}\n".encode()
                stream += f"author {AUTHOR} {when}\ncommitter {AUTHOR} {when}\n".encode()
                stream += _data(message) + b"from :%d\n" % parent
                stream += f"M 100644 inline src/feature_{interval % 7}.py\n".encode()
                stream += _data(f"STEP = {i}\n")
                parent = mark
            branch_tip = mark
        mark += 1
        if with_branch and since == BRANCH_MERGED_AT:
            message = f"Merge branch 'feature-{interval}'\n"
            merges += 1
        else:
            kind, message = _message(rng, breaking_ok=not after_last, feat_ok=not after_last)
            since_tag.add(kind)
        stream += b"commit refs/heads/main\nmark :%d\n" % mark
        stream += f"author {AUTHOR} {when}\ncommitter {AUTHOR} {when}\n".encode()
        stream += _data(message)
        if main_tip:
            stream += b"from :%d\n" % main_tip
        if with_branch and since == BRANCH_MERGED_AT:
            stream += b"merge :%d\n" % branch_tip
        if n == 1:
            stream += b"M 100644 inline pyproject.toml\n" + _data(PYPROJECT)
            stream += b"M 100644 inline README.md\n" + _data("# bench-repo\n")
        stream += f"M 100644 inline src/module_{n % 97:02d}.py\n".encode()
        stream += _data(f"CHANGE = {n}\n")
        main_tip = mark
        to_tag = FIRST_TAG_AT + SPACING * (interval + 1) - n  # main commits to the next tag
        if n < last_tag_at and to_tag == RC_BEFORE and (interval + 1) % RC_EVERY == 0:
            # A release candidate of the coming version, RC_BEFORE commits before its tag.
            rc = (0, 0, 1) if version is None else _bump(version, since_tag)
            name = TAG_FORMAT.replace("{version}", ".".join(map(str, rc)) + "-rc.1")
            stream += _tag(name, mark, when)
            prereleases += 1
        if n <= last_tag_at and (n - FIRST_TAG_AT) % SPACING == 0:
            version = (0, 0, 1) if version is None else _bump(version, since_tag)
            name = TAG_FORMAT.replace("{version}", ".".join(map(str, version)))
            tag_names.append(name)
            stream += _tag(name, mark, when)
            since_tag = set()
            tagged_at = n
    assert version is not None and len(tag_names) == tags
    if "feat!" in since_tag or "feat" not in since_tag:
        raise SystemExit(f"generator: the commits after the last tag are {since_tag}")
    expected = ".".join(map(str, _bump(version, since_tag)))

    path.mkdir(parents=True)
    env = {**os.environ, "LC_ALL": "C"}
    git = ["git", "-C", str(path)]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True, env=env)
    subprocess.run([*git, "config", "user.name", "Release Bench"], check=True)
    subprocess.run([*git, "config", "user.email", "bench@example.invalid"], check=True)
    # python-semantic-release wants an "origin" to name its VCS; nothing contacts it.
    subprocess.run([*git, "remote", "add", "origin", REMOTE], check=True)
    subprocess.run([*git, "fast-import", "--quiet"], input=bytes(stream), check=True, env=env)
    subprocess.run([*git, "reset", "-q", "--hard", "main"], check=True, env=env)
    count = subprocess.run(
        [*git, "rev-list", "--count", "--first-parent", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    described = subprocess.run(
        [*git, "describe", "--tags", "--abbrev=0"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if int(count) != commits or described != tag_names[-1]:
        raise SystemExit(f"repository: {count} commits, last tag {described}")
    size = sum(f.stat().st_size for f in (path / ".git").rglob("*") if f.is_file())
    return {
        "commits": commits,
        "branch_commits": mark - commits,
        "merges": merges,
        "tags": tags,
        "prereleases": prereleases,
        "last_tag": tag_names[-1],
        "commits_since_last_tag": commits - last_tag_at,
        "expected": expected,
        "git_dir_mb": round(size / 1e6, 1),
        "build_s": round(time.perf_counter() - started, 1),
    }


def behind_worktree(repo: Path, path: Path, commits: int, tags: int) -> Path:
    """A worktree of ``repo`` with HEAD detached 20 commits after the tag ``PROBE_LIMIT + 10``
    tags before the last, so that the highest tags are not reachable from HEAD."""
    from cockpit.versioning import PROBE_LIMIT

    last_tag_at = FIRST_TAG_AT + SPACING * (tags - 1)
    at = max(1, last_tag_at - SPACING * (PROBE_LIMIT + 10) + SPACING // 2)
    rev = f"main~{commits - at}"
    add = ["git", "-C", str(repo), "worktree", "add", "-q", "--detach", str(path), rev]
    subprocess.run(add, check=True, capture_output=True)
    return path


# ---------------------------------------------------------------- the other tools


def install_tools(venv: Path) -> dict[str, str]:
    """python-semantic-release and commitizen in a throwaway venv; their versions."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    done = subprocess.run([*pip, *TOOLS.values()], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"pip install {' '.join(TOOLS.values())} failed:\n{done.stderr[-2000:]}")
    code = (
        "from importlib.metadata import version\n"
        f"for name in {[*TOOLS, 'GitPython']!r}:\n"
        "    print(name, version(name))\n"
    )
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return dict(line.split(" ", 1) for line in out.splitlines())


# What the `cockpit` console script runs (cockpit.cli.main), from this checkout.
CLI_SHIM = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); from cockpit.cli import main; "
    "sys.exit(main())"
)

COCKPIT_CONFIG = """\
# Benchmark workspace made by bench/nextversion.py: no log yet, an empty remote.
[database]
url = "sqlite:///{work}/cockpit.db"
[environments.production.git]
repo = "{repo}"
remote = "{remote}"
"""


def cockpit_workspace(work: Path, repo: Path) -> Path:
    """A cockpit.toml whose production environment releases from ``repo``, with an empty bare
    repository as its remote (the preflight asks it; nothing is pushed)."""
    remote = work / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    config = work / "cockpit.toml"
    config.write_text(COCKPIT_CONFIG.format(work=work, repo=repo, remote=remote.as_uri()))
    return config


def commands(venv: Path, config: Path) -> dict[str, list[str]]:
    bin_dir = venv / "bin"
    return {
        # What a user runs: the CLI, with its config, plan and preflight (the target's figure).
        "cockpit tag": [
            sys.executable,
            "-c",
            CLI_SHIM,
            str(ROOT),
            "--config",
            str(config),
            "tag",
            "--env",
            "production",
            "--dry-run",
            "--json",
        ],
        "cockpit.versioning": [sys.executable, "-c", OURS, str(ROOT), TAG_FORMAT],
        "python-semantic-release": [
            str(bin_dir / "semantic-release"),
            "--noop",
            "version",
            "--print",
        ],
        "commitizen": [str(bin_dir / "cz"), "bump", "--get-next"],
    }


def child_env(pycache: Path) -> dict[str, str]:
    """The caller's environment, bytecode read from and written to one cache for every tool
    (the caller may say PYTHONDONTWRITEBYTECODE), no colours, C locale for git."""
    drop = {"PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX", "FORCE_COLOR", "VIRTUAL_ENV"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("COCKPIT_")}
    env.update(
        {"PYTHONPYCACHEPREFIX": str(pycache), "NO_COLOR": "1", "TERM": "dumb", "LC_ALL": "C.UTF-8"}
    )
    return env


def run_once(argv: list[str], repo: Path, env: dict[str, str]) -> tuple[float, str, float, str]:
    """(seconds from spawn to exit, the answer: the last line of stdout that looks like a
    version, the parent's time.time() at spawn, stdout)."""
    spawned_wall = time.time()
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=repo, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(
            f"{' '.join(argv[:3])} failed ({done.returncode}):\n{done.stderr[-2000:]}"
            f"\n{done.stdout[-1000:]}"
        )
    if done.stdout.startswith("{"):  # cockpit tag --json
        return took, str(json.loads(done.stdout)["version"]), spawned_wall, done.stdout
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    answer = next((line for line in lines if line[:1].isdigit() and " " not in line), "?")
    return took, answer, spawned_wall, done.stdout


def _stats(values: list[float]) -> dict[str, Any]:
    return {
        "median_s": statistics.median(values),
        "best_s": min(values),
        "worst_s": max(values),
        "runs_s": values,
    }


def bench(
    repo: Path, venv: Path, pycache: Path, runs: int, quiet: bool, config: Path
) -> dict[str, Any]:
    env = child_env(pycache)
    argvs = commands(venv, config)
    names = list(argvs)
    answers: dict[str, set[str]] = {name: set() for name in names}
    times: dict[str, list[float]] = {name: [] for name in names}
    stamps: list[list[float]] = []
    lookups: set[tuple[int, int, str]] = set()
    with stage("one unmeasured run of each (writes the bytecode cache)", quiet):
        for name in names:
            answers[name].add(run_once(argvs[name], repo, env)[1])
    with stage(f"{runs} runs of each, interleaved", quiet):
        for round_ in range(runs):
            order = names[round_ % len(names) :] + names[: round_ % len(names)]
            for name in order:
                took, answer, spawned, out = run_once(argvs[name], repo, env)
                times[name].append(took)
                answers[name].add(answer)
                if name == "cockpit.versioning":
                    marks = [float(x) for x in out.strip().splitlines()[-1].split()]
                    stamps.append([m - spawned for m in marks] + [took])
                    lookups.add(_lookup(out))
    floor = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
        floor.append(time.perf_counter() - start)
    # Our stamps: offsets from spawn; each step is the difference to the previous one.
    medians = [statistics.median(s[i] for s in stamps) for i in range(len(stamps[0]))]
    steps = [{"step": OURS_STAMPS[0], "s": medians[0]}]
    for i in range(1, len(OURS_STAMPS)):
        steps.append({"step": OURS_STAMPS[i], "s": medians[i] - medians[i - 1]})
    steps.append({"step": "print, interpreter exit", "s": medians[-1] - medians[-2]})
    return {
        "runs": runs,
        "tools": {name: _stats(times[name]) for name in names},
        "answers": {name: sorted(a) for name, a in answers.items()},
        "python_c_pass_s": statistics.median(floor),
        "ours_steps": steps,
        "ours_lookup": _lookups(lookups),
    }


def _lookup(out: str) -> tuple[int, int, str]:
    """(``merge-base --is-ancestor`` calls, ``tag --merged`` calls, the last release found)
    of a run of ours."""
    line = next(line for line in out.splitlines() if line.startswith("lookup:"))
    asked, merged, since = line.split()[1:]
    return int(asked), int(merged), since


def _lookups(found: set[tuple[int, int, str]]) -> list[dict[str, Any]]:
    return [{"is_ancestor": a, "tag_merged": m, "since": s} for a, m, s in sorted(found)]


def what_if(repos: dict[str, Path], pycache: Path, runs: int) -> dict[str, Any]:
    """Median time of ours as shipped and with the previous lookup, in each repository of
    ``repos`` ("repo", "graph", "behind"), interleaved."""
    env = child_env(pycache)
    times: dict[str, list[float]] = {name: [] for name in WHAT_IF}
    answers: dict[str, set[str]] = {name: set() for name in WHAT_IF}
    lookups: dict[str, set[tuple[int, int, str]]] = {name: set() for name in WHAT_IF}
    names = list(WHAT_IF)
    for round_ in range(runs + 1):
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in order:
            code, where = WHAT_IF[name]
            argv = [sys.executable, "-c", code, str(ROOT), TAG_FORMAT]
            took, answer, _, out = run_once(argv, repos[where], env)
            answers[name].add(answer)
            lookups[name].add(_lookup(out))
            if round_:  # the first round is a warm-up
                times[name].append(took)
    return {
        name: {
            "repo": WHAT_IF[name][1],
            "median_s": statistics.median(times[name]),
            "answers": sorted(answers[name]),
            "lookup": _lookups(lookups[name]),
        }
        for name in names
    }


# ---------------------------------------------------------------- output


def render(result: dict[str, Any]) -> str:
    m, r, b = result["machine"], result["repo"], result["bench"]
    head = (
        f"Next-version benchmark: {m['cpus']} CPUs, Python {m['python']}, git {m['git']}; "
        f"python-semantic-release {m['python-semantic-release']}, commitizen "
        f"{m['commitizen']} (GitPython {m['GitPython']} in their venv; cockpit runs git "
        "itself)\n"
        f"Repository: {r['commits']:,} commits on main and {r['branch_commits']} on "
        f"{r['merges']} merged feature branches, {r['tags']} annotated release tags and "
        f"{r['prereleases']} release candidates (-rc.1), last tag "
        f"{r['last_tag']} {r['commits_since_last_tag']} commits before HEAD, .git "
        f"{r['git_dir_mb']} MB, built in {r['build_s']} s; expected answer {r['expected']}\n"
    )
    labels = {
        "cockpit tag": "cockpit tag --env production --dry-run --json",
        "cockpit.versioning": "  its engine alone: python -c (cockpit.versioning)",
        "python-semantic-release": "semantic-release --noop version --print",
        "commitizen": "cz bump --get-next",
    }
    rows: list[tuple[str, ...]] = [("Next version, fresh process", "Median", "Best", "Worst")]
    rows[0] += ("Said",)
    for name, s in b["tools"].items():
        said = ", ".join(b["answers"][name])
        rows.append((labels[name], ms(s["median_s"]), ms(s["best_s"]), ms(s["worst_s"]), said))
    rows.append(
        (
            f"cockpit tag / {result['fastest_other']} (medians)",
            f"{result['ratio']:.2f}x",
            "",
            "",
            f"target <= {TARGET_RATIO}x",
        )
    )
    runs = f"({b['runs']} runs of each, interleaved; wall clock, spawn to exit)"
    lines = [head, table(rows), runs]
    rows = [("Ours, where the time goes (median of the runs)", "Time")]
    rows.append(("python -c pass (for comparison, median of 5)", ms(b["python_c_pass_s"])))
    for step in b["ours_steps"]:
        rows.append((f"  {step['step']}", ms(step["s"])))
    lookup = ", ".join(_asked(x) for x in b["ours_lookup"])
    lines += ["", table(rows), f"(last release: {lookup})"]
    w = result.get("what_if")
    if w:
        fastest = result["bench"]["tools"][result["fastest_other"]]["median_s"]
        rows = [("What if (ours; previous lookup patched in the child)", "Median", "Ratio")]
        rows[0] += ("Said", "Last release found")
        for name, value in w.items():
            rows.append(
                (
                    name,
                    ms(value["median_s"]),
                    f"{value['median_s'] / fastest:.2f}x",
                    ", ".join(value["answers"]),
                    ", ".join(_asked(x) for x in value["lookup"]),
                )
            )
        lines += [
            "",
            table(rows),
            f"({b['runs']} runs of each, interleaved, after the table above; ratio to the "
            f"median of {result['fastest_other']} above, which ran in the repository without "
            "a commit-graph only)",
        ]
    lines += ["", "Targets:", *target_lines(result["targets"])]
    return "\n".join(lines)


def _asked(lookup: dict[str, Any]) -> str:
    return (
        f"{lookup['since']} after {lookup['is_ancestor']} merge-base --is-ancestor + "
        f"{lookup['tag_merged']} tag --merged"
    )


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    options = parser(__doc__, quick_help="3 runs of each tool, no what-ifs")
    options.add_argument("--runs", type=int, help="timed runs of each tool (default 15, quick 3)")
    options.add_argument("--commits", type=int, default=COMMITS, help="commits in the repository")
    options.add_argument("--tags", type=int, default=TAGS, help="version tags in the repository")
    options.add_argument("--no-breakdown", action="store_true", help="skip the what-ifs")
    options.add_argument("--keep", metavar="DIR", help="work in this new directory and keep it")
    args = options.parse_args(argv)
    runs = args.runs or (3 if args.quick else 15)
    quiet = args.json

    git_version = subprocess.run(
        ["git", "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[-1]
    result: dict[str, Any] = {"quick": args.quick}
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="cockpit-bench-nv-"))
    try:
        with stage(f"build repository: {args.commits:,} commits, {args.tags} tags", quiet):
            result["repo"] = build_repo(work / "repo", args.commits, args.tags)
        with stage("install python-semantic-release and commitizen in a throwaway venv", quiet):
            versions = install_tools(work / "venv")
        result["machine"] = machine(git=git_version, **versions)
        result["machine"]["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
        config = cockpit_workspace(work, work / "repo")
        result["bench"] = bench(work / "repo", work / "venv", work / "pycache", runs, quiet, config)
        if not (args.quick or args.no_breakdown):
            with stage("what-ifs for ours: previous lookup, commit-graph, fallback", quiet):
                repos = {"repo": work / "repo", "graph": work / "repo-graph"}
                shutil.copytree(work / "repo", repos["graph"], symlinks=True)
                subprocess.run(
                    ["git", "-C", str(repos["graph"]), "commit-graph", "write", "--reachable"],
                    check=True,
                    capture_output=True,
                )
                repos["behind"] = behind_worktree(
                    work / "repo", work / "behind", args.commits, args.tags
                )
                result["what_if"] = what_if(repos, work / "pycache", runs)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    tools = result["bench"]["tools"]
    ours = tools["cockpit tag"]["median_s"]
    others = [name for name in tools if not name.startswith("cockpit")]
    fastest = min(others, key=lambda name: tools[name]["median_s"])
    result["fastest_other"] = fastest
    result["ratio"] = ours / tools[fastest]["median_s"]
    expected = result["repo"]["expected"]
    wrong = {n: a for n, a in result["bench"]["answers"].items() if a != [expected]}
    what_ifs = result.get("what_if", {})
    previous = {v["repo"]: v for n, v in what_ifs.items() if n.startswith("previous lookup")}
    for name, value in what_ifs.items():
        # Behind the highest tags the answer is the previous lookup's; elsewhere the expected.
        # In each repository both lookups must find the same last release.
        want = previous[value["repo"]]["answers"] if value["repo"] == "behind" else [expected]
        since = {x["since"] for x in value["lookup"]}
        if value["answers"] != want or len(want) != 1 or want == ["?"] or len(since) != 1:
            wrong[f"what if: {name}"] = value["answers"]
        elif since != {x["since"] for x in previous[value["repo"]]["lookup"]}:
            wrong[f"what if: {name}: last release"] = sorted(since)
    result["targets"] = [
        target(
            f"cockpit tag --dry-run --json / {fastest} (medians)",
            round(result["ratio"], 3),
            f"<= {TARGET_RATIO}",
            result["ratio"] <= TARGET_RATIO,
        ),
        target(
            "tools and what-ifs that gave another answer than " + expected,
            len(wrong),
            "== 0",
            not wrong,
        ),
    ]
    return finish(result, args.json, args.no_check, render)


if __name__ == "__main__":
    sys.exit(main())
