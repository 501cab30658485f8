"""What the benchmarks in this folder share: the repository on ``sys.path``, progress lines,
plain-text tables, the machine they ran on, target lines, the end of ``main``, and the
workspace (``cockpit.toml`` + SQLite log) that bench/startup.py and bench/keys.py build.

The scripts run as ``.venv/bin/python bench/X.py`` from the repository root, so this folder is
``sys.path[0]`` and ``from _common import ...`` finds this file. Importing it puts the
repository root first on ``sys.path``, so the code next to the scripts is measured rather than
an installed copy: import it before anything from ``cockpit``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cockpit.config import LoadedConfig
    from cockpit.store import Store

ROOT = Path(__file__).resolve().parent.parent
# Synchronized output (mode 2026): Textual asks whether the terminal has it and, told yes
# ("reset": supported, off until the app turns it on per frame), wraps every frame in
# SYNC_START ... SYNC_END.
SYNC_QUERY = b"\x1b[?2026$p"
SYNC_ANSWER = b"\x1b[?2026;2$y"
SYNC_START = b"\x1b[?2026h"
SYNC_END = b"\x1b[?2026l"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# ---------------------------------------------------------------- command line


def parser(doc: str, quick_help: str) -> argparse.ArgumentParser:
    """The options every benchmark has: ``--quick``, ``--json`` and ``--no-check``."""
    made = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    made.add_argument("--quick", action="store_true", help=quick_help)
    made.add_argument("--json", action="store_true", help="print JSON instead of a table")
    made.add_argument("--no-check", action="store_true", help="exit 0 even if a target is missed")
    return made


@contextmanager
def stage(name: str, quiet: bool) -> Iterator[None]:
    """A progress line on stderr before and after a step, with its duration."""
    if not quiet:
        print(f"  {name} ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    yield
    if not quiet:
        print(f"  {name}: {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)


def finish(
    result: dict[str, Any], as_json: bool, no_check: bool, render: Callable[[dict[str, Any]], str]
) -> int:
    """Print the result (JSON or the rendered tables); the exit status: 1 when a target in
    ``result["targets"]`` is missed, unless ``no_check``."""
    print(json.dumps(result, indent=2) if as_json else render(result))
    missed = [t for t in result["targets"] if not t["met"]]
    return 1 if missed and not no_check else 0


# ---------------------------------------------------------------- output


def machine(**versions: str) -> dict[str, Any]:
    """CPUs, Python, the given versions, platform."""
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        **versions,
        "platform": platform.platform(),
    }


def textual_machine() -> dict[str, Any]:
    """:func:`machine` with Textual's version, and the load average now."""
    from importlib.metadata import version

    info = machine(textual=version("textual"))
    info["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
    return info


def table(rows: list[tuple[str, ...]]) -> str:
    """Left-aligned columns; the first row is the header, underlined with dashes."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def target(name: str, value: float, bound: str, met: bool) -> dict[str, Any]:
    """A checked target, as ``result["targets"]`` lists it (``bound`` as shown: ``"<= 2.0"``)."""
    return {"name": name, "value": value, "target": bound, "met": met}


def target_lines(targets: list[dict[str, Any]], unit: str = "") -> list[str]:
    """One ``[PASS]`` or ``[MISS]`` line per target."""
    return [
        f"  [{'PASS' if t['met'] else 'MISS'}] {t['name']}: {t['value']}{unit} "
        f"(target {t['target']})"
        for t in targets
    ]


# ---------------------------------------------------------------- workspace


def demo_tables(*names: str, operator: str = "alice") -> str:
    """The named tables of the demo's ``cockpit.toml`` (``cockpit/demo.toml``),
    in the order given, with ``operator`` as its release manager."""
    from cockpit.demo import demo_config

    tables: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in demo_config(operator).splitlines(keepends=True):
        if line.startswith("["):
            current = tables.setdefault(line.strip().strip("[]"), [])
        if current is not None:
            current.append(line)
    missing = [name for name in names if name not in tables]
    if missing:
        raise SystemExit(f"cockpit/demo.toml has no table {', '.join(missing)}")
    return "\n".join("".join(tables[name]).rstrip("\n") + "\n" for name in names)


def workspace_config(made_by: str, *parts: str) -> str:
    """A benchmark workspace's ``cockpit.toml``: a comment naming the script, then ``parts``
    (TOML text, each ending in a newline) a blank line apart."""
    return f"# Benchmark workspace made by {made_by}.\n" + "\n".join(parts)


def open_workspace(root: Path, config: str) -> tuple[Path, LoadedConfig, Store]:
    """Write ``config`` to ``root/cockpit.toml`` and open its store, as the cockpit does."""
    from cockpit.config import LoadedConfig, checkpoint_path, database_url, parse_config_file
    from cockpit.store import Store

    root.mkdir(parents=True, exist_ok=True)
    config_file = root / "cockpit.toml"
    config_file.write_text(config, encoding="utf-8")
    loaded = LoadedConfig(parse_config_file(config_file), config_file)
    url = database_url(loaded)
    return config_file, loaded, Store(url, checkpoint_file=checkpoint_path(loaded, url)).open()


def ms(seconds: float) -> str:
    """Seconds as whole milliseconds: ``1,234 ms``."""
    return f"{seconds * 1000:,.0f} ms"
