"""Probe kinds against real local counterparts: a TLS server with certificates made here, SQLite
and PostgreSQL for the sql probe, coverage.py's own JSON and XML reports, the demo application's
Alembic migrations; each with its deadline against something that never answers."""

from __future__ import annotations

import datetime as dt
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cockpit import demoapp
from cockpit.config import LoadedConfig, parse_config_text
from cockpit.plan import AlembicProbe, CoverageProbe, SqlProbe, TlsProbe
from cockpit.probes import CannotLook, preview, run_probe
from cockpit.runner import CheckFailed
from tests.dripserver import DripServer
from tests.services import create_database, free_port


def loaded_config(tmp_path: Path, extra: str = "") -> LoadedConfig:
    return LoadedConfig(
        parse_config_text(f"[environments.staging]\n{extra}"), tmp_path / "cockpit.toml"
    )


def failure(probe: object, loaded: LoadedConfig) -> tuple[str, dict[str, object]]:
    """The one line and the details of a probe that does not pass."""
    from cockpit.probes import run_check

    outcome: dict[str, object] = {}
    with pytest.raises(CheckFailed) as exc:
        run_check(probe, "staging", loaded.environment("staging"), loaded, outcome)  # type: ignore[arg-type]
    return str(exc.value), outcome


# --- tls -------------------------------------------------------------------------------------


@dataclass
class Certs:
    ca: Path
    server: dict[str, tuple[Path, Path]]  # server name -> (cert, key)


