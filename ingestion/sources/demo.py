"""Local stand-ins for member sources, for tests and demonstrations (SYNTHETIC data only).

- `small_config`: a copy of config/ with a few organisations and their `source:` blocks
  (point EWTO_CONFIG_DIR at it).
- `RecordsServer`: an HTTP API serving the simulated exports of some organisations as
  paginated JSON records (`GET /api/<org>/<dataset>?period=YYYY-MM&page=N`, bearer token
  checked), answering 500 for the organisations told to fail; `ETag` and `Last-Modified`
  on every page, `304 Not Modified` to a matching `If-None-Match` / `If-Modified-Since`.
- `sftp_server_main`: an SFTP server (asyncssh, a dev dependency) over a folder, run as
  `python -m ingestion.sources.demo sftp --root DIR --port N --user U --password P`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import socket
import sys
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml


def worker_hostname() -> str:
    """`[core] hostname_callable` for a worker that should name itself: $EWTO_WORKER_NAME
    (the deployment test sets it on the Celery worker only, to see where each task ran)."""
    return os.environ.get("EWTO_WORKER_NAME") or socket.getfqdn()


def small_config(dst: Path, orgs: list[str], sources: dict[str, dict[str, Any]] | None = None) -> Path:
    """Write `dst/members.yml` (only `orgs`, with `sources` as their `source:` blocks) and
    a copy of coalition.yml; return `dst`."""
    from ingestion.registry import REPO_ROOT

    src = REPO_ROOT / "config"
    data = yaml.safe_load((src / "members.yml").read_text(encoding="utf-8"))
    keep = []
    for o in data["organisations"]:
        if o["id"] in orgs:
            o = dict(o)
            o.pop("source", None)
            if sources and o["id"] in sources:
                o["source"] = sources[o["id"]]
            keep.append(o)
    missing = sorted(set(orgs) - {o["id"] for o in keep})
    if missing:
        raise KeyError(f"not in config/members.yml: {missing}")
    data["organisations"] = keep
    dst.mkdir(parents=True, exist_ok=True)
    (dst / "members.yml").write_text(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    shutil.copy(src / "coalition.yml", dst / "coalition.yml")
    return dst


def _records_of(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    import polars as pl  # other formats: read as text columns

    from ingestion.readers import read_table
    from ingestion.registry import ExportFormat

    raw = read_table(path, path.read_bytes(), ExportFormat(format=path.suffix.lstrip(".")))
    return raw.frame.drop("source_row", strict=False).cast(pl.String).to_dicts()


def _not_modified(headers: Any, etag: str, mtime: float) -> bool:
    """RFC 9110: If-None-Match wins over If-Modified-Since (seconds resolution)."""
    from email.utils import parsedate_to_datetime

    match = headers.get("If-None-Match")
    if match:
        return etag in [m.strip() for m in match.split(",")] or match.strip() == "*"
    since = headers.get("If-Modified-Since")
    if not since:
        return False
    try:
        return parsedate_to_datetime(since).timestamp() >= int(mtime)
    except (TypeError, ValueError):
        return False


class RecordsServer:
    """Serve `drop_dir/<org>/<dataset>/<file with YYYY-MM>` as paginated JSON records."""

    def __init__(
        self,
        drop_dir: Path,
        token: str | None = None,
        fail: set[str] | None = None,
        page_size: int = 25,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.drop_dir = Path(drop_dir)
        self.token = token
        self.fail = set(fail or ())
        self.page_size = page_size
        self.requests: list[str] = []
        self.not_modified = 0  # requests answered 304
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(
                self, code: int, body: Any, modified: float | None = None, etag: str | None = None
            ) -> None:
                data = json.dumps(body).encode("utf-8")
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                if modified is not None:
                    self.send_header("Last-Modified", formatdate(modified, usegmt=True))
                if etag is not None:
                    self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                outer.requests.append(self.path)
                parts = urlsplit(self.path)
                segs = [s for s in parts.path.split("/") if s]
                if len(segs) != 3 or segs[0] != "api":
                    return self._send(404, {"error": "no such endpoint"})
                _, org, dataset = segs
                if org in outer.fail:  # a broken server: 500 to everything
                    return self._send(500, {"error": "internal server error (simulated)"})
                if outer.token and self.headers.get("Authorization") != f"Bearer {outer.token}":
                    return self._send(401, {"error": "bad or missing bearer token"})
                q = parse_qs(parts.query)
                period = (q.get("period") or [""])[0]
                page = int((q.get("page") or ["1"])[0])
                folder = outer.drop_dir / org / dataset
                files = sorted(folder.glob(f"*{period}*")) if period and folder.is_dir() else []
                if not files:
                    return self._send(404, {"error": f"nothing for {org} {dataset} {period}"})
                latest = files[-1]  # the latest version (_v2 sorts after)
                mtime = latest.stat().st_mtime
                etag = '"' + hashlib.sha256(latest.read_bytes()).hexdigest()[:20] + '"'
                if _not_modified(self.headers, etag, mtime):
                    outer.not_modified += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return None
                rows = _records_of(latest)
                lo = (page - 1) * outer.page_size
                batch = rows[lo : lo + outer.page_size]
                nxt = (
                    f"/api/{org}/{dataset}?period={period}&page={page + 1}"
                    if lo + outer.page_size < len(rows)
                    else None
                )
                body = {"records": batch, "next": nxt, "total": len(rows)}
                return self._send(200, body, mtime, etag)  # published at its arrival

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> RecordsServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def sftp_server_main(argv: list[str] | None = None) -> int:
    """Serve `--root` over SFTP on 127.0.0.1 with password authentication, until killed."""
    import asyncio

    import asyncssh

    p = argparse.ArgumentParser()
    p.add_argument("--root", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--ready-file", default=None)
    args = p.parse_args(argv)
    root = str(Path(args.root).resolve())

    class Server(asyncssh.SSHServer):
        def begin_auth(self, username: str) -> bool:
            return True

        def password_auth_supported(self) -> bool:
            return True

        def validate_password(self, username: str, password: str) -> bool:
            return username == args.user and password == args.password

    async def main() -> None:
        key = asyncssh.generate_private_key("ssh-ed25519")
        await asyncssh.listen(
            "127.0.0.1",
            args.port,
            server_host_keys=[key],
            server_factory=Server,
            sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=root),
            allow_scp=False,
        )
        if args.ready_file:
            Path(args.ready_file).write_text("ready", encoding="utf-8")
        await asyncio.Event().wait()

    asyncio.run(main())
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "sftp":
        sys.exit(sftp_server_main(sys.argv[2:]))
    print("usage: python -m ingestion.sources.demo sftp --root DIR --port N --user U --password P")
    sys.exit(2)
