"""One JSON line per request: what an operator needs, never a key, never a body unless asked."""

import json
import logging
import time
from typing import Any

from shim.state import Ledger

log = logging.getLogger("shim.access")


def record(ledger: Ledger, method: str, path: str, status: int, body: Any = None) -> None:
    total_ms = (time.monotonic() - ledger.started) * 1000
    line: dict[str, Any] = {
        "request_id": ledger.request_id,
        "method": method,
        "path": path,
        "model": ledger.model,
        "status": status,
        "upstream_status": ledger.upstream_status,
        "latency_ms": round(total_ms, 2),
        "overhead_ms": round(total_ms - ledger.upstream_seconds * 1000, 2),
        "dropped_params": list(ledger.dropped),
        "repairs": list(ledger.repairs),
    }
    if body is not None:
        line["body"] = body
    log.info(json.dumps(line, ensure_ascii=False))
