"""Who acted, as proven: an event's signature checked against the allowed-signers file (git's
and ssh-keygen's format), what is shown for its actor, and what ``cockpit audit verify`` finds.

An event's identity is *verified* only when it carries a signature that verifies, made by a key
the allowed-signers file lists for this namespace, under a principal equal to the actor's name
(``actor.rsplit("@", 1)[0]``); everything else is *claimed* (:func:`identity_verified`,
:func:`shown_actor`). Checking runs in process with the ``sshsig`` package (fast enough for every
fold), imported, with the ``cryptography`` it loads, only when a signature or the file is read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cockpit.chain import COLUMNS
from cockpit.errors import ConfigError, Phrase
from cockpit.signing import NAMESPACE, event_signed_bytes, fingerprint, key_id
from cockpit.vocabulary import (
    CHECK_STARTED,
    GATE_APPROVED,
    GATE_REJECTED,
    ITEM_DONE,
    ITEM_SKIPPED,
    OVERRIDE,
    OVERRIDE_REQUESTED,
    RELEASE_CREATED,
)

# Signed whenever [identity] allowed_signers is set.
ALWAYS_SIGNED = frozenset({GATE_APPROVED, GATE_REJECTED})
# The decisions an operator makes in the cockpit's own process: signed, every one, for the
# releases of a ``sign_all`` environment. An outcome recorded after an intent (it names the
# intent's seq) is not a decision. Steps' intents are recorded by their supervisor, unsigned.
DECISION_ACTIONS = frozenset(
    {
        RELEASE_CREATED,
        ITEM_DONE,
        ITEM_SKIPPED,
        GATE_APPROVED,
        GATE_REJECTED,
        OVERRIDE_REQUESTED,
        OVERRIDE,
        CHECK_STARTED,
    }
)

# Identity findings of `cockpit audit verify`, each at a seq.
BAD_SIGNATURE = "BAD_SIGNATURE"  # the signature does not verify over the event's bytes
UNKNOWN_SIGNER = "UNKNOWN_SIGNER"  # made by a key the allowed signers do not list (namespace)
SIGNER_MISMATCH = "SIGNER_MISMATCH"  # valid, but the key's principals do not include the actor
UNSIGNED = "UNSIGNED"  # a signature is required and there is none
VERIFIED = "VERIFIED"
UNCHECKED = "UNCHECKED"  # a valid signature, but no allowed-signers file to say whose


def _pattern_re(pattern: str) -> re.Pattern[str]:
    return re.compile(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern) + r"\Z"
    )


def match_list(name: str, patterns: str) -> bool:
    """ssh's ``match_pattern_list``: ``name`` matches one of the comma-separated patterns
    (``*`` and ``?`` wildcards) and none of the negated ones (``!pattern``)."""
    matched = False
    for raw in patterns.split(","):
        negated = raw.startswith("!")
        pattern = raw[1:] if negated else raw
        if pattern and _pattern_re(pattern).match(name):
            if negated:
                return False
            matched = True
    return matched


@dataclass(frozen=True)
class Entry:
    """One line of an allowed-signers file: principal patterns, the namespaces the key may
    sign in (None: any), and the key (``TYPE BASE64``)."""

    principals: str
    namespaces: str | None
    key: str
    line: int

    def allows_namespace(self) -> bool:
        return self.namespaces is None or match_list(NAMESPACE, self.namespaces)

    def first_principal(self) -> str | None:
        """The first principal that names one person (no wildcard, not negated)."""
        for part in self.principals.split(","):
            if part and not part.startswith("!") and not set(part) & {"*", "?"}:
                return part
        return None


@dataclass(frozen=True)
class Verdict:
    """What a signature says about an event's identity (``code`` one of the constants above)."""

    code: str
    key: str | None = None  # the signing key's fingerprint, when the signature verifies

    @property
    def verified(self) -> bool:
        return self.code == VERIFIED


