"""Evidence for auditors: the log read from a read-only copy, checkpoints validated, and a broken
chain that stops growing until the break is acknowledged (SQLite files, and PostgreSQL where the
store itself is tested)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from cockpit.errors import AppendFailed, EventRejected, UsageError
from cockpit.events import NewEvent
from cockpit.operator import Operator
from cockpit.store import Store
from cockpit.verify import GAP, TRUNCATED
from cockpit.vocabulary import AUDIT_BREAK_ACKNOWLEDGED
from tests import tamper
from tests.test_audit_chain import fill
from tests.test_cli import cli, new_release, workspace  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("workspace")
HASH = "ab" * 32
GAP_4 = "audit chain BROKEN: GAP at seq 4: seq 4 is missing (next is 5)"


def acknowledgement(seq: int, reason: str = "restored from backup; seq lost") -> NewEvent:
    return NewEvent(
        action=AUDIT_BREAK_ACKNOWLEDGED, reason=reason, details={"seq": seq, "code": "GAP"}
    )


def snapshot(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    return {
        p.name: (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_mode) for p in folder.iterdir()
    }


# ------------------------------------------------------------------ read-only evidence


def test_verify_and_export_work_on_a_read_only_copy(tmp_path: Path) -> None:
    rid = new_release()
    for i in range(4):
        assert cli("note", "--release", rid, f"n{i}")[0] == 0
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    # An auditor's copy: the database file (as SQLite's backup makes it), the checkpoint and a
    # config naming them, then no write bit on any of them or on their directory.
    with sqlite3.connect(tmp_path / "cockpit.db") as src, sqlite3.connect(evidence / "c.db") as dst:
        src.backup(dst)
    (evidence / "cp.json").write_bytes((tmp_path / "checkpoint.json").read_bytes())
    config = evidence / "cockpit.toml"
    config.write_text('[database]\nurl = "sqlite:///c.db"\n[audit]\ncheckpoint = "cp.json"\n')
    for path in evidence.iterdir():
        path.chmod(0o444)
    evidence.chmod(0o555)
    before = snapshot(evidence)
    try:
        code, out, err = cli("--config", str(config), "audit", "verify")
        assert code == 0, err
        assert out.startswith("audit chain ok: 5 events, head #5") and "checkpoint seq 5" in out
        code, out, err = cli("--config", str(config), "audit", "export", "--release", rid[:6])
        assert code == 0, err
        assert [json.loads(line)["seq"] for line in out.splitlines()] == [1, 2, 3, 4, 5]
        assert snapshot(evidence) == before  # nothing written, not even -wal or -shm files
    finally:
        evidence.chmod(0o755)


def test_a_read_only_store_reads_and_never_writes(db_url: str, alice: Operator) -> None:
    writer = Store(db_url).open()
    fill(writer, alice, 3)
    writer.close()
    reader = Store(db_url, read_only=True).open()
    try:
        report = reader.verify()
        assert report.ok and report.count == 3
        with pytest.raises(AppendFailed):
            reader.append(NewEvent(action="note", reason="no"), alice)
    finally:
        reader.close()
    assert len(Store(db_url).open().rows()) == 3


def test_a_read_only_store_without_a_log_says_so(db_url: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no audit log here"):
        Store(db_url, read_only=True).open()
    assert not (tmp_path / "cockpit.db").exists()


def test_verify_and_export_without_a_log_exit_2_with_one_line() -> None:
    here = Path.cwd()
    for argv in (["audit", "verify"], ["audit", "export"]):
        code, out, err = cli(*argv)
        assert code == 2 and out == ""
        assert err == f"cockpit: {here / 'cockpit.db'}: no audit log here (check [database] url)\n"
    assert sorted(p.name for p in here.iterdir()) == ["cockpit.toml"]


@pytest.mark.parametrize(
    ("record", "wrong"),
    [
        ({"seq": -3, "hash": HASH}, "seq must be a positive integer, not -3"),
        ({"seq": 2.5, "hash": HASH}, "seq must be a positive integer, not 2.5"),
        ({"seq": "5", "hash": HASH}, 'seq must be a positive integer, not "5"'),
        ({"seq": 5, "hash": "g" * 64}, "hash must be 64 lowercase hex digits"),
        ({"seq": 5, "hash": HASH.upper()}, "hash must be 64 lowercase hex digits"),
        ({"seq": 5, "hash": "ab12"}, 'hash must be 64 lowercase hex digits, not "ab12"'),
    ],
)
def test_a_bad_checkpoint_is_one_line_and_exit_2(record: dict[str, object], wrong: str) -> None:
    here = Path.cwd()
    new_release()
    (here / "bad.json").write_text(json.dumps(record))
    code, out, err = cli("audit", "verify", "--checkpoint", "bad.json")
    assert code == 2 and out == ""
    assert err.startswith(f"cockpit: bad.json: not a valid checkpoint: {wrong}")
    assert err.count("\n") == 1
    # The configured checkpoint is checked the same way.
    (here / "checkpoint.json").write_text(json.dumps(record))
    code, _, err = cli("audit", "verify")
    assert code == 2 and "not a valid checkpoint" in err and err.count("\n") == 1


# ------------------------------------------------------------------ a broken chain stops growing


def test_a_deleted_event_stops_appends_until_acknowledged() -> None:
    here = Path.cwd()
    rid = new_release()
    for i in range(4):
        cli("note", "--release", rid, f"n{i}")
    tamper.run(Store(f"sqlite:///{here / 'cockpit.db'}"), "DELETE FROM events WHERE seq = 4")
    code, out, err = cli("note", "after the break")
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "broken at seq 4 (GAP" in err and "`cockpit audit verify`" in err
    assert "cockpit audit acknowledge --seq 4" in err
    assert cli("audit", "verify")[1] == GAP_4 + "\n"

    code, _, err = cli("audit", "acknowledge", "--seq", "3", "--reason", "x")
    assert code == 2 and "seq 3 is not where the chain breaks: GAP at seq 4" in err
    code, _, err = cli("audit", "acknowledge", "--seq", "4", "--reason", "  ")
    assert code == 2 and "--reason" in err
    code, out, _ = cli("audit", "acknowledge", "--seq", "4", "--reason", "row lost in a restore")
    assert code == 0 and out.startswith("break at seq 4 (GAP) acknowledged as #6 by ")

    code, out, _ = cli("note", "after the acknowledgement")
    assert code == 0 and out.startswith("noted as #7")
    code, out, _ = cli("audit", "verify")
    lines = out.splitlines()
    assert code == 1 and lines[0] == GAP_4
    assert lines[1].startswith("break at seq 4 (GAP) acknowledged as #6 by ")
    assert lines[1].endswith(": row lost in a restore")
    result = json.loads(cli("audit", "verify", "--json")[1])
    assert result["ok"] is False and result["acknowledged"][0]["seq"] == 6
    assert result["acknowledged"][0]["break"]["seq"] == 4


def test_acknowledging_an_intact_chain_is_refused() -> None:
    new_release()
    code, _, err = cli("audit", "acknowledge", "--seq", "1", "--reason", "why not")
    assert code == 2 and err == (
        "cockpit: the audit chain is intact: there is no break to acknowledge\n"
    )


def test_append_checks_the_tail_it_links_to(store: Store, alice: Operator) -> None:
    fill(store, alice)
    tamper.run(store, "DELETE FROM events WHERE seq = 9")
    with pytest.raises(AppendFailed, match=r"broken at seq 9 \(GAP"):
        store.append(NewEvent(action="note", reason="on a broken tail"), alice)
    with pytest.raises(AppendFailed, match="broken at seq 9"):  # another seq does not unlock it
        store.append(acknowledgement(8), alice)
    with pytest.raises(EventRejected):
        store.append(acknowledgement(9, reason=""), alice)
    ack = store.append(acknowledgement(9), alice)
    assert store.append(NewEvent(action="note", reason="goes on"), alice).seq == ack.seq + 1
    problem = store.verify().problem
    assert problem is not None and (problem.code, problem.seq) == (GAP, 9)


def test_an_edited_last_row_stops_appends(store: Store, alice: Operator) -> None:
    fill(store, alice, 3)
    tamper.rewrite(store, 3, rehash=False, reason="edited")
    with pytest.raises(AppendFailed, match=r"broken at seq 3 \(HASH_MISMATCH"):
        store.append(NewEvent(action="note", reason="x"), alice)


def test_a_cut_tail_acknowledged_moves_the_checkpoint(
    store: Store, alice: Operator, checkpoint_file: Path
) -> None:
    fill(store, alice)
    tamper.cut_tail(store, keep=7)
    finding = store.tail_finding()
    assert finding is not None and (finding.code, finding.seq) == (TRUNCATED, 8)
    with pytest.raises(AppendFailed, match=r"broken at seq 8 \(TRUNCATED"):
        store.append(NewEvent(action="note", reason="x"), alice)
    store.append(acknowledgement(8), alice)
    assert store.tail_finding() is None
    assert store.append(NewEvent(action="note", reason="goes on"), alice).seq == 9
    assert json.loads(checkpoint_file.read_text())["seq"] == 9


def test_a_writable_log_opened_read_only_leaves_the_writer_working(
    store: Store, alice: Operator
) -> None:
    fill(store, alice, 2)
    reader = Store(store.url, read_only=True).open()
    assert reader.verify().count == 2
    fill(store, alice, 1)
    assert reader.verify().count == 3
    reader.close()


def test_a_cut_tail_with_the_head_left_behind_acknowledged(store: Store, alice: Operator) -> None:
    fill(store, alice)
    tamper.run(store, "DELETE FROM events WHERE seq > 7")
    with pytest.raises(AppendFailed, match=r"broken at seq 8 \(TRUNCATED: the chain head says"):
        store.append(NewEvent(action="note", reason="x"), alice)
    ack = store.append(acknowledgement(8), alice)
    assert ack.seq == 11  # after the head the database still records
    assert store.append(NewEvent(action="note", reason="goes on"), alice).seq == 12
    problem = store.verify().problem
    assert problem is not None and (problem.code, problem.seq) == (GAP, 8)
