"""Tag signing with ssh or gpg: the git options that sign as configured, the key's fingerprint,
a preflight check that signs a few bytes (changing nothing), and the tag's verification.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from cockpit.errors import Phrase
from cockpit.versioning.git import Git, GitFailed, first_line
from cockpit.versioning.preflight import Check

if TYPE_CHECKING:
    from cockpit.config import GitConfig


def signing_config(cfg: GitConfig, base: Path) -> tuple[list[str], dict[str, str]]:
    """The ``-c`` options that make ``git tag -s`` sign as configured."""
    opts: list[str] = []
    if cfg.signing == "ssh":
        opts += ["-c", "gpg.format=ssh"]
        if cfg.signing_key:
            opts += ["-c", f"user.signingkey={_key_path(cfg, base)}"]
    elif cfg.signing == "gpg":
        opts += ["-c", "gpg.format=openpgp"]
        if cfg.signing_key:
            opts += ["-c", f"user.signingkey={cfg.signing_key}"]
    return opts, {}


def _key_path(cfg: GitConfig, base: Path) -> str:
    path = Path(cfg.signing_key).expanduser()
    return str(path if path.is_absolute() else base / path)


def key_fingerprint(git: Git, cfg: GitConfig, base: Path) -> str:
    """The fingerprint of the signing key (ssh: SHA256:...; gpg: the full fingerprint)."""
    import subprocess

    if cfg.signing == "ssh":
        key = _key_path(cfg, base) if cfg.signing_key else git.out("config", "user.signingkey")
        pub = key if key.endswith(".pub") else key + ".pub"
        source = pub if Path(pub).exists() else key
        done = subprocess.run(
            ["ssh-keygen", "-l", "-E", "sha256", "-f", source],
            capture_output=True,
            text=True,
            timeout=git.timeout,
        )
        if done.returncode != 0:
            raise GitFailed(f"ssh-keygen -l {source}: {done.stderr.strip() or 'failed'}")
        return done.stdout.split()[1]
    key = cfg.signing_key or git.out("config", "user.signingkey")
    done = subprocess.run(
        ["gpg", "--batch", "--with-colons", "--fingerprint", key],
        capture_output=True,
        text=True,
        timeout=git.timeout,
    )
    for line in done.stdout.splitlines():
        if line.startswith("fpr:"):
            return line.split(":")[9]
    raise GitFailed(f"gpg: no key {key!r} ({done.stderr.strip().splitlines()[-1:] or 'not found'})")


def signing_check_for(base: Path) -> Callable[[Git, GitConfig], Check]:
    """A preflight check that signs a few bytes with the configured key, changing nothing."""

    def check(git: Git, cfg: GitConfig) -> Check:
        import subprocess

        try:
            fingerprint = key_fingerprint(git, cfg, base)
        except (GitFailed, OSError, subprocess.SubprocessError) as exc:
            return Check(
                "signing", False, Phrase("pre.key_bad", {"kind": cfg.signing, "cause": exc})
            )
        if cfg.signing == "ssh":
            key = _key_path(cfg, base) if cfg.signing_key else git.out("config", "user.signingkey")
            key = key[: -len(".pub")] if key.endswith(".pub") and Path(key[:-4]).exists() else key
            argv = ["ssh-keygen", "-Y", "sign", "-n", "git", "-f", key]
        else:
            key = cfg.signing_key or git.out("config", "user.signingkey")
            argv = [
                "gpg",
                "--batch",
                "--pinentry-mode",
                "error",
                "--local-user",
                key,
                "--detach-sign",
                "--armor",
            ]
        done = subprocess.run(
            argv, input=b"cockpit preflight\n", capture_output=True, timeout=git.timeout
        )
        if done.returncode != 0:
            why = done.stderr.decode(errors="replace").strip().splitlines()
            cause = why[-1] if why else ""
            return Check(
                "signing", False, Phrase("pre.sign_fails", {"kind": cfg.signing, "cause": cause})
            )
        return Check(
            "signing", True, Phrase("pre.signs", {"kind": cfg.signing, "fingerprint": fingerprint})
        )

    return check


def allowed_signers_file(git: Git, cfg: GitConfig, base: Path, email: str) -> str | None:
    """For ssh: the allowed-signers file for ``git verify-tag`` (configured, or made from the
    public key for this check only)."""
    if cfg.signing != "ssh":
        return None
    if cfg.allowed_signers:
        path = Path(cfg.allowed_signers).expanduser()
        return str(path if path.is_absolute() else base / path)
    key = _key_path(cfg, base) if cfg.signing_key else git.out("config", "user.signingkey")
    pub = Path(key if key.endswith(".pub") else key + ".pub")
    fd, name = tempfile.mkstemp(prefix="cockpit-allowed-signers-")
    with os.fdopen(fd, "w") as fh:
        fh.write(f"{email or '*'} {pub.read_text().strip()}\n")
    return name


def verify_tag(git: Git, cfg: GitConfig, tag: str, base: Path) -> bool:
    email = git.run("config", "user.email", check=False).stdout.strip()
    signers = allowed_signers_file(git, cfg, base, email)
    try:
        opts = ["-c", f"gpg.ssh.allowedSignersFile={signers}"] if signers else []
        result = git.run(*opts, "verify-tag", tag, check=False)
    finally:
        if signers and not cfg.allowed_signers:
            os.unlink(signers)
    if result.exit != 0:
        raise GitFailed(f"git verify-tag {tag} failed: {first_line(result)}")
    return True
