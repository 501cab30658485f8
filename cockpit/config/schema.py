"""A JSON Schema of ``cockpit.toml``, made from the config's structs, for editors (Taplo, Even
Better TOML): ``cockpit config schema``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from cockpit.config.model import Config


def json_schema() -> dict[str, Any]:
    """A JSON Schema of ``cockpit.toml`` for editors (Taplo, Even Better TOML)."""
    schema: dict[str, Any] = msgspec.json.schema(Config)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "cockpit.toml"
    return schema
