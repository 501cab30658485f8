"""Signing decisions with SSH keys: the bytes a signature covers, the key an operator signs with
(``$COCKPIT_SIGNING_KEY``, ``[identity] signing_key``, or the agent), and ``ssh-keygen -Y sign``.

A key file signs as it is; a ``.pub`` file, or a key the agent at ``$SSH_AUTH_SOCK`` lists, signs
through the agent, so an agent forwarded with ``ssh -A`` signs on the operator's laptop without
the key leaving it. Checking signatures and saying whose they are is :mod:`cockpit.identity`'s
job.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cockpit.chain import canonical
from cockpit.errors import AppendFailed, ConfigError, Phrase, UsageError

NAMESPACE = "release-cockpit"
SIGNED_DOMAIN = b"release-cockpit/signed/v1\x00"
# How long one signature may take (an agent that asks for confirmation, a forwarded agent on a
# slow link); past it the decision is not recorded.
SIGN_TIMEOUT_S = 20.0

# The fields a signature covers (the record's, but those the store assigns under its lock).
SIGNED_FIELDS = (
    "action",
    "actor",
    "actor_evidence",
    "details",
    "event_id",
    "outcome",
    "reason",
    "rehearsal",
    "release_id",
    "schema",
    "subject",
)


def signed_bytes(fields: Mapping[str, Any]) -> bytes:
    """What a signature covers: a domain tag and the canonical JSON (RFC 8785) of every field
    of the record but ``seq``, ``recorded_at``, ``prev_hash``, ``hash`` and ``signature``, which
    the store assigns under its lock (:data:`SIGNED_FIELDS`, taken from ``fields``).
    ``event_id`` is unique in the database, so a signature cannot be replayed onto another row.
    ``details`` and ``actor_evidence`` are the stored canonical JSON text (objects inside the
    signed JSON)."""
    record = {name: fields[name] for name in SIGNED_FIELDS}
    record["details"] = json.loads(record["details"])
    record["actor_evidence"] = json.loads(record["actor_evidence"])
    record["rehearsal"] = bool(record["rehearsal"])
    return SIGNED_DOMAIN + canonical(record)


def event_signed_bytes(event: Any) -> bytes:
    """:func:`signed_bytes` of a stored event (an :class:`cockpit.events.Event`)."""
    return signed_bytes({name: getattr(event, name) for name in SIGNED_FIELDS})


def fingerprint(public_key: str) -> str:
    """``SHA256:...`` of an OpenSSH public key line (``ssh-ed25519 AAAA... comment``), as
    ``ssh-keygen -l`` prints it."""
    blob = base64.b64decode(public_key.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def key_id(public_key: str) -> str:
    """``TYPE BASE64`` of a public key line, without its comment: how keys are compared."""
    parts = public_key.split()
    return f"{parts[0]} {parts[1]}" if len(parts) >= 2 else public_key.strip()


# --- signing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    """The key an operator signs with: its public half, and either a private key file or the
    agent (``path`` is None: ``ssh-keygen`` is given the public key and signs through
    ``$SSH_AUTH_SOCK``; so is a ``.pub`` file named as the key)."""

    public: str  # TYPE BASE64
    path: str | None
    source: str  # "ssh-agent" or "key file"
    # The agent's socket ($SSH_AUTH_SOCK where the key was found), for signing through it.
    agent: str | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public)

    def sign(self, data: bytes, what: str) -> str:
        """An armored SSH signature of ``data`` in :data:`NAMESPACE`; :class:`AppendFailed`
        (one line: nothing is recorded) when the key cannot sign."""
        with tempfile.TemporaryDirectory(prefix="cockpit-sign-") as tmp:
            key = self.path
            if key is None:
                key = os.path.join(tmp, "key.pub")
                Path(key).write_text(self.public + "\n")
            env = dict(os.environ) | ({"SSH_AUTH_SOCK": self.agent} if self.agent else {})
            try:
                done = subprocess.run(
                    ["ssh-keygen", "-Y", "sign", "-q", "-n", NAMESPACE, "-f", key],
                    input=data,
                    capture_output=True,
                    env=env,
                    timeout=SIGN_TIMEOUT_S,
                    # No terminal: a key with a passphrase fails here instead of asking for it
                    # under the cockpit's screen.
                    start_new_session=True,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise AppendFailed.said(
                    "sig.slow",
                    what=what,
                    fingerprint=self.fingerprint,
                    seconds=f"{SIGN_TIMEOUT_S:g}",
                ) from None
            except OSError as exc:
                raise AppendFailed.said("sig.no_keygen", what=what, cause=exc) from None
        if done.returncode != 0 or b"BEGIN SSH SIGNATURE" not in done.stdout:
            lines = done.stderr.decode(errors="replace").strip().splitlines()
            hint = Phrase(
                "sig.hint_agent"
                if self.source == "ssh-agent" or b"passphrase" in done.stderr
                else "sig.hint_file"
            )
            cause = lines[-1] if lines else "ssh-keygen failed"
            raise AppendFailed.said(
                "sig.failed", what=what, fingerprint=self.fingerprint, cause=cause, hint=hint
            )
        return done.stdout.decode("ascii").strip()


def key_from_file(path: Path, origin: str, agent: str | None = None) -> SigningKey:
    """The key named by a path: a ``.pub`` (signing through the agent at ``agent``, else
    ``$SSH_AUTH_SOCK``) or a private key file (its ``.pub`` beside it, else its public half read
    by ``ssh-keygen -y``). ``origin`` names where the path came from, for the one-line error."""
    if not path.is_file():
        raise _bad_path(origin, Phrase("sig.no_file", {"path": path}))
    if path.suffix == ".pub":
        return SigningKey(key_id(_read_key(path, origin)), None, "ssh-agent", agent)
    pub = Path(str(path) + ".pub")
    if pub.is_file():
        return SigningKey(key_id(_read_key(pub, origin)), str(path), "key file")
    try:
        done = subprocess.run(
            ["ssh-keygen", "-y", "-f", str(path)],
            capture_output=True,
            text=True,
            timeout=SIGN_TIMEOUT_S,
            start_new_session=True,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise _bad_path(origin, Phrase("sig.no_pub", {"path": path, "cause": exc})) from None
    if done.returncode != 0 or not done.stdout.strip():
        raise _bad_path(origin, Phrase("sig.pub_beside", {"path": path, "name": path.name}))
    return SigningKey(key_id(done.stdout), str(path), "key file")


def _read_key(path: Path, origin: str) -> str:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad_path(origin, Phrase("sig.unreadable", {"path": path, "cause": exc})) from None
    if len(text.split()) < 2:
        raise _bad_path(origin, Phrase("sig.not_openssh", {"path": path}))
    return text


def _bad_path(origin: str, problem: Phrase) -> Exception:
    said = Phrase("sig.from", {"origin": origin, "problem": problem})
    if origin.startswith("COCKPIT_"):
        return UsageError.of(said)
    return ConfigError.of(said)


def agent_keys(environ: Mapping[str, str]) -> list[str]:
    """The public keys the agent at ``$SSH_AUTH_SOCK`` holds (``ssh-add -L``), first first;
    none when there is no agent or it does not answer in time."""
    if not environ.get("SSH_AUTH_SOCK"):
        return []
    try:
        done = subprocess.run(
            ["ssh-add", "-L"],
            capture_output=True,
            text=True,
            timeout=SIGN_TIMEOUT_S,
            env=dict(environ),
            start_new_session=True,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    if done.returncode != 0:
        return []
    return [key_id(line) for line in done.stdout.splitlines() if len(line.split()) >= 2]


def find_signing_key(
    environ: Mapping[str, str],
    configured: Path | None,
    known: Callable[[str], bool] | None,
    *,
    configured_origin: str = "[identity] signing_key",
) -> SigningKey | None:
    """The key this operator signs with: ``$COCKPIT_SIGNING_KEY`` (a path), else the configured
    ``signing_key``, else the first key the agent lists that is ``known`` (to the allowed
    signers), else none."""
    named, agent = environ.get("COCKPIT_SIGNING_KEY"), environ.get("SSH_AUTH_SOCK")
    if named:
        return key_from_file(Path(named).expanduser(), f"COCKPIT_SIGNING_KEY={named}", agent)
    if configured is not None:
        return key_from_file(configured, configured_origin, agent)
    if known is None:
        return None
    for public in agent_keys(environ):
        if known(public):
            return SigningKey(public, None, "ssh-agent", agent)
    return None
