"""What was fetched from an organisation's source: `$EWTO_HOME/inbox/<org>/_fetched.json`.

One file per organisation (mapped collection tasks never write the same file), replaced
atomically. It keeps, per source item (a remote file, or one dataset and period of an
API), the source version seen (size and mtime, ETag, or checksum; for an API also the
`ETag`/`Last-Modified` it answered, sent back as a conditional request) and the SHA-256 of
the bytes written to the inbox, so a file is neither downloaded again while unchanged nor
written twice when the same bytes come back under another name.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATE_NAME = "_fetched.json"


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


@dataclass
class FetchedState:
    path: Path
    org_id: str
    items: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, inbox_org: Path, org_id: str) -> FetchedState:
        path = inbox_org / STATE_NAME
        if not path.exists():
            return cls(path, org_id)
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(path, org_id, dict(raw.get("items", {})))

    def version(self, key: str) -> str | None:
        item = self.items.get(key)
        return item.get("version") if item else None

    def has_sha(self, sha256: str) -> bool:
        return any(item.get("sha256") == sha256 for item in self.items.values())

    def record(
        self,
        key: str,
        version: str,
        sha256: str | None,
        inbox_path: str | None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        item: dict[str, Any] = {
            "version": version,
            "sha256": sha256,
            "inbox_path": inbox_path,
            "fetched_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        if etag:
            item["etag"] = etag
        if last_modified:
            item["last_modified"] = last_modified
        self.items[key] = item

    def validators(self, key: str) -> tuple[str | None, str | None]:
        """(ETag, Last-Modified) of the last answer for `key`, for a conditional request."""
        item = self.items.get(key) or {}
        return item.get("etag"), item.get("last_modified")

    def checked(self, key: str) -> None:
        """The source answered 304 for `key`: its recorded version is still current."""
        if key in self.items:
            self.items[key]["checked_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")

    def save(self) -> None:
        body = {"org_id": self.org_id, "items": dict(sorted(self.items.items()))}
        _atomic_write(self.path, json.dumps(body, indent=1, ensure_ascii=False).encode("utf-8"))
