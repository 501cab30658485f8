"""Signed decisions: real keys, a real ssh-agent per person, real `cockpit` processes and a real
sshd. Four-eyes counts only approvals signed by a key of their actor who did not prepare the
release; `cockpit audit verify` names every signature that does not verify, is not by an allowed
signer or not by a key of its actor, and every decision that must be signed and is not."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import rfc8785

from cockpit.checklist import Status, load_checklist
from cockpit.errors import AppendFailed, ConfigError
from cockpit.events import COLUMNS, Checkpoint, Event, NewEvent, row_hash
from cockpit.identity import Signers, identity_verified, match_list, parse_allowed_signers
from cockpit.operator import Claim, Operator, current_operator, with_key
from cockpit.session import Session
from cockpit.signing import SIGNED_DOMAIN, key_from_file, signed_bytes
from cockpit.store import Store
from cockpit.vocabulary import GATE_APPROVED, ITEM_DONE
from tests import tamper
from tests.test_e2e_tmux import clean_env
from tests.test_supervisor import sshd  # noqa: F401 (fixture)

REPO = Path(__file__).resolve().parent.parent
COCKPIT = [sys.executable, "-m", "cockpit"]

CONFIG = """
[database]
url = "{url}"
[audit]
checkpoint = "checkpoint.json"
[identity]
allowed_signers = "allowed_signers"
required_after_seq = {after}
[roles]
approver = ["bob", "carol", "mallory"]
[environments.production]
production = true
[environments.strict]
sign_all = true
"""

PLAN = """\
schema_version: 1
name: signplan
title_ja: 署名計画
title_en: Signed plan
phases:
  - id: t-1
    offset_days: -1
    title_ja: 最終確認
    title_en: Final check
    items:
      - {id: t1.check, kind: manual, title_ja: 確認, title_en: Checked}
      - {id: t1.approval, kind: gate, role: approver, title_ja: 承認, title_en: Approved}
  - id: t-0
    offset_days: 0
    title_ja: リリース実施
    title_en: Release
    items:
      - {id: t0.announce, kind: manual, title_ja: 告知, title_en: Announced}
