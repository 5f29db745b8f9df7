"""Bearer tokens of the upload API: one or more per organisation, only their hash is stored.

A token looks like `ewto_<token_id>_<secret>`; `ewto token create --org ID` prints it once.
What is kept, in $EWTO_HOME/auth/tokens.json (written atomically under a lock), is the
token id, the organisation, the SHA-256 of the whole token and the creation and revocation
times: a leaked tokens.json does not let anyone call the API. The API re-reads the file
when it changes, so a revocation takes effect on the next request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from .atomic import file_lock, write_bytes
from .errors import UsageError
from .paths import Home

PREFIX = "ewto_"


@dataclass(frozen=True)
class TokenRecord:
    token_id: str
    org_id: str
    sha256: str
    created_at: str  # ISO 8601 UTC
    revoked_at: str | None = None
    label: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def public(self) -> dict[str, str | None]:
        """Everything but the hash."""
        d = asdict(self)
        d.pop("sha256")
        return d


def tokens_path(home: Home) -> Path:
    return home.root / "auth" / "tokens.json"


def _lock(home: Home) -> Path:
    return home.locks / "tokens.lock"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def load_tokens(home: Home) -> list[TokenRecord]:
    path = tokens_path(home)
    if not path.exists():
        return []
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    return [TokenRecord(**t) for t in raw.get("tokens", [])]


def _save(home: Home, tokens: list[TokenRecord]) -> None:
    path = tokens_path(home)
    data = json.dumps({"version": 1, "tokens": [asdict(t) for t in tokens]}, indent=2).encode()
    write_bytes(path, data)
    os.chmod(path, 0o600)


def create_token(home: Home, org_id: str, label: str | None = None) -> tuple[str, TokenRecord]:
    """A new token for an organisation of the registry: (the token in clear, its record)."""
    from .registry import load_registry

    if not load_registry().has_org(org_id):
        raise UsageError(f"unknown organisation {org_id!r} (not in config/members.yml)")
    with file_lock(_lock(home)):
        tokens = load_tokens(home)
        taken = {t.token_id for t in tokens}
        token_id = secrets.token_hex(4)
        while token_id in taken:
            token_id = secrets.token_hex(4)
        token = f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
        record = TokenRecord(token_id, org_id, hash_token(token), _now(), None, label)
        _save(home, [*tokens, record])
    return token, record


def revoke(home: Home, org_id: str | None = None, token_id: str | None = None) -> list[TokenRecord]:
    """Revoke every active token of an organisation, or one token by id; returns those revoked."""
    if not org_id and not token_id:
        raise UsageError("say which tokens to revoke: --org ID or --id TOKEN_ID")
    now = _now()
    revoked: list[TokenRecord] = []
    with file_lock(_lock(home)):
        tokens = load_tokens(home)
        out = []
        for t in tokens:
            hit = (
                t.active
                and (org_id is None or t.org_id == org_id)
                and (token_id is None or t.token_id == token_id)
            )
            if hit:
                t = TokenRecord(t.token_id, t.org_id, t.sha256, t.created_at, now, t.label)
                revoked.append(t)
            out.append(t)
        if revoked:
            _save(home, out)
    return revoked


class TokenStore:
    """Looks tokens up by hash; re-reads tokens.json when its mtime or size changes."""

    def __init__(self, home: Home) -> None:
        self.home = home
        self._stamp: tuple[int, int, int] | None = None
        self._by_hash: dict[str, TokenRecord] = {}

    def _refresh(self) -> None:
        path = tokens_path(self.home)
        try:
            st = path.stat()
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp:
            self._by_hash = {t.sha256: t for t in load_tokens(self.home)}
            self._stamp = stamp

    def organisation(self, token: str) -> str | None:
        """The organisation of an active token, or None."""
        if not token.startswith(PREFIX) or len(token) > 200:
            return None
        self._refresh()
        digest = hash_token(token)
        for known, record in self._by_hash.items():
            if hmac.compare_digest(known, digest):
                return record.org_id if record.active else None
        return None
