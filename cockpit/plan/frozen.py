"""The shipped plans' YAML, also kept as the data it parses to (``checklists/NAME.json``), so
opening a release on a shipped plan does not import and run PyYAML (~10 ms of every start).

Only the YAML step is skipped: the frozen data goes through the same schema and rules as a
parse (:func:`cockpit.plan.loader.parse_plan_bytes`), and it is used only while it names the
SHA-256 of the YAML bytes beside it. A plan edited in place (or a frozen file that is stale,
unreadable, or would not validate) is read from its YAML as before, with its line numbers in
any error. The frozen files are written by ``python -m cockpit.plan.frozen`` (a test checks
they are current).
"""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import Any

import msgspec

FORMAT = 1


def frozen_bytes(yaml_bytes: bytes) -> bytes | None:
    """The frozen form of a plan file's bytes; ``None`` when its data does not survive JSON
    unchanged (a YAML date, a non-string key): such a plan is always parsed."""
    from cockpit.plan.document import parse_yaml

    _node, raw = parse_yaml(yaml_bytes.decode("utf-8").removeprefix("\ufeff"), "frozen")
    encoded = msgspec.json.encode(raw)
    if not _same(msgspec.json.decode(encoded), raw):
        return None
    sha = hashlib.sha256(yaml_bytes).hexdigest()
    whole = msgspec.json.encode({"format": FORMAT, "yaml_sha256": sha, "data": raw})
    return msgspec.json.format(whole, indent=1) + b"\n"


def read_frozen(name: str, yaml_bytes: bytes) -> Any | None:
    """The frozen data of shipped plan ``name`` when it was frozen from exactly
    ``yaml_bytes``; ``None`` otherwise (then the YAML is parsed)."""
    try:
        frozen = resources.files("checklists").joinpath(f"{name}.json").read_bytes()
        found = msgspec.json.decode(frozen)
    except (OSError, msgspec.DecodeError):
        return None
    if not isinstance(found, dict) or found.get("format") != FORMAT:
        return None
    if found.get("yaml_sha256") != hashlib.sha256(yaml_bytes).hexdigest():
        return None
    return found.get("data")


def _same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (JSON would turn ``1.0`` into ``1.0`` but a
    YAML ``True`` key into ``"true"``)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def main() -> int:
    """Write ``checklists/NAME.json`` beside each shipped ``NAME.yaml``."""
    from pathlib import Path

    import checklists

    folder = Path(checklists.__file__).parent
    for path in sorted(folder.glob("*.yaml")):
        frozen = frozen_bytes(path.read_bytes())
        target = path.with_suffix(".json")
        if frozen is None:
            target.unlink(missing_ok=True)
            print(f"{path.name}: not frozen (its data does not survive JSON)")
            continue
        target.write_bytes(frozen)
        print(f"{target.name}: written")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