def make_certs(base: Path, days: dict[str, float]) -> Certs:
    """A CA and one server certificate per name, each expiring in ``days[name]`` days."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)

    def pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Cockpit Test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path = base / "ca.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    server: dict[str, tuple[Path, Path]] = {}
    for name, left in days.items():
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=left))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        cert_path, key_path = base / f"{name}.pem", base / f"{name}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(pem_key(key))
        server[name] = (cert_path, key_path)
    return Certs(ca_path, server)


class TlsServer:
    """A TLS server on 127.0.0.1 choosing its certificate by SNI (the first name by default)."""

    def __init__(self, certs: Certs) -> None:
        self.contexts: dict[str, ssl.SSLContext] = {}
        for name, (cert, key) in certs.server.items():
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self.contexts[name] = context
        default = next(iter(self.contexts.values()))

        def choose(sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
            if name in self.contexts:
                sock.context = self.contexts[name]

        default.sni_callback = choose  # type: ignore[assignment]
        self.default = default
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = int(self.listener.getsockname()[1])
        self.names_seen: list[str] = []
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            try:
                conn.settimeout(5)
                with self.default.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (ssl.SSLError, OSError):
                pass
            finally:
                conn.close()

    def stop(self) -> None:
        self._stop.set()
        self.listener.close()


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[TlsServer, Certs]]:
    certs = make_certs(tmp_path, {"app.example": 90, "soon.example": 5})
    server = TlsServer(certs)
    yield server, certs
    server.stop()


def test_tls_names_subject_issuer_and_expiry_and_fails_a_certificate_expiring_soon(
    tmp_path: Path, tls_server: tuple[TlsServer, Certs]
) -> None:
    server, certs = tls_server
    loaded = loaded_config(tmp_path)
    probe = TlsProbe(
        host="127.0.0.1", port=server.port, server_name="app.example", ca_file=str(certs.ca)
    )
    seen = run_probe(probe, "staging", loaded)
    assert seen["subject"] == "CN=app.example" and seen["issuer"] == "CN=Cockpit Test CA"
    assert 89 < seen["days_left"] <= 90 and seen["server_name"] == "app.example"
    assert len(seen["sha256"]) == 64 and seen["not_after"].endswith("Z")
    soon = TlsProbe(
        host="127.0.0.1", port=server.port, server_name="soon.example", ca_file=str(certs.ca)
    )
    line, details = failure(soon, loaded)
    assert details["subject"] == "CN=soon.example"
    assert line.startswith(f"127.0.0.1:{server.port} (soon.example): the certificate expires ")
    assert line.endswith("days (needs more than 30)")
    assert details["expected"] == "a valid certificate expiring in more than 30 days"
    assert str(details["seen"]).startswith("CN=soon.example issued by CN=Cockpit Test CA")
    # The same certificate passes a lower bar.
    assert (
        run_probe(
            TlsProbe(
                host="127.0.0.1",
                port=server.port,
                server_name="soon.example",
                ca_file=str(certs.ca),
                days=4,
            ),
            "staging",
            loaded,
        )["days_left"]
        > 4
    )


def test_tls_a_certificate_that_does_not_verify_fails_naming_what_it_is(
    tmp_path: Path, tls_server: tuple[TlsServer, Certs]
) -> None:
    server, certs = tls_server
    loaded = loaded_config(tmp_path)
    # The system's trust store does not know the test CA.
    line, details = failure(
        TlsProbe(host="127.0.0.1", port=server.port, server_name="app.example"), loaded
    )
    assert line.startswith(f"127.0.0.1:{server.port} (app.example): does not verify: ")
    assert "CN=app.example issued by CN=Cockpit Test CA" in str(details["seen"])
    # A name the certificate does not carry.
    line, _ = failure(
        TlsProbe(
            host="127.0.0.1", port=server.port, server_name="other.example", ca_file=str(certs.ca)
        ),
        loaded,
    )
    assert "does not verify" in line and "other.example" in line
    # Not verifying (an internal endpoint with a private CA): still the expiry check.
    seen = run_probe(
        TlsProbe(host="127.0.0.1", port=server.port, server_name="app.example", verify=False),
        "staging",
        loaded,
    )
    assert seen["subject"] == "CN=app.example"


def test_tls_deadline_and_connection_refused(tmp_path: Path) -> None:
    loaded = loaded_config(tmp_path)
    with DripServer("mute", lifetime=20) as mute:
        started = time.monotonic()
        with pytest.raises(CannotLook) as late:
            run_probe(TlsProbe(host="127.0.0.1", port=mute.port, timeout=1), "staging", loaded)
        assert time.monotonic() - started < 2.5
    assert str(late.value) == f"tls 127.0.0.1:{mute.port}: no answer within the timeout"
    closed = free_port()
    with pytest.raises(CannotLook) as refused:
        run_probe(TlsProbe(host="127.0.0.1", port=closed), "staging", loaded)
    assert str(refused.value) == f"tls 127.0.0.1:{closed}: cannot connect (Connection refused)"


# --- sql -------------------------------------------------------------------------------------

SCHEMA = [
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, "
    "customer_id INTEGER REFERENCES customers(id), total INTEGER NOT NULL)",
]


def fill(url: str, customers: int, orphan: bool = False) -> None:
    """The schema and ``customers`` rows with one order each; ``orphan``: one more order of a
    customer that does not exist (let in as a restore without constraints would)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        for statement in SCHEMA:
            conn.execute(sa.text(statement))
        for i in range(1, customers + 1):
            conn.execute(sa.text(f"INSERT INTO customers VALUES ({i}, 'c{i}')"))
            conn.execute(sa.text(f"INSERT INTO orders VALUES ({i}, {i}, {i * 10})"))
        if orphan:
            if engine.dialect.name == "postgresql":
                conn.execute(sa.text("SET session_replication_role = replica"))
            conn.execute(sa.text("INSERT INTO orders VALUES (999, 4242, 5)"))
    engine.dispose()


@pytest.fixture
def pg_source_target(pg_admin_url: str) -> tuple[str, str]:
    """Two PostgreSQL databases whose URLs carry a password (never checked: trust auth)."""
    n = os.getpid()
    urls = []
    for role in ("src", "dst"):
        url = create_database(pg_admin_url, f"probe_{role}_{n}_{time.monotonic_ns() % 10**6}")
        urls.append(url.replace("://app@", "://app:pw-s3cret-42@"))
    return urls[0], urls[1]


