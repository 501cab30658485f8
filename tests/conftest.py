from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cockpit.operator import Operator
from cockpit.store import Store
from tests.services import HttpService, create_database, postgres_server

_db_names = itertools.count(1)
_COCKPIT_LOGGER = (
    list(logging.getLogger("cockpit").handlers),
    logging.getLogger("cockpit").propagate,
)


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """One real PostgreSQL server for the whole run (started by hand, see TESTING.md)."""
    with postgres_server() as url:
        yield url


@pytest.fixture
def pg_url(pg_admin_url: str) -> str:
    return create_database(pg_admin_url, f"t{next(_db_names)}")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cockpit.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def checkpoint_file(tmp_path: Path) -> Path:
    return tmp_path / "checkpoint.json"


@pytest.fixture
def store(db_url: str, checkpoint_file: Path) -> Iterator[Store]:
    s = Store(db_url, checkpoint_file=checkpoint_file).open()
    yield s
    s.close()


@pytest.fixture
def alice() -> Operator:
    return Operator.fixed("alice", "bastion-1")


@pytest.fixture
def http_service() -> Iterator[HttpService]:
    """A local HTTP service (see :class:`tests.services.HttpService`), stopped after the test."""
    service = HttpService()
    yield service
    service.stop()


@pytest.fixture(autouse=True)
def _t0_judged_on_a_fixed_day(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new release's T-0 is refused in the past: the tests' T-0s (2026-12-16, a third
    Wednesday) are judged on 2026-11-23, whatever the real date. Tests of that rule pass their
    own ``now``; commands run as subprocesses use T-0s years ahead."""
    import cockpit.release

    day = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    monkeypatch.setattr(cockpit.release, "t0_clock", lambda _session: day)


@pytest.fixture(autouse=True)
def _cockpit_logger_restored() -> Iterator[None]:
    """`cockpit.cli.main()` run in-process gives the `cockpit` logger a stderr handler and
    stops propagation (as the command does), sometimes in a module-scoped fixture; put the
    logger back as it was when the tests began, so every test's caplog sees warnings."""
    yield
    logger = logging.getLogger("cockpit")
    logger.handlers[:] = _COCKPIT_LOGGER[0]
    logger.propagate = _COCKPIT_LOGGER[1]