class Signers:
    """The allowed-signers file and the rules of ``[identity]``: from which seq signatures are
    required (``required_after_seq``) and which environments sign every decision."""

    def __init__(
        self,
        path: Path,
        entries: list[Entry],
        *,
        required_after_seq: int = 0,
        sign_all: Iterable[str] = (),
    ) -> None:
        self.path = path
        self.entries = entries
        self.required_after_seq = required_after_seq
        self.sign_all = frozenset(sign_all)
        self._verdicts: dict[tuple[bytes, str], Verdict] = {}

    @classmethod
    def load(
        cls, path: Path, *, required_after_seq: int = 0, sign_all: Iterable[str] = ()
    ) -> Signers:
        """Read the file; :class:`ConfigError` naming the file and line when it is wrong."""
        try:
            text = path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            why = getattr(exc, "strerror", None) or exc
            raise ConfigError.said("ids.unreadable", path=path, cause=why) from None
        return cls(
            path,
            parse_allowed_signers(text, str(path)),
            required_after_seq=required_after_seq,
            sign_all=sign_all,
        )

    def entries_for(self, public: str) -> list[Entry]:
        key = key_id(public)
        return [e for e in self.entries if e.key == key]

    def principal_of(self, public: str) -> str | None:
        """The principal a key signs as here: the first person its line names."""
        for entry in self.entries_for(public):
            if entry.allows_namespace():
                found = entry.first_principal()
                if found:
                    return found
        return None

    def verdict(self, event: Any) -> Verdict:
        """:func:`verdict` of ``event``, remembered by what it depends on (the signed bytes,
        which hold the actor, and the signature), so a fold checks each signature once."""
        if event.signature is None:
            return Verdict(UNSIGNED)
        data = event_signed_bytes(event)
        known = self._verdicts.get((data, event.signature))
        if known is None:
            known = _verdict(data, event.signature, event.actor, self)
            if len(self._verdicts) > 100_000:
                self._verdicts.clear()
            self._verdicts[(data, event.signature)] = known
        return known

    def required(self, seq: int, action: str, environment: str | None, details: str) -> bool:
        """Must the event at ``seq`` be signed? Approvals and rejections always (past
        ``required_after_seq``); in a ``sign_all`` environment, every decision."""
        if seq <= self.required_after_seq:
            return False
        if action in ALWAYS_SIGNED:
            return True
        return environment in self.sign_all and is_decision(action, details)


# What sshsig can check.
CHECKED_KEY_TYPES = ("ssh-ed25519", "ssh-rsa")
# What any OpenSSH key type starts with (ssh-dss, ecdsa-sha2-*, sk-ssh-ed25519@openssh.com, ...).
KEY_TYPE_PREFIXES = ("ssh-", "ecdsa-", "sk-")


def parse_allowed_signers(text: str, source: str) -> list[Entry]:
    """The lines of an allowed-signers file (parsed with ``sshsig.allowed_signers``).
    Options this cockpit cannot honour (certificate authorities, validity dates) and key types
    it cannot check are refused rather than ignored."""
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            entries.append(_entry(stripped, f"{source}:{number}", number))
    return entries


def _entry(line: str, where: str, number: int) -> Entry:
    from sshsig import PublicKey
    from sshsig.allowed_signers import AllowedSigner

    form = Phrase("ids.form")
    try:
        parsed = AllowedSigner.parse(line)
    except (ValueError, IndexError) as exc:
        raise ConfigError.said("ids.bad_line", where=where, form=form, cause=exc) from None
    options = parsed.options or {}
    unsupported = sorted(set(options) - {"namespaces"})
    if unsupported:
        raise ConfigError.said("ids.option", where=where, option=unsupported[0])
    if not parsed.key_type.startswith(KEY_TYPE_PREFIXES):  # words, not a key: say the form
        raise ConfigError.said("ids.not_a_line", where=where, form=form)
    if parsed.key_type not in CHECKED_KEY_TYPES:
        raise ConfigError.said(
            "ids.key_type", where=where, kind=parsed.key_type, kinds="/".join(CHECKED_KEY_TYPES)
        )
    key = f"{parsed.key_type} {parsed.base64_key}"
    try:
        PublicKey.from_openssh_str(key)
    except (ValueError, NotImplementedError):
        raise ConfigError.said(
            "ids.no_decode", where=where, form=form, kind=parsed.key_type
        ) from None
    return Entry(parsed.principals, options.get("namespaces"), key, number)


def verdict(event: Any, signers: Signers | None) -> Verdict:
    """Whether ``event``'s signature makes its identity verified, and if not, why."""
    if event.signature is None:
        return Verdict(UNSIGNED)
    return _verdict(event_signed_bytes(event), event.signature, event.actor, signers)