def test_sql_counts_source_vs_target_on_postgresql_never_shows_the_password(
    tmp_path: Path, pg_source_target: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target = pg_source_target
    fill(source, 3)
    fill(target, 3)
    monkeypatch.setenv("SOURCE_DB", source)
    monkeypatch.setenv("TARGET_DB", target)
    loaded = loaded_config(tmp_path)
    count = SqlProbe(
        url_env="TARGET_DB", query="SELECT count(*) FROM orders", compare_env="SOURCE_DB"
    )
    seen = run_probe(count, "staging", loaded)
    assert seen["value"] == 3 and seen["compare_value"] == 3
    assert "pw-s3cret-42" not in repr(seen) and seen["database"].startswith(
        "postgresql+psycopg://app:***@"
    )
    fill_more = source.replace("pw-s3cret-42", "x")
    import sqlalchemy as sa

    engine = sa.create_engine(fill_more, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO customers VALUES (4, 'c4')"))
        conn.execute(sa.text("INSERT INTO orders VALUES (4, 4, 40)"))
    engine.dispose()
    line, details = failure(count, loaded)
    assert details["value"] == 3 and details["compare_value"] == 4
    assert details["expected"] == "4 as on " + str(details["compare_database"])
    assert line == f"3 on {details['database']}, expected 4 as on {details['compare_database']}"
    assert "pw-s3cret-42" not in line + repr(details)
    # An expected value and a range.
    assert (
        run_probe(
            SqlProbe(url_env="SOURCE_DB", query="SELECT sum(total) FROM orders", expect=100),
            "staging",
            loaded,
        )["value"]
        == 100
    )
    line, _ = failure(
        SqlProbe(url_env="SOURCE_DB", query="SELECT max(total) FROM orders", max=30), loaded
    )
    assert line == "40, expected <= 30"


def test_sql_foreign_key_violations_and_no_rows_on_postgresql(
    tmp_path: Path, pg_source_target: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    good, bad = pg_source_target
    fill(good, 2)
    fill(bad, 2, orphan=True)
    monkeypatch.setenv("GOOD_DB", good)
    monkeypatch.setenv("BAD_DB", bad)
    loaded = loaded_config(tmp_path)
    assert run_probe(SqlProbe(url_env="GOOD_DB", form="foreign_keys"), "staging", loaded) == {
        "database": good.replace("pw-s3cret-42", "***"),
        "form": "foreign_keys",
        "violations": 0,
        "by_constraint": {},
    }
    line, details = failure(SqlProbe(url_env="BAD_DB", form="foreign_keys"), loaded)
    assert line == (
        "1 row(s) violating a foreign key (orders.orders_customer_id_fkey: 1), "
        "expected no rows violating a foreign key"
    )
    negative = SqlProbe(
        url_env="BAD_DB",
        form="no_rows",
        query="SELECT id, total FROM orders WHERE customer_id NOT IN (SELECT id FROM customers)",
    )
    line, details = failure(negative, loaded)
    assert line == "1 row(s): 999, 5, expected no rows" and details["first"] == [[999, 5]]
    assert (
        run_probe(
            SqlProbe(
                url_env="GOOD_DB", form="no_rows", query="SELECT id FROM orders WHERE total < 0"
            ),
            "staging",
            loaded,
        )["rows"]
        == 0
    )


def test_sql_is_read_only(
    tmp_path: Path, pg_source_target: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    url, _ = pg_source_target
    fill(url, 2)
    lite = tmp_path / "app.db"
    fill(f"sqlite:///{lite}", 2)
    monkeypatch.setenv("PG_DB", url)
    monkeypatch.setenv("LITE_DB", f"sqlite:///{lite}")
    loaded = loaded_config(tmp_path)
    for name in ("PG_DB", "LITE_DB"):
        delete = SqlProbe(url_env=name, form="no_rows", query="DELETE FROM orders RETURNING id")
        with pytest.raises(CannotLook) as refused:
            run_probe(delete, "staging", loaded)
        assert "(the probe's transaction is read-only)" in str(refused.value), str(refused.value)
        assert "pw-s3cret-42" not in str(refused.value)
        count = SqlProbe(url_env=name, query="SELECT count(*) FROM orders", expect=2)
        assert run_probe(count, "staging", loaded)["value"] == 2
    with sqlite3.connect(lite) as conn:
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (2,)


def test_sql_on_sqlite_counts_foreign_keys_and_a_missing_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target = tmp_path / "source.db", tmp_path / "target.db"
    fill(f"sqlite:///{source}", 3)
    fill(f"sqlite:///{target}", 2, orphan=True)
    monkeypatch.setenv("SRC", f"sqlite:///{source}")
    monkeypatch.setenv("DST", f"sqlite:///{target}")
    loaded = loaded_config(tmp_path)
    _line, details = failure(
        SqlProbe(url_env="DST", query="SELECT count(*) FROM customers", compare_env="SRC"), loaded
    )
    assert (details["value"], details["compare_value"]) == (2, 3)
    _, details = failure(SqlProbe(url_env="DST", form="foreign_keys"), loaded)
    assert details["violations"] == 1 and details["by_constraint"] == {"orders.fk0->customers": 1}
    assert (
        run_probe(SqlProbe(url_env="SRC", form="foreign_keys"), "staging", loaded)["violations"]
        == 0
    )
    monkeypatch.setenv("GONE", f"sqlite:///{tmp_path / 'typo.db'}")
    with pytest.raises(CannotLook) as missing:
        run_probe(SqlProbe(url_env="GONE", query="SELECT 1", expect=1), "staging", loaded)
    assert "unable to open database file" in str(missing.value)
    assert not (tmp_path / "typo.db").exists()  # never an empty database made on a typo
    monkeypatch.delenv("NOT_SET", raising=False)
    with pytest.raises(CannotLook) as unset:
        run_probe(SqlProbe(url_env="NOT_SET", query="SELECT 1", expect=1), "staging", loaded)
    assert str(unset.value) == "sql: NOT_SET is not set (export the database URL in that variable)"


def test_sql_deadline_against_a_server_that_never_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = loaded_config(tmp_path)
    with DripServer("mute", lifetime=20) as mute:
        monkeypatch.setenv(
            "MUTE_DB", f"postgresql+psycopg://app:pw-s3cret-42@127.0.0.1:{mute.port}/x"
        )
        started = time.monotonic()
        with pytest.raises(CheckFailed) as late:
            run_probe(
                SqlProbe(url_env="MUTE_DB", query="SELECT 1", expect=1, timeout=1),
                "staging",
                loaded,
            )
        took = time.monotonic() - started
    assert took < 3.5, took
    assert "pw-s3cret-42" not in str(late.value)
    assert str(late.value) == "sql: no answer within 1 s (the probe's timeout)"


def test_sql_preview_names_the_variable_not_the_url(tmp_path: Path) -> None:
    loaded = loaded_config(tmp_path)
    probe = SqlProbe(
        url_env="TARGET_DB", query="SELECT count(*) FROM orders", compare_env="SOURCE_DB"
    )
    assert preview(probe, "staging", loaded.environment("staging"), loaded) == (
        "SELECT count(*) FROM orders on $TARGET_DB: the same value as on $SOURCE_DB"
    )


# --- coverage --------------------------------------------------------------------------------

MODULE = """\
def covered(x):
    if x > 0:
        return "positive"
    return "other"


def never():
    a = 1
    b = 2
    return a + b


covered(1)
"""


def coverage(tmp_path: Path, *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "coverage", *args],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def test_coverage_reads_coverage_py_json_and_xml_as_coverage_py_totals_them(
    tmp_path: Path,
) -> None:
    (tmp_path / "mod.py").write_text(MODULE)
    coverage(tmp_path, "run", "--branch", "mod.py")
    coverage(tmp_path, "json", "-o", "coverage.json")
    coverage(tmp_path, "xml", "-o", "coverage.xml")
    total = float(coverage(tmp_path, "report", "--precision=2", "--format=total"))
    assert 40 < total < 80
    loaded = loaded_config(tmp_path)
    for report, fmt in (("coverage.json", "coverage.py json"), ("coverage.xml", "cobertura xml")):
        seen = run_probe(CoverageProbe(path=report, min_percent=total - 1), "staging", loaded)
        assert seen["percent"] == pytest.approx(total, abs=0.006) and seen["format"] == fmt
        line, details = failure(CoverageProbe(path=report, min_percent=90), loaded)
        assert line == f"{tmp_path / report}: {total:.2f} % covered, at least 90 %"
        assert (
            details["seen"] == f"{total:.2f} % covered" and details["expected"] == "at least 90 %"
        )
    (tmp_path / "junk.txt").write_text("hello")
    with pytest.raises(CannotLook) as junk:
        run_probe(CoverageProbe(path="junk.txt"), "staging", loaded)
    assert (
        str(junk.value)
        == f"{tmp_path / 'junk.txt'}: not a coverage report (coverage.py JSON or Cobertura XML)"
    )
    with pytest.raises(CannotLook) as missing:
        run_probe(CoverageProbe(path="nothing.xml"), "staging", loaded)
    assert str(missing.value).endswith("does not exist (coverage json or xml writes it)")


def test_coverage_deadline_on_a_report_that_never_comes(tmp_path: Path) -> None:
    fifo = tmp_path / "coverage.json"
    os.mkfifo(fifo)  # opening it blocks until a writer comes: none will
    loaded = loaded_config(tmp_path)
    started = time.monotonic()
    with pytest.raises(CannotLook) as late:
        run_probe(CoverageProbe(path="coverage.json", timeout=0.5), "staging", loaded)
    assert time.monotonic() - started < 2.5
    assert str(late.value) == "coverage: no answer within 0.5 s (the probe's timeout)"
    with open(fifo, "wb"):  # let the abandoned reader go
        pass


# --- alembic ---------------------------------------------------------------------------------


def test_alembic_no_pending_revision_and_exactly_the_expected_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_steps_local import migrate_in_process

    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("DEMOAPP_DATABASE_URL", url)
    command = ", ".join(f'"{arg}"' for arg in demoapp.alembic_command())
    loaded = loaded_config(
        tmp_path,
        f'[environments.staging.alembic]\ncommand = [{command}]\ncwd = "{tmp_path}"\n'
        'database_url_env = "DEMOAPP_DATABASE_URL"\n',
    )
    migrate_in_process("0001_datasets")
    line, details = failure(AlembicProbe(), loaded)
    assert details["pending"] == ["0002_owner", "0003_seed"]
    assert (
        line == "current 0001_datasets, pending 0002_owner, 0003_seed, expected no pending revision"
    )
    before = run_probe(AlembicProbe(pending=["0003_seed", "0002_owner"]), "staging", loaded)
    assert before["current"] == ["0001_datasets"]
    migrate_in_process("head")
    assert run_probe(AlembicProbe(), "staging", loaded)["pending"] == []
    line, _ = failure(AlembicProbe(pending=["0002_owner"]), loaded)
    assert (
        line == "current 0003_seed, no pending revision, expected exactly these pending: 0002_owner"
    )


def test_alembic_deadline_on_a_command_that_hangs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HANG_DB", "sqlite:///x.db")
    loaded = loaded_config(
        tmp_path,
        "[environments.staging.alembic]\n"
        f'command = ["{sys.executable}", "-c", "import time; time.sleep(60)"]\n'
        'database_url_env = "HANG_DB"\n',
    )
    started = time.monotonic()
    with pytest.raises(CannotLook) as late:
        run_probe(AlembicProbe(timeout=1), "staging", loaded)
    assert time.monotonic() - started < 3
    assert "timed out after" in str(late.value)
