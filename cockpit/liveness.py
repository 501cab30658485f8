"""Running or interrupted: is the process that recorded an intent still at work?

A step's intent (``step.started``, ``step.undo_started``) records the host and pid doing it. An
intent with no outcome is *running* while that process may still be at work, and *interrupted*
once it is gone (same host, pid not alive) or the step's timeout has passed. The checklist's fold
asks this; the step runner records :func:`process_id` in every intent.
"""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime
from typing import Any


def process_id() -> dict[str, Any]:
    """Who is running a step: recorded in the intent, read to tell running from interrupted."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


def intent_alive(details: dict[str, Any], started_at: str, now: float | None = None) -> bool:
    """Whether the process that recorded a step's intent may still be running it: on this host
    its pid must be alive; elsewhere its timeout must not have passed."""
    now = time.time() if now is None else now
    if "pid" not in details:
        return False
    try:
        began = datetime.fromisoformat(started_at).timestamp()
    except ValueError:
        return False
    if now - began > float(details.get("timeout", 0)) + 60:
        return False
    if details.get("host") == socket.gethostname():
        pid = details.get("pid")
        if not isinstance(pid, int):
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return True
