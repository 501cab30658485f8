"""Fuzzing what the operator hands the cockpit: any config text, plan bytes, checkpoint bytes or
argument vector gives a parsed value or a :class:`CockpitError` whose message is one line, never
another exception. Bounded: about 200 examples each, a few seconds per test.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cockpit.checkpoint import read_checkpoint
from cockpit.cli import main
from cockpit.config import parse_config_text
from cockpit.errors import CockpitError
from cockpit.plan import parse_plan_bytes

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Pieces of the real formats, so the fuzzer reaches past the first syntax error.
TOML_PIECES = [
    "[database]\n",
    "[audit]\n",
    "[change_window]\n",
    "[environments.staging]\n",
    "[roles]\n",
    'url = "sqlite:///x.db"\n',
    "url = 5\n",
    "rehearsal = true\n",
    'timezone = "Asia/Tokyo"\n',
    "checkpoint = nan\n",
    "busy_timeout_ms = 99999999999999999999\n",
    "x = [1, {a = 2}]\n",
    "= \n",
    '"\\u0000" = 1\n',
]
YAML_PIECES = [
    "name: release\n",
    "phases:\n",
    "  - id: t0\n",
    "    items:\n",
    "      - check: {id: t0.a, title_ja: a, title_en: a}\n",
    "      - step: {id: t0.b, run: {kind: shell, argv: [x]}}\n",
    "title_ja: x\ntitle_en: y\n",
    "offset_days: -1e400\n",
    "a: &a [*a]\n",
    "b: !!python/object:os.system x\n",
    "- [",
    "\t",
    "? ",
]


def one_line(err: CockpitError) -> None:
    text = str(err)
    assert text and "\n" not in text and "\r" not in text, repr(text)


@FUZZ
@given(
    st.one_of(
        st.text(max_size=300),
        st.lists(st.sampled_from(TOML_PIECES), max_size=8).map("".join),
        st.lists(st.sampled_from(TOML_PIECES) | st.text(max_size=10), max_size=8).map("".join),
    )
)
def test_config_text(text: str) -> None:
    try:
        parse_config_text(text, "fuzz.toml")
    except CockpitError as err:
        one_line(err)


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=300),
        st.lists(st.sampled_from(YAML_PIECES), max_size=10).map(lambda p: "".join(p).encode()),
        st.lists(st.sampled_from(YAML_PIECES) | st.text(max_size=10), max_size=10).map(
            lambda p: "".join(p).encode("utf-8", "surrogatepass")
        ),
    )
)
def test_plan_bytes(data: bytes) -> None:
    try:
        parse_plan_bytes(data, "fuzz.yaml", expected_name="release")
    except CockpitError as err:
        one_line(err)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=70),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=300),
        st.fixed_dictionaries({"seq": JSON_VALUES, "hash": JSON_VALUES}).map(
            lambda d: json.dumps(d).encode()
        ),
        st.sampled_from([b"[" * 100_000, b'{"seq": 1e400, "hash": "x"}', b"\xef\xbb\xbf{}"]),
    )
)
def test_checkpoint_bytes(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "checkpoint.json"
        path.write_bytes(data)
        try:
            read_checkpoint(path)
        except CockpitError as err:
            one_line(err)


WORDS = [
    "release",
    "new",
    "list",
    "show",
    "item",
    "done",
    "attach",
    "preview",
    "rollback",
    "plan",
    "validate",
    "audit",
    "tail",
    "export",
    "verify",
    "config",
    "check",
    "note",
    "-n",
    "--lines",
    "--env",
    "--version",
    "--t0",
    "--reason",
    "--json",
    "--release",
    "--lang",
    "--format",
    "staging",
    "1.4.0",
    "2026-12-16T01:00",
    "t0.deploy",
    "-3",
    "99999999999999999999",
    "",
    "r-",
    "--",
]


@pytest.fixture(scope="module")
def fuzz_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz-cli")
    from tests.test_cli import CONFIG

    (root / "cockpit.toml").write_text(CONFIG)
    return root


@FUZZ
@given(st.lists(st.sampled_from(WORDS) | st.text(max_size=8), min_size=1, max_size=6))
def test_cli_argument_vectors(
    fuzz_workspace: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    """Read-only commands only: no vector may end in a traceback or an internal error."""
    if argv[0] not in {"release", "audit", "plan", "config", "preview", "--lang", "--json"}:
        argv = ["release", "show", *argv]
    monkeypatch.chdir(fuzz_workspace)
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    monkeypatch.delenv("COCKPIT_DATABASE_URL", raising=False)
    out, err = io.StringIO(), io.StringIO()
    logger = logging.getLogger("cockpit")
    saved = logger.handlers[:]
    logger.handlers.clear()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                code = main(argv, out=out)
            except SystemExit as exc:  # --help and --version print and exit
                code = 0 if exc.code is None else int(exc.code)
    finally:
        logger.handlers[:] = saved
    assert code != 70, err.getvalue()
    assert "Traceback" not in err.getvalue()
    if code:
        assert err.getvalue().startswith("cockpit: "), err.getvalue()
