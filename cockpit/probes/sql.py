"""The ``sql`` probe: a read-only query against a database named by a variable.

The URL comes from the environment variable ``url_env`` (never from the plan or cockpit.toml),
and is only ever shown with its password masked (:func:`cockpit.urls.redact_url`); a driver's
message has the URL's secrets masked too. Every query runs in a read-only transaction that is
rolled back: SQLite is opened read-only (``mode=ro``, ``query_only``; a missing file is an
error, never an empty database), PostgreSQL with ``default_transaction_read_only`` and a
``statement_timeout`` of what is left of the probe's timeout.

Forms: ``value`` (one value, compared with ``expect``, ``min`` / ``max``, or the same query on
``compare_env``'s database: record counts source vs target), ``no_rows`` (the rows an integrity
query gives are the violations) and ``foreign_keys`` (rows violating a foreign key: SQLite's
``PRAGMA foreign_key_check``; on PostgreSQL one ``NOT EXISTS`` count per constraint, which finds
what ``NOT VALID`` constraints or disabled triggers let in).
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

from cockpit.events import redact_text
from cockpit.plan.probes import SqlProbe
from cockpit.probes.base import CannotLook, ProbeContext, ProbeKind, Result
from cockpit.urls import redact_url, url_secrets

SHOWN_ROWS = 3
MAX_ROWS = 1000

_PG_FOREIGN_KEYS = """
SELECT c.conname,
       c.conrelid::regclass::text,
       c.confrelid::regclass::text,
       ARRAY(SELECT quote_ident(a.attname) FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
       ARRAY(SELECT quote_ident(a.attname) FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)
FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
WHERE c.contype = 'f' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 2, 1
"""


class SqlProbeKind(ProbeKind):
    name = "sql"

    def preview(self, spec: SqlProbe, ctx: ProbeContext) -> str:
        where = f"${spec.url_env}"
        if spec.form == "foreign_keys":
            return f"rows violating a foreign key in {where}: none"
        if spec.form == "no_rows":
            return f"{spec.query} on {where}: no rows"
        return f"{spec.query} on {where}: {_expected(spec)}"

    def run(self, spec: SqlProbe, ctx: ProbeContext) -> Result:
        url = _url(spec.url_env)
        db = _Database(url, spec.url_env, ctx)
        details: dict[str, Any] = {"database": db.shown, "form": spec.form}
        if spec.form == "foreign_keys":
            found = db.foreign_key_violations()
            count = sum(found.values())
            details |= {"violations": count, "by_constraint": found}
            shown = ", ".join(f"{name}: {n}" for name, n in list(found.items())[:SHOWN_ROWS])
            seen = f"{count} row(s) violating a foreign key" + (f" ({shown})" if shown else "")
            return Result(count == 0, seen, "no rows violating a foreign key", details)
        if not spec.query.strip():
            raise CannotLook(f"sql: form {spec.form} needs a query")
        if spec.form == "no_rows":
            rows = db.rows(spec.query, MAX_ROWS + 1)
            more = "+" if len(rows) > MAX_ROWS else ""
            details |= {"rows": min(len(rows), MAX_ROWS), "first": rows[:SHOWN_ROWS]}
            shown = "; ".join(", ".join(map(str, row)) for row in rows[:SHOWN_ROWS])
            seen = f"{min(len(rows), MAX_ROWS)}{more} row(s)" + (f": {shown}" if rows else "")
            return Result(not rows, seen, "no rows", details)
        value = db.value(spec.query)
        details["value"] = _plain(value)
        seen = f"{_plain(value)}"
        if spec.compare_env:
            other = _Database(_url(spec.compare_env), spec.compare_env, ctx)
            against = other.value(spec.query)
            details |= {"compare_database": other.shown, "compare_value": _plain(against)}
            ok = _equal(value, against)
            return Result(
                ok, f"{seen} on {db.shown}", f"{_plain(against)} as on {other.shown}", details
            )
        if spec.expect is None and spec.min is None and spec.max is None:
            raise CannotLook("sql: nothing to compare with (set expect, min, max or compare_env)")
        ok = value is not None and (spec.expect is None or _equal(value, spec.expect))
        number = _number(value)
        if spec.min is not None:
            ok = ok and number is not None and number >= spec.min
        if spec.max is not None:
            ok = ok and number is not None and number <= spec.max
        return Result(ok, seen, _expected(spec), details)


def _expected(spec: SqlProbe) -> str:
    if spec.compare_env:
        return f"the same value as on ${spec.compare_env}"
    parts = [] if spec.expect is None else [f"= {spec.expect}"]
    parts += [] if spec.min is None else [f">= {spec.min:g}"]
    parts += [] if spec.max is None else [f"<= {spec.max:g}"]
    return " and ".join(parts) or "a value"


def _url(name: str) -> str:
    url = os.environ.get(name, "")
    if not url:
        raise CannotLook(f"sql: {name} is not set (export the database URL in that variable)")
    return url


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | Decimal):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _equal(a: Any, b: Any) -> bool:
    x, y = _number(a), _number(b)
    if x is not None and y is not None:
        return x == y
    return a is not None and b is not None and str(a) == str(b)


def _plain(value: Any) -> Any:
    """A value as JSON can record it."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return str(value)


class _Database:
    """One database, opened read-only for one probe."""

    def __init__(self, url: str, variable: str, ctx: ProbeContext) -> None:
        self.url = url
        self.variable = variable
        self.ctx = ctx
        self.shown = redact_url(url)
        self._hidden = sorted({url, *url_secrets(url)} - {""}, key=len, reverse=True)

    def _fail(self, exc: BaseException) -> CannotLook:
        text = " ".join(str(getattr(exc, "orig", None) or exc).split())
        for value in self._hidden:
            text = text.replace(value, "***")
        text = redact_text(text)[:300]
        if "read-only" in text or "readonly" in text or "query_only" in text:
            text += " (the probe's transaction is read-only)"
        return CannotLook(f"sql {self.shown}: {text}")

    def _engine(self) -> Any:
        import sqlalchemy as sa

        try:
            url = sa.engine.make_url(self.url)
        except sa.exc.ArgumentError:
            raise CannotLook(
                f"sql: {self.variable} does not hold a database URL "
                "(e.g. postgresql+psycopg://user@host/db or sqlite:///path)"
            ) from None
        left = self.ctx.remaining()
        if url.get_backend_name() == "sqlite":
            import sqlite3

            path = url.database or ""
            if not path or path == ":memory:":
                raise CannotLook(f"sql {self.shown}: an SQLite URL needs a file")

            def connect() -> sqlite3.Connection:
                conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=left)
                conn.execute("PRAGMA query_only = ON")
                return conn

            return sa.create_engine("sqlite://", creator=connect, poolclass=sa.pool.NullPool)
        args: dict[str, Any] = {}
        if url.get_backend_name() == "postgresql":
            ms = int(left * 1000)
            args = {
                "connect_timeout": max(2, int(left)),
                "options": f"-c default_transaction_read_only=on -c statement_timeout={ms}",
            }
        return sa.create_engine(url, connect_args=args, poolclass=sa.pool.NullPool)

    def _run(self, work: Any) -> Any:
        import sqlalchemy as sa

        engine = self._engine()
        try:
            with engine.connect() as conn:
                if engine.dialect.name not in ("sqlite", "postgresql"):
                    conn.execute(sa.text("SET TRANSACTION READ ONLY"))
                try:
                    return work(conn)
                finally:
                    conn.rollback()
        except sa.exc.SQLAlchemyError as exc:
            raise self._fail(exc) from None
        finally:
            engine.dispose()

    def rows(self, query: str, limit: int) -> list[list[Any]]:
        import sqlalchemy as sa

        def work(conn: Any) -> list[list[Any]]:
            result = conn.execute(sa.text(query))
            if not result.returns_rows:
                return []
            return [[_plain(v) for v in row] for row in result.fetchmany(limit)]

        return list(self._run(work))

    def value(self, query: str) -> Any:
        import sqlalchemy as sa

        def work(conn: Any) -> Any:
            result = conn.execute(sa.text(query))
            row = result.first() if result.returns_rows else None
            if row is None:
                raise CannotLook(f"sql {self.shown}: the query gives no row (expected one value)")
            return row[0]

        return self._run(work)

    def foreign_key_violations(self) -> dict[str, int]:
        """Rows violating each foreign key, by ``table.constraint`` (only those with any)."""
        import sqlalchemy as sa

        def work(conn: Any) -> dict[str, int]:
            found: dict[str, int] = {}
            if conn.dialect.name == "sqlite":
                for table, _rowid, parent, fkid in conn.exec_driver_sql("PRAGMA foreign_key_check"):
                    key = f"{table}.fk{fkid}->{parent}"
                    found[key] = found.get(key, 0) + 1
                return found
            if conn.dialect.name != "postgresql":
                raise CannotLook(
                    f"sql {self.shown}: foreign_keys is for SQLite and PostgreSQL; "
                    "use form no_rows with a query of your own"
                )
            for name, child, parent, cols, refcols in conn.execute(sa.text(_PG_FOREIGN_KEYS)):
                present = " AND ".join(f"c.{col} IS NOT NULL" for col in cols)
                match = " AND ".join(f"p.{r} = c.{c}" for c, r in zip(cols, refcols, strict=True))
                count = conn.execute(
                    sa.text(
                        f"SELECT count(*) FROM {child} c WHERE {present} AND NOT EXISTS "
                        f"(SELECT 1 FROM {parent} p WHERE {match})"
                    )
                ).scalar()
                if count:
                    found[f"{child}.{name}"] = int(count)
            return found

        return dict(self._run(work))