"""


def keygen(folder: Path, name: str, passphrase: str = "") -> Path:
    key = folder / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", name, "-f", str(key)],
        check=True,
    )
    return key


class Agents:
    """One real ssh-agent per person (``ssh-agent -D``), each killed by its PID at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, *keys: Path) -> str:
        sock = self.folder / f"{name}.agent"
        proc = subprocess.Popen(
            ["ssh-agent", "-D", "-a", str(sock)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.procs.append(proc)
        env = {**clean_env(), "SSH_AUTH_SOCK": str(sock)}
        deadline = time.monotonic() + 10
        # `ssh-add -l` exits 2 until the agent listens (1: it answers, holding no key).
        while subprocess.run(["ssh-add", "-l"], env=env, capture_output=True).returncode == 2:
            assert time.monotonic() < deadline and proc.poll() is None, "ssh-agent did not start"
            time.sleep(0.02)
        for key in keys:
            subprocess.run(["ssh-add", "-q", str(key)], env=env, check=True, capture_output=True)
        return str(sock)

    def stop(self) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait(timeout=10)


class Team:
    """A workspace (cockpit.toml, plan, allowed signers) and the keys and agents of alice (the
    preparer), bob (an approver), carol (her key may sign only for git) and mallory (not in the
    allowed signers). Everyone logs in as the same user: the key tells them apart."""

    def __init__(self, root: Path, agents: Agents, url: str | None = None, after: int = 0):
        self.root = root
        keys = root / "keys"
        keys.mkdir()
        self.keys = {n: keygen(keys, n) for n in ("alice", "bob", "carol", "mallory")}

        def pub(name: str) -> str:
            return Path(str(self.keys[name]) + ".pub").read_text().strip()

        (root / "allowed_signers").write_text(
            "# principals [options] key\n"
            f"alice {pub('alice')}\n"
            f'bob,robert namespaces="git,release-cockpit" {pub("bob")}\n'
            f'carol namespaces="git" {pub("carol")}\n'
        )
        self.url = url or f"sqlite:///{root / 'cockpit.db'}"
        self.config = root / "cockpit.toml"
        self.config.write_text(CONFIG.format(url=self.url, after=after))
        (root / "signplan.yaml").write_text(PLAN)
        self.agents = {n: agents.start(n, self.keys[n]) for n in ("alice", "bob", "carol")}
        self.rid = ""

    def env(self, who: str | None) -> dict[str, str]:
        env = clean_env()
        env.pop("SSH_AUTH_SOCK", None)
        env["COCKPIT_CONFIG"] = str(self.config)
        env["PYTHONPATH"] = str(REPO)
        if who is not None:
            env["SSH_AUTH_SOCK"] = self.agents[who]
        return env

    def cli(self, who: str | None, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*COCKPIT, *args],
            env=self.env(who) | env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=self.root,
            check=False,
        )

    def new_release(self, who: str = "alice", env: str = "production") -> str:
        done = self.cli(
            who, "release", "new", "--plan", str(self.root / "signplan.yaml"), "--env", env,
            "--version", "1.4.0", "--t0", "2036-12-17T01:00", "--json",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        self.rid = json.loads(done.stdout)["id"]
        return self.rid

    def session(self) -> Session:
        return Session(config_path=self.config)

    def verify(self) -> tuple[int, dict[str, object]]:
        done = self.cli(None, "audit", "verify", "--json")
        return done.returncode, json.loads(done.stdout)


@pytest.fixture
def agents(tmp_path: Path) -> Iterator[Agents]:
    running = Agents(tmp_path)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def team(tmp_path: Path, agents: Agents) -> Team:
    return Team(tmp_path, agents)


def forge(store: Store, name: str, new: NewEvent, key: Path | None = None) -> Event:
    """What anyone with the app's database credentials could append with a correct chain:
    an event claiming ``name``, signed with ``key`` (someone else's) or not at all."""
    operator = Operator.fixed(name, "bastion-1")
    if key is not None:
        operator = replace(operator, signing_key=key_from_file(key, "test"))
    return store.append(replace(new, signed=key is not None), operator)


def rechain(store: Store, seq: int, checkpoint: Path, **changes: object) -> None:
    """Change the row at ``seq`` and re-chain every row after it, move the chain head and
    rewrite the checkpoint file: an attacker with the database and the file. Only the
    signature can tell."""
    rows = [dict(zip(COLUMNS, r, strict=True)) for r in store.rows()]
    prev = rows[seq - 2]["hash"] if seq > 1 else "0" * 64
    statements: list[tuple[str, dict[str, object]] | str] = []
    for values in rows[seq - 1 :]:
        if values["seq"] == seq:
            values |= changes
        values["prev_hash"] = prev
        values["hash"] = prev = row_hash(tuple(values[c] for c in COLUMNS))
        sets = ", ".join(f"{c} = :{c}" for c in values if c != "seq")
        statements.append((f"UPDATE events SET {sets} WHERE seq = :seq", values))
    head = rows[-1]["seq"]
    statements.append(("UPDATE chain_head SET hash = :h WHERE id = 1", {"h": prev}))
    tamper.run(store, *statements)
    checkpoint.unlink(missing_ok=True)
    store.write_checkpoint(Checkpoint(head, prev), force=True)


# --- the bytes and the file ------------------------------------------------------------------


def test_signed_bytes_are_the_domain_tag_and_the_jcs_of_the_unassigned_fields() -> None:
    fields = {
        "event_id": "e-1",
        "schema": 1,
        "release_id": "r-1",
        "action": GATE_APPROVED,
        "subject": "t1.approval",
        "outcome": "approved",
        "reason": "承認します 🚀",
        "details": '{"plan":"x","plan_sha256":"ab"}',
        "rehearsal": False,
        "actor": "bob@bastion-1",
        "actor_evidence": '{"login":{"source":"uid","value":"deploy","verified":true}}',
    }
    whole = {
        k: json.loads(v) if k in {"details", "actor_evidence"} else v for k, v in fields.items()
    }
    assert signed_bytes(fields) == SIGNED_DOMAIN + rfc8785.dumps(whole)


@pytest.mark.parametrize(
    ("name", "patterns", "matches"),
    [
        ("bob", "bob", True),
        ("bob", "alice,bob", True),
        ("bobby", "bob", False),
        ("bob", "b?b", True),
        ("bob", "*,!bob", False),
        ("carol", "*,!bob", True),
        ("bob", "!bob", False),
    ],
)
def test_principal_patterns_match_as_ssh_does(name: str, patterns: str, matches: bool) -> None:
    assert match_list(name, patterns) is matches


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("bob", "allowed_signers:2: not an allowed-signers line"),
        ("bob cert-authority ssh-ed25519 AAAA", "option cert-authority is not supported"),
        ("bob ssh-ed25519 bm90IGEga2V5", "allowed_signers:2: not an allowed-signers line"),
        ("bob ecdsa-sha2-nistp256 AAAA", "key type 'ecdsa-sha2-nistp256' cannot be checked"),
        ("this is not a signers line", "allowed_signers:2: not an allowed-signers line"),
    ],
)
def test_a_bad_allowed_signers_line_is_one_line_naming_it(line: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_allowed_signers(f"# a comment\n{line}\n", "allowed_signers")
    message = str(caught.value)
    assert message.startswith("allowed_signers:2: ") and expected in message, message
    assert "\n" not in message


def test_bad_key_paths_are_one_line_exit_2(team: Team) -> None:
    done = team.cli("bob", "item", "approve", "r-x", "t1.approval", COCKPIT_SIGNING_KEY="/nope")
    assert done.returncode == 2, done.stderr
    assert done.stderr == "cockpit: COCKPIT_SIGNING_KEY=/nope: /nope: no such key file\n"
    (team.root / "allowed_signers").write_text("bob ssh-ed25519\n")
    done = team.cli("bob", "audit", "verify")
    assert done.returncode == 2 and "allowed_signers:1: not an allowed-signers line" in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


# --- signing and four-eyes through real agents ------------------------------------------------


def test_the_agents_key_names_the_operator_and_its_approval_is_verified(team: Team) -> None:
    rid = team.new_release("alice")
    assert team.cli("alice", "item", "done", rid, "t1.check").returncode == 0
    # alice prepared it: her own key cannot approve it.
    done = team.cli("alice", "item", "approve", rid, "t1.approval")
    assert done.returncode == 1 and "four-eyes: alice prepared this release" in done.stderr
    done = team.cli("bob", "item", "approve", rid, "t1.approval")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(f"by bob@{os.uname().nodename}")
    session = team.session()
    store = session.store
    created, check, approval = store.events(release_id=rid)
    # Everything someone with a known key does is signed: the approval because it must be,
    # the release and the manual tick because the key was there.
    assert created.signature and approval.signature and check.signature
    assert all(identity_verified(ev, store.signers) for ev in (created, check, approval))
    evidence = approval.evidence_obj
    bob_key = key_from_file(team.keys["bob"], "test")
    assert evidence["key"] == {
        "value": bob_key.fingerprint,
        "verified": False,
        "source": "ssh-agent",
    }
    assert evidence["principal"]["value"] == "bob" and evidence["login"]["value"] != "bob"
    checklist = load_checklist(store, rid)
    assert checklist.state("t1.approval").status is Status.APPROVED
    # The checklist screen's rows: proven, so nothing is marked claimed.
    from screens.checklist_view import state_note

    notes = {
        item.id: state_note(session, checklist, item, checklist.state(item.id).status)
        for _phase, item in checklist.plan.plan.items()
    }
    assert re.fullmatch(r"bob \d\d-\d\d \d\d:\d\d JST", notes["t1.approval"]), notes
    assert re.fullmatch(r"alice \d\d-\d\d \d\d:\d\d JST", notes["t1.check"]), notes
    code, report = team.verify()
    assert (code, report["ok"], report["identity"]) == (0, True, [])
    # Shown as proven where it is; an event appended without a key is a claim.
    team.cli(None, "note", "--release", rid, "no key at hand")
    done = team.cli(None, "audit", "export", "--format", "md")
    rows = [line for line in done.stdout.splitlines() if line.startswith("| 4 ")]
    assert "(claimed)" in rows[0] and "(claimed)" not in done.stdout.split("| 4 ")[0]
    exported = [json.loads(line) for line in team.cli(None, "audit", "export").stdout.splitlines()]
    assert [e["verified"] for e in exported] == [True, True, True, False]
    tail = team.cli(None, "audit", "tail").stdout.splitlines()
    assert "(claimed)" in tail[3] and "(claimed)" not in "".join(tail[:3])


def test_without_a_usable_key_a_signed_decision_is_refused_naming_what_to_do(
    team: Team,
) -> None:
    rid = team.new_release("alice")
    team.cli("alice", "item", "done", rid, "t1.check")
    head = team.session().store.head()
    done = team.cli(None, "item", "approve", rid, "t1.approval")
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    no_key = (
        "cockpit: t1.approval: approve is signed here and there is no key the allowed signers "
        "know to sign with: load yours into the agent (ssh-add), or set [identity] signing_key "
        "or COCKPIT_SIGNING_KEY\n"
    )
    assert done.stderr == no_key
    # carol's agent holds a key allowed for git only: none to sign with here.
    done = team.cli("carol", "item", "approve", rid, "t1.approval")
    assert (done.returncode, done.stderr) == (1, no_key)
    # mallory's key, named outright, is not listed at all.
    done = team.cli(None, "item", "reject", rid, "t1.approval", "--reason", "no",
                    COCKPIT_SIGNING_KEY=str(team.keys["mallory"]))  # fmt: skip
    assert done.returncode == 1, done.stderr
    mallory = key_from_file(team.keys["mallory"], "t").fingerprint
    assert f"reject is signed here and the key {mallory} is not in " in done.stderr
    # bob's public key without bob's agent: ssh-keygen cannot sign, nothing is recorded.
    bob_pub = str(team.keys["bob"]) + ".pub"
    done = team.cli(None, "item", "approve", rid, "t1.approval", COCKPIT_SIGNING_KEY=bob_pub)
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert "gate.approved not recorded: the key" in done.stderr and "ssh-add" in done.stderr
    assert team.session().store.head() == head


def test_a_key_with_a_passphrase_fails_at_once_instead_of_asking(team: Team) -> None:
    locked = keygen(team.root / "keys", "locked", passphrase="secret words")
    key = key_from_file(locked, "test")
    started = time.monotonic()
    with pytest.raises(AppendFailed, match="did not sign") as caught:
        key.sign(b"data", "gate.approved")
    assert time.monotonic() - started < 5 and "secret" not in str(caught.value)


def test_sign_all_signs_every_decision_and_verify_wants_them_all(team: Team) -> None:
    rid = team.new_release("alice", env="strict")
    # Without a key nothing is decided there, not even the release itself.
    done = team.cli(None, "item", "done", rid, "t1.check")
    assert done.returncode == 1 and "no key the allowed signers know" in done.stderr
    assert team.cli("alice", "item", "done", rid, "t1.check").returncode == 0
    store = team.session().store
    assert [bool(ev.signature) for ev in store.events(release_id=rid)] == [True, True]
    plan = str(team.root / "signplan.yaml")
    done = team.cli(None, "release", "new", "--plan", plan, "--env", "strict",
                    "--version", "1.5.0", "--t0", "2036-12-17T01:00")  # fmt: skip
    assert done.returncode == 1 and done.stderr.startswith(
        "cockpit: strict signs every decision: release.created is signed here and there is no key"
    )
    unsigned = forge(
        store, "alice", NewEvent(ITEM_DONE, release_id=rid, subject="t0.announce", outcome="ok")
    )
    code, report = team.verify()
    assert code == 1 and report["finding"] is None
    assert report["identity"] == [
        {
            "code": "UNSIGNED",
            "seq": unsigned.seq,
            "message": "item.done by alice@bastion-1 must be signed and is not",
        }
    ]


# --- what verify names, and what the gate does not count --------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_verify_names_each_signature_that_does_not_prove_its_actor(
    tmp_path: Path, agents: Agents, backend: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    team = Team(tmp_path, agents, url)
    rid = team.new_release("alice")
    team.cli("alice", "item", "done", rid, "t1.check")
    store = team.session().store
    gate = {"release_id": rid, "subject": "t1.approval", "outcome": "approved"}
    approve = NewEvent(GATE_APPROVED, **gate)  # type: ignore[arg-type]
    # The preparer forges bob's approval with a correct chain: unsigned, then signed with her
    # own key, then with a key nobody allowed; none of them counts.
    unsigned = forge(store, "bob", approve)
    mismatch = forge(store, "bob", approve, team.keys["alice"])
    unknown = forge(store, "mallory", approve, team.keys["mallory"])
    checklist = load_checklist(store, rid)
    state = checklist.state("t1.approval")
    assert state.status is Status.PENDING and state.approvals == []
    assert [str(why) for why in state.uncounted] == [
        f"approval #{unsigned.seq} by bob is not signed, so it does not count",
        f"approval #{mismatch.seq} by bob is not signed by a key of bob",
        f"approval #{unknown.seq} by mallory is not signed by a key of mallory",
    ]
    done = team.cli("alice", "item", "done", rid, "t0.announce")
    assert done.returncode == 1
    assert f"is not approved yet: approval #{unknown.seq} by mallory is not signed" in done.stderr
    # bob's own approval counts; then its signature is swapped for one over other bytes and the
    # log re-chained, so the chain, the head and the checkpoint all agree.
    assert team.cli("bob", "item", "approve", rid, "t1.approval").returncode == 0
    real = store.events(release_id=rid)[-1]
    team.cli("alice", "item", "done", rid, "t0.announce")
    rechain(store, real.seq, tmp_path / "checkpoint.json", signature=mismatch.signature)
    assert load_checklist(store, rid).state("t1.approval").status is Status.PENDING
    done = team.cli(None, "audit", "verify")
    assert done.returncode == 1 and "audit chain ok" in done.stdout, done.stdout
    assert [line for line in done.stdout.splitlines() if line.startswith("identity:")] == [
        f"identity: UNSIGNED at seq {unsigned.seq}: gate.approved by bob@bastion-1 must be "
        "signed and is not",
        f"identity: SIGNER_MISMATCH at seq {mismatch.seq}: signed by "
        f"{key_from_file(team.keys['alice'], 't').fingerprint}, which is not a key of "
        "bob@bastion-1",
        f"identity: UNKNOWN_SIGNER at seq {unknown.seq}: signed by "
        f"{key_from_file(team.keys['mallory'], 't').fingerprint}, a key the allowed-signers "
        "file does not list for this namespace",
        f"identity: BAD_SIGNATURE at seq {real.seq}: the signature does not verify over this "
        "event: it was forged or edited",
    ]
    code, report = team.verify()
    assert code == 1 and report["ok"] is False and report["finding"] is None
    assert [(f["code"], f["seq"]) for f in report["identity"]] == [  # type: ignore[index,union-attr]
        ("UNSIGNED", unsigned.seq),
        ("SIGNER_MISMATCH", mismatch.seq),
        ("UNKNOWN_SIGNER", unknown.seq),
        ("BAD_SIGNATURE", real.seq),
    ]


def test_events_before_required_after_seq_are_exempt(tmp_path: Path, agents: Agents) -> None:
    """Adopting signatures on a log that has unsigned approvals already."""
    team = Team(tmp_path, agents)
    rid = team.new_release("alice")
    team.cli("alice", "item", "done", rid, "t1.check")
    store = team.session().store
    details = {"plan_sha256": load_checklist(store, rid).plan.sha256}
    approval = NewEvent(GATE_APPROVED, release_id=rid, subject="t1.approval", details=details)
    old = forge(store, "bob", approval)
    code, report = team.verify()
    assert code == 1 and [f["seq"] for f in report["identity"]] == [old.seq]  # type: ignore[union-attr]
    assert load_checklist(store, rid).state("t1.approval").status is Status.PENDING
    team.config.write_text(CONFIG.format(url=team.url, after=old.seq))
    code, report = team.verify()
    assert (code, report["identity"]) == (0, [])
    assert load_checklist(team.session().store, rid).state("t1.approval").status is Status.APPROVED


def test_without_allowed_signers_every_identity_is_claimed(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'c.db'}").open()
    ev = store.append(NewEvent("note", reason="hello"), Operator.fixed("alice"))
    assert not identity_verified(ev, None)
    assert current_operator({"USER": "x"}, signers=None).key is None
    store.close()


def test_the_operator_from_a_key_file_and_its_evidence_round_trip(team: Team) -> None:
    signers = Signers.load(team.root / "allowed_signers")
    operator = current_operator({}, signing_key=team.keys["bob"], signers=signers)
    assert operator.name == "bob" and operator.key is not None
    assert operator.key.source == "key file" and operator.signing_problem(signers) is None
    again = Operator.from_evidence(operator.evidence())
    assert again.name == "bob" and again.signing_key is None and again.actor == operator.actor
    assert again.signing_problem(signers) == ("sign_no_key", {})
    carol = with_key(Operator.fixed("carol"), key_from_file(team.keys["carol"], "t"), signers)
    assert carol.principal is None and carol.why_cannot_sign(signers, "approve") == (
        f"approve is signed here and the key {carol.key.value} is not in {signers.path} for this "
        "namespace: have it added, or use a key that is"
    )
    # COCKPIT_AS changes the name, not the key: bob's key cannot sign as dave.
    dave = replace(operator, acting_as=Claim("dave", False, "COCKPIT_AS"))
    assert dave.why_cannot_sign(signers, "approve") == (
        f"approve is signed here and the key {operator.key.value} signs as bob, not as dave"
    )


# --- over a real sshd: one shared login, a key per person -------------------------------------


def test_over_ssh_each_approval_is_attributed_to_its_key(
    team: Team,
    sshd: list[str],  # noqa: F811
) -> None:
    """alice and bob log in to the same account on the bastion with their own keys and agents
    forwarded (ssh -A); the cockpit there signs through each one's agent."""
    authorized = Path(sshd[sshd.index("-i") + 1]).parent / "authorized_keys"
    with authorized.open("a") as fh:
        for name in ("alice", "bob"):
            fh.write(Path(str(team.keys[name]) + ".pub").read_text())
    cockpit = shlex.join(["env", f"COCKPIT_CONFIG={team.config}", f"PYTHONPATH={REPO}", *COCKPIT])

    def over_ssh(who: str, *args: str) -> subprocess.CompletedProcess[str]:
        login = list(sshd)
        login[login.index("-i") + 1] = str(team.keys[who])
        return subprocess.run(
            [login[0], "-A", "-o", "IdentitiesOnly=yes", *login[1:],
             f"cd {shlex.quote(str(team.root))} && {cockpit} {shlex.join(args)}"],
            env={**clean_env(), "SSH_AUTH_SOCK": team.agents[who]},
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    plan = str(team.root / "signplan.yaml")
    done = over_ssh("alice", "release", "new", "--plan", plan, "--env", "production",
                    "--version", "1.4.0", "--t0", "2036-12-17T01:00", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    rid = json.loads(done.stdout)["id"]
    assert over_ssh("alice", "item", "done", rid, "t1.check").returncode == 0
    refused = over_ssh("alice", "item", "approve", rid, "t1.approval")
    assert refused.returncode == 1 and "four-eyes: alice prepared" in refused.stderr
    approved = over_ssh("bob", "item", "approve", rid, "t1.approval")
    assert approved.returncode == 0, approved.stderr
    store = team.session().store
    created, _check, approval = store.events(release_id=rid)
    for event, name in ((created, "alice"), (approval, "bob")):
        evidence = event.evidence_obj
        assert event.actor.split("@")[0] == name and identity_verified(event, store.signers)
        assert evidence["principal"]["value"] == name and evidence["ssh_origin"]["value"]
        assert evidence["key"]["value"] == key_from_file(team.keys[name], "t").fingerprint
    assert created.evidence_obj["login"] == approval.evidence_obj["login"]  # one shared login
    assert load_checklist(store, rid).state("t1.approval").status is Status.APPROVED
    assert team.verify()[0] == 0


# --- what signing costs -----------------------------------------------------------------------


def test_a_signed_approval_costs_under_50_ms_more_than_an_unsigned_one(team: Team) -> None:
    """The same approval on the same kind of log, signed through bob's agent and not."""
    import msgspec

    from cockpit.actions import decide
    from cockpit.config import IdentityConfig, LoadedConfig, parse_config_file
    from cockpit.release import create_release

    signed_config = parse_config_file(team.config)
    configs = {
        "signed": signed_config,
        "unsigned": msgspec.structs.replace(signed_config, identity=IdentityConfig()),
    }
    signers = Signers.load(team.root / "allowed_signers")
    timings: dict[str, list[float]] = {"signed": [], "unsigned": []}
    for run in range(5):
        for kind, config in configs.items():
            loaded = LoadedConfig(config, team.config)
            store = Store(f"sqlite:///{team.root / kind}-{run}.db").open()
            alice = Session(store=store, loaded=loaded, operator=Operator.fixed("alice"))
            rid = create_release(alice, plan=str(team.root / "signplan.yaml"),
                                 environment="production", version="1.4.0",
                                 t0="2026-12-16T01:00").id  # fmt: skip
            decide(alice, rid, "t1.check", "done")
            bob = (
                current_operator({"SSH_AUTH_SOCK": team.agents["bob"]}, signers=signers)
                if kind == "signed"
                else Operator.fixed("bob")
            )
            session = Session(store=store, loaded=loaded, operator=bob)
            started = time.perf_counter()
            event = decide(session, rid, "t1.approval", "approve")
            timings[kind].append(time.perf_counter() - started)
            assert (event.signature is not None) is (kind == "signed")
            store.close()
    signed = sorted(timings["signed"])[2] * 1000
    unsigned = sorted(timings["unsigned"])[2] * 1000
    print(f"\nsigned approval {signed:.1f} ms, unsigned {unsigned:.1f} ms (medians of 5)")
    assert signed - unsigned < 50


def test_a_production_takeover_needs_a_proven_second_operator(team: Team) -> None:
    """Taking over a live lease in production needs another operator's approval: with allowed
    signers it is signed, so nobody without a known key can give it."""
    rid = team.new_release("alice")  # production
    assert team.cli("alice", "lease", "take", rid).returncode == 0
    refused = team.cli("bob", "lease", "takeover", rid, "--reason", "alice is away")
    assert refused.returncode == 1 and "approve-takeover" in refused.stderr, refused.stderr
    # Someone with no key the allowed signers know cannot approve it (mallory's is not there).
    forged = team.cli(None, "lease", "approve-takeover", rid, "--for", "bob")
    assert forged.returncode != 0 and "no key" in forged.stderr, forged.stderr
    assert team.cli("bob", "lease", "takeover", rid, "--reason", "x").returncode == 1
    approved = team.cli("alice", "lease", "approve-takeover", rid, "--for", "bob")
    assert approved.returncode == 0, approved.stderr
    done = team.cli("bob", "lease", "takeover", rid, "--reason", "alice is away")
    assert done.returncode == 0, done.stderr
    store = team.session().store
    grant = next(
        ev for ev in store.events(release_id=rid) if ev.action == "lease.takeover_approved"
    )
    assert grant.signature and identity_verified(grant, store.signers)