def _verdict(data: bytes, signature: str, actor: str, signers: Signers | None) -> Verdict:
    from sshsig import InvalidSignature, check_signature

    try:
        key = check_signature(data, signature, NAMESPACE)
    except (InvalidSignature, NotImplementedError, ValueError):
        return Verdict(BAD_SIGNATURE)
    public = key.openssh_str()
    found = fingerprint(public)
    if signers is None:
        return Verdict(UNCHECKED, found)
    entries = [e for e in signers.entries_for(public) if e.allows_namespace()]
    if not entries:
        return Verdict(UNKNOWN_SIGNER, found)
    if any(match_list(actor_name(actor), e.principals) for e in entries):
        return Verdict(VERIFIED, found)
    return Verdict(SIGNER_MISMATCH, found)


def actor_name(actor: str) -> str:
    return actor.rsplit("@", 1)[0]


def is_decision(action: str, details: str) -> bool:
    """A decision of :data:`DECISION_ACTIONS`, not an outcome naming its intent's seq."""
    return action in DECISION_ACTIONS and '"intent_seq":' not in details


# --- what is shown --------------------------------------------------------------------------------


def identity_verified(event: Any, signers: Signers | None) -> bool:
    """Is ``event``'s identity verified (signed by a key the allowed signers list for its
    actor)? Everything else is claimed, and shown so (:func:`shown_actor`)."""
    return signers is not None and event.signature is not None and signers.verdict(event).verified


def shown_actor(
    event: Any, signers: Signers | None, lang: str = "en", *, short: bool = False
) -> str:
    """The actor as shown to people: ``bob@vm``, or ``bob@vm (claimed)`` when unverified
    (``short``: the name without the host)."""
    from cockpit.i18n import tr

    name = actor_name(event.actor) if short else event.actor
    return name if identity_verified(event, signers) else tr("who.claimed", lang, name=name)


# --- audit verify ---------------------------------------------------------------------------------

_AT = {name: index for index, name in enumerate(COLUMNS)}
# Read on every row a verify streams: looked up once.
_SEQ, _ACTION, _RELEASE = _AT["seq"], _AT["action"], _AT["release_id"]
_DETAILS, _SIGNATURE = _AT["details"], _AT["signature"]


@dataclass(frozen=True)
class _Row:
    """The fields of a stored row a signature is checked over (a tuple in COLUMNS order)."""

    row: tuple[Any, ...]

    def __getattr__(self, name: str) -> Any:
        index = _AT[name]
        value = self.row[index] if index < len(self.row) else None
        return bool(value) if name == "rehearsal" else value


class IdentityCheck:
    """:func:`identity_findings` one row at a time (``cockpit audit verify`` streams the log)."""

    def __init__(self, signers: Signers | None, environments: dict[str, str] | None = None):
        self.signers = signers
        self.findings: list[tuple[str, int, str]] = []
        # Each release's environment (sign_all); seeded with those created before an
        # incremental run's first row.
        self._environment: dict[str, str] = dict(environments or {})

    def row(self, row: tuple[Any, ...]) -> None:
        signers, environment = self.signers, self._environment
        seq, action, release_id, details = row[_SEQ], row[_ACTION], row[_RELEASE], row[_DETAILS]
        if action == RELEASE_CREATED and release_id is not None:
            environment[release_id] = str(json.loads(details).get("environment", ""))
        signature = row[_SIGNATURE] if len(row) > _SIGNATURE else None
        if signature is not None:
            event = _Row(tuple(row))
            found = signers.verdict(event) if signers is not None else verdict(event, None)
            message = _MESSAGES.get(found.code)
            if message is not None:
                self.findings.append(
                    (found.code, seq, message.format(actor=event.actor, key=found.key))
                )
        elif signers is not None and signers.required(
            seq, action, environment.get(release_id or ""), details
        ):
            actor = row[_AT["actor"]]
            self.findings.append((UNSIGNED, seq, f"{action} by {actor} must be signed and is not"))


def identity_findings(
    rows: Iterable[tuple[Any, ...]], signers: Signers | None
) -> list[tuple[str, int, str]]:
    """``(code, seq, message)`` of every signature that does not verify, is not by an allowed
    signer or not by a key of its actor, and of every event that must be signed and is not
    (:mod:`cockpit.verify` makes them findings)."""
    check = IdentityCheck(signers)
    for row in rows:
        check.row(row)
    return check.findings


_MESSAGES = {
    BAD_SIGNATURE: "the signature does not verify over this event: it was forged or edited",
    UNKNOWN_SIGNER: "signed by {key}, a key the allowed-signers file does not list for this "
    "namespace",
    SIGNER_MISMATCH: "signed by {key}, which is not a key of {actor}",
}
