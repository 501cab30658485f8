"""Who is at the keyboard on a shared bastion host, and how much of that is proven.

The login name comes from the process's user id (the kernel says so: verified). ``SUDO_USER``
and ``SSH_CONNECTION`` are environment variables, which anyone can set: they are recorded as
claims, except that ``SUDO_USER`` is marked verified when an ancestor process really is ``sudo``
started by that user (read from ``/proc``).

The SSH key the operator signs decisions with (:mod:`cockpit.signing`) is recorded too: its
fingerprint as a claim ``key``, and, when the allowed-signers file maps the key to a principal,
that principal as the claim ``principal``, which is then the operator's name: on a shared login
(``deploy`` on a bastion) the key tells people apart. Both stay claims in the evidence; an event
is verified only by its signature.
"""

from __future__ import annotations

import os
import pwd
import socket
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cockpit.errors import AppendFailed
from cockpit.identity import Signers
from cockpit.signing import SigningKey, find_signing_key


@dataclass(frozen=True)
class Claim:
    value: str
    verified: bool
    source: str

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "verified": self.verified, "source": self.source}


@dataclass(frozen=True)
class Operator:
    """The person acting. ``name`` is who the cockpit holds responsible (the human behind sudo
    when the sudo process proves it); ``evidence`` says where each part came from."""

    login: Claim
    host: Claim
    sudo_user: Claim | None = None
    ssh_origin: Claim | None = None
    # COCKPIT_AS: a stand-in colleague for rehearsals (a second approver when practising alone).
    # The store refuses it on any event that is not a rehearsal.
    acting_as: Claim | None = None
    # The key's fingerprint (source "ssh-agent" or "key file"), and the principal the
    # allowed-signers file gives it.
    key: Claim | None = None
    principal: Claim | None = None
    # How to sign (never part of the evidence; a supervisor rebuilt from evidence has none).
    signing_key: SigningKey | None = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        if self.acting_as is not None:
            return self.acting_as.value
        if self.principal is not None:
            return self.principal.value
        # An unverified SUDO_USER is only a claim: anyone can set it, so it never decides who is
        # held responsible (four-eyes depends on this). The claim stays in the evidence.
        if self.sudo_user is not None and self.sudo_user.verified:
            return self.sudo_user.value
        return self.login.value

    @property
    def actor(self) -> str:
        """``name@host``: the short form shown on screens and stored in each event."""
        return f"{self.name}@{self.host.value}"

    def evidence(self) -> dict[str, Any]:
        out: dict[str, Any] = {"login": self.login.as_dict(), "host": self.host.as_dict()}
        if self.sudo_user:
            out["sudo_user"] = self.sudo_user.as_dict()
        if self.ssh_origin:
            out["ssh_origin"] = self.ssh_origin.as_dict()
        if self.acting_as:
            out["acting_as"] = self.acting_as.as_dict()
        if self.key:
            out["key"] = self.key.as_dict()
        if self.principal:
            out["principal"] = self.principal.as_dict()
        return out

    def sign(self, data: bytes, what: str) -> str:
        """An SSH signature of ``data`` with this operator's key (:class:`AppendFailed`, one
        line saying what to do, when there is none or it cannot sign)."""
        if self.signing_key is None:
            raise AppendFailed.said("sig.no_key", what=what)
        return self.signing_key.sign(data, what)

    def signing_problem(self, signers: Signers) -> tuple[str, dict[str, str]] | None:
        """Why a signature by this operator would not prove them (a catalog key ``why.KEY``
        and its values); None when it would."""
        key = self.signing_key
        if key is None:
            return "sign_no_key", {}
        principal = signers.principal_of(key.public)
        if principal is None:
            return "sign_unknown_key", {"fingerprint": key.fingerprint, "file": str(signers.path)}
        if principal != self.name:
            return "sign_other_name", {
                "fingerprint": key.fingerprint,
                "principal": principal,
                "name": self.name,
            }
        return None

    def why_cannot_sign(self, signers: Signers, action: str) -> str | None:
        """:meth:`signing_problem` as the English line the CLI prints."""
        from cockpit.i18n import tr

        problem = self.signing_problem(signers)
        return (
            None if problem is None else tr("why." + problem[0], "en", action=action, **problem[1])
        )

    @classmethod
    def from_evidence(cls, evidence: dict[str, Any]) -> Operator:
        """The operator :meth:`evidence` describes: how a step's supervisor (a process the
        cockpit starts, as the same user) acts for the operator who started it."""

        def claim(key: str) -> Claim | None:
            part = evidence.get(key)
            if not isinstance(part, dict):
                return None
            return Claim(str(part["value"]), bool(part["verified"]), str(part["source"]))

        login, host = claim("login"), claim("host")
        if login is None or host is None:
            raise ValueError("operator evidence without login and host")
        return cls(
            login=login,
            host=host,
            sudo_user=claim("sudo_user"),
            ssh_origin=claim("ssh_origin"),
            acting_as=claim("acting_as"),
            key=claim("key"),
            principal=claim("principal"),
        )

    @classmethod
    def fixed(cls, name: str, host: str = "test-host") -> Operator:
        """An operator given outright (tests, and the demo's second approver): claimed only."""
        return cls(login=Claim(name, False, "given"), host=Claim(host, False, "given"))


