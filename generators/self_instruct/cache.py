"""A persistent request cache: one SQLite row per (api, model, input, sampling) key.

Each write is its own transaction, so a killed process loses at most the request in flight and
never leaves a half-written entry; a rerun of the same requests makes no network calls.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any


def request_key(payload: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a request (api, model, prompt/messages, sampling).

    >>> request_key({"model": "m", "prompt": "hi"}) == request_key({"prompt": "hi", "model": "m"})
    True
    """
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class RequestCache:
    """Replies stored by request key in a SQLite file (safe to share between threads)."""

    def __init__(self, path: Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, request TEXT, reply TEXT)"
        )

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored reply for `key`, or None."""
        with self._lock:
            row = self._db.execute("SELECT reply FROM replies WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, request: dict[str, Any], reply: dict[str, Any]) -> None:
        """Store `reply` for `key` (replacing any older one) in one transaction."""
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO replies VALUES (?, ?, ?)",
                (key, json.dumps(request, ensure_ascii=False), json.dumps(reply)),
            )

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM replies").fetchone()[0]

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