def with_key(operator: Operator, key: SigningKey | None, signers: Signers | None) -> Operator:
    """``operator`` signing with ``key``: its fingerprint in the evidence, and the principal the
    allowed signers give it (which becomes the operator's name)."""
    if key is None:
        return operator
    principal = signers.principal_of(key.public) if signers is not None else None
    return replace(
        operator,
        key=Claim(key.fingerprint, False, key.source),
        principal=None if principal is None else Claim(principal, False, "allowed signers"),
        signing_key=key,
    )


def current_operator(
    environ: dict[str, str] | None = None,
    *,
    signing_key: Path | None = None,
    signers: Signers | None = None,
) -> Operator:
    """Work out who is acting from this process, its ancestors and its environment, and which
    key it signs with (``$COCKPIT_SIGNING_KEY``, else ``signing_key`` from ``[identity]``, else
    the first key the agent holds that ``signers`` knows)."""
    env = dict(os.environ) if environ is None else environ
    uid = os.getuid()
    try:
        login = Claim(pwd.getpwuid(uid).pw_name, True, "uid")
    except KeyError:
        login = Claim(env.get("USER") or f"uid{uid}", False, "USER")
    host = Claim(socket.gethostname(), True, "hostname")
    sudo_user = None
    if env.get("SUDO_USER"):
        claimed = env["SUDO_USER"]
        sudo_user = Claim(claimed, _sudo_ancestor_user() == claimed, "SUDO_USER")
    ssh_origin = None
    if env.get("SSH_CONNECTION"):
        parts = env["SSH_CONNECTION"].split()
        origin = f"{parts[0]}:{parts[1]}" if len(parts) >= 2 else env["SSH_CONNECTION"]
        ssh_origin = Claim(origin, False, "SSH_CONNECTION")
    acting_as = Claim(env["COCKPIT_AS"], False, "COCKPIT_AS") if env.get("COCKPIT_AS") else None
    operator = Operator(
        login=login, host=host, sudo_user=sudo_user, ssh_origin=ssh_origin, acting_as=acting_as
    )
    known = None if signers is None else (lambda public: signers.principal_of(public) is not None)
    return with_key(operator, find_signing_key(env, signing_key, known), signers)


def _sudo_ancestor_user() -> str | None:
    """The user who started the nearest ``sudo`` among our ancestors, from /proc; None if none."""
    pid = os.getppid()
    for _ in range(32):
        if pid <= 1:
            return None
        status = _proc_status(pid)
        if status is None:
            return None
        if status.get("Name") == "sudo":
            parent = _proc_status(int(status.get("PPid", "0")))
            if parent is None:
                return None
            try:
                return pwd.getpwuid(int(parent["Uid"].split()[0])).pw_name
            except (KeyError, ValueError):
                return None
        pid = int(status.get("PPid", "0"))
    return None


def _proc_status(pid: int) -> dict[str, str] | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        out[key] = value.strip()
    return out
