"""HTTPS API sources: paginated JSON records (written as JSON Lines) or a file download.

Protocol (documented in docs/operations.md): `GET <url>` with `dataset` and `period` query
parameters (or `{dataset}`/`{period}` in the URL), `Authorization: Bearer <token>`.
- records mode: a page is `{"records": [...], "next": "<url of the next page>" | null}`
  (key names configurable) or page-number pagination (`page_param`); a bare JSON list is
  a single page. The rows are written as one JSON Lines file.
- file mode: the body is the export file itself; its name comes from Content-Disposition
  or is `<org>_<dataset>_<period>.<ext of the organisation's format>`.
- `Last-Modified` (when the API sends it) is the export's `received_at`, else the fetch time.
- Conditional requests: the `ETag` and `Last-Modified` of the last answer are recorded
  (`_fetched.json`) and sent back as `If-None-Match` / `If-Modified-Since`; `304 Not
  Modified` means unchanged: nothing is downloaded (records mode: asked on the first page).
- TLS: the system's CAs, or the PEM file `ca_bundle` of the source block (or of the
  connection's extra) for a member whose server has a private CA. An untrusted certificate
  fails at once (it is not retried) with a message naming the organisation and the URL.
- 404 means "not delivered yet" (nothing written, not an error); 5xx, 429 and network
  errors are retried with exponential backoff, then the fetch fails.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from .config import SourceConfig
from .credentials import Credentials


class SourceError(RuntimeError):
    """The source could not be read (after retries): the organisation's collection fails."""


class _Retryable(Exception):
    pass


@dataclass(frozen=True)
class Download:
    name: str | None  # file name (file mode) or None (records mode)
    data: bytes | None  # None: nothing published for that period (404) or not modified (304)
    version: str  # ETag / Last-Modified / record count, for the fetch record
    records: int | None = None
    modified: float | None = None  # the export's Last-Modified (epoch seconds), if the API says
    etag: str | None = None  # validators of the answer, sent back next time
    last_modified: str | None = None
    not_modified: bool = False  # 304: the source version recorded last time is still current


@dataclass(frozen=True)
class Validators:
    """What the last answer said about its version (from `_fetched.json`)."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        out = {}
        if self.etag:
            out["If-None-Match"] = self.etag
        if self.last_modified:
            out["If-Modified-Since"] = self.last_modified
        return out


def _last_modified(resp: Any) -> float | None:
    from email.utils import parsedate_to_datetime

    value = resp.headers.get("last-modified")
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None


def _verify(cfg: SourceConfig, creds: Credentials | None) -> Any:
    """TLS verification: the source's (or connection's) CA file, else the default CAs."""
    import ssl

    ca = cfg.ca_bundle or (creds.extra.get("ca_bundle") if creds is not None else None)
    if not ca:
        return True
    try:
        return ssl.create_default_context(cafile=str(ca))
    except (OSError, ssl.SSLError) as exc:
        raise SourceError(f"{cfg.org_id}: cannot read the CA file {ca!r} (ca_bundle): {exc}") from exc


def _client(cfg: SourceConfig, creds: Credentials | None):  # noqa: ANN202
    import httpx

    headers = {"Accept": "application/json", "User-Agent": "ewto-collector"}
    if creds is not None and creds.token:
        headers["Authorization"] = f"Bearer {creds.token}"
    return httpx.Client(
        timeout=cfg.timeout_seconds,
        headers=headers,
        follow_redirects=True,
        verify=_verify(cfg, creds),
    )


def _untrusted_certificate(exc: BaseException) -> str | None:
    """The verification error when `exc` (or what caused it) is a rejected TLS certificate."""
    import ssl

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen.verify_message or str(seen)
        seen = seen.__cause__ or seen.__context__
    return "certificate verify failed" if "CERTIFICATE_VERIFY_FAILED" in str(exc) else None


def _get(  # noqa: ANN202
    client: Any,
    cfg: SourceConfig,
    url: str,
    params: dict[str, Any] | None,
    headers: dict[str, str] | None = None,
):
    """One GET with retries and exponential backoff on 5xx, 429 and transport errors; an
    untrusted TLS certificate is not transient: it fails at once, saying so."""
    import httpx
    from tenacity import (
        RetryError,
        Retrying,
        retry_if_exception_type,
        stop_after_attempt,
        wait_exponential,
    )

    def attempt() -> httpx.Response:
        try:
            resp = client.get(url, params=params, headers=headers)
        except httpx.ConnectError as exc:
            reason = _untrusted_certificate(exc)
            if reason:
                raise SourceError(
                    f"{cfg.org_id}: the TLS certificate of {url} is not trusted ({reason}); "
                    "if the member's server uses a private CA, give its PEM file as `ca_bundle` "
                    "in the organisation's source block (config/members.yml) or in the "
                    "connection's extra"
                ) from exc
            raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
        except httpx.TransportError as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
        if resp.status_code >= 500 or resp.status_code == 429:
            raise _Retryable(f"HTTP {resp.status_code} from {resp.request.url}")
        return resp

    try:
        for att in Retrying(
            stop=stop_after_attempt(cfg.retries + 1),
            wait=wait_exponential(multiplier=cfg.backoff_seconds, max=60),
            retry=retry_if_exception_type(_Retryable),
            reraise=False,
        ):
            with att:
                resp = attempt()
    except RetryError as exc:
        last = exc.last_attempt.exception()
        raise SourceError(f"{cfg.org_id}: {last} (after {cfg.retries + 1} attempts)") from last
    if resp.status_code in (401, 403):
        raise SourceError(
            f"{cfg.org_id}: HTTP {resp.status_code} from {resp.request.url}: check {cfg.conn_id!r}"
        )
    return resp


def _fill(url: str, org_id: str, dataset: str, period: str) -> str:
    return url.replace("{org}", org_id).replace("{dataset}", dataset).replace("{period}", period)


def _params(cfg: SourceConfig, dataset: str, period: str) -> dict[str, Any]:
    params: dict[str, Any] = dict(cfg.params)
    if "{dataset}" not in (cfg.url or ""):
        params.setdefault("dataset", dataset)
    if "{period}" not in (cfg.url or ""):
        params.setdefault("period", period)
    return params


def fetch_records(
    cfg: SourceConfig,
    creds: Credentials | None,
    dataset: str,
    period: str,
    validators: Validators | None = None,
) -> Download:
    """All pages of records for one dataset and period, as JSON Lines bytes; `validators`
    make the first page conditional (304: unchanged, nothing downloaded)."""
    assert cfg.url
    url: str | None = _fill(cfg.url, cfg.org_id, dataset, period)
    params: dict[str, Any] | None = _params(cfg, dataset, period)
    rows: list[Any] = []
    page = 1
    modified: float | None = None
    etag = last_modified = None
    with _client(cfg, creds) as client:
        while url:
            if cfg.page_param and params is not None:
                params = {**params, cfg.page_param: page}
            conditional = validators.headers() if validators is not None and page == 1 else None
            resp = _get(client, cfg, url, params, conditional)
            if resp.status_code == 304 and page == 1:
                return _not_modified(resp, validators)
            if resp.status_code == 404 and page == 1:
                return Download(None, None, "absent")
            if resp.status_code >= 400:
                raise SourceError(f"{cfg.org_id}: HTTP {resp.status_code} from {resp.request.url}")
            if page == 1:
                modified = _last_modified(resp)
                etag = resp.headers.get("etag")
                last_modified = resp.headers.get("last-modified")
            try:
                body = resp.json()
            except ValueError as exc:
                raise SourceError(f"{cfg.org_id}: page {page} of {resp.request.url} is not JSON") from exc
            if isinstance(body, list):
                batch, nxt = body, None
            elif isinstance(body, dict):
                batch = body.get(cfg.records_key) or []
                nxt = body.get(cfg.next_key) if cfg.next_key else None
            else:
                raise SourceError(f"{cfg.org_id}: page {page} is neither a list nor an object")
            if not isinstance(batch, list):
                raise SourceError(f"{cfg.org_id}: {cfg.records_key!r} of page {page} is not a list")
            rows.extend(batch)
            page += 1
            if cfg.page_param:
                url = url if batch else None  # page numbers: stop at the first empty page
            elif nxt:
                url = urljoin(str(resp.request.url), str(nxt))
                params = None  # the next link carries its own query
            else:
                url = None
    data = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows).encode("utf-8")
    return Download(
        None,
        data,
        f"records:{len(rows)}",
        records=len(rows),
        modified=modified,
        etag=etag,
        last_modified=last_modified,
    )


def _not_modified(resp: Any, validators: Validators | None) -> Download:
    etag = resp.headers.get("etag") or (validators.etag if validators else None)
    last = resp.headers.get("last-modified") or (validators.last_modified if validators else None)
    return Download(
        None, None, etag or last or "not-modified", etag=etag, last_modified=last, not_modified=True
    )


_DISPOSITION = re.compile(r"filename\*?=(?:UTF-8'')?\"?([^\";]+)\"?", re.IGNORECASE)


def fetch_file(
    cfg: SourceConfig,
    creds: Credentials | None,
    dataset: str,
    period: str,
    validators: Validators | None = None,
) -> Download:
    """One export file for one dataset and period (file mode); conditional with `validators`."""
    assert cfg.url
    url = _fill(cfg.url, cfg.org_id, dataset, period)
    with _client(cfg, creds) as client:
        conditional = validators.headers() if validators is not None else None
        resp = _get(client, cfg, url, _params(cfg, dataset, period), conditional)
        if resp.status_code == 304:
            return _not_modified(resp, validators)
        if resp.status_code == 404:
            return Download(None, None, "absent")
        if resp.status_code >= 400:
            raise SourceError(f"{cfg.org_id}: HTTP {resp.status_code} from {resp.request.url}")
        m = _DISPOSITION.search(resp.headers.get("content-disposition", ""))
        name = m.group(1).strip().split("/")[-1] if m else None
        version = resp.headers.get("etag") or resp.headers.get("last-modified") or "body"
        return Download(
            name,
            resp.content,
            version,
            modified=_last_modified(resp),
            etag=resp.headers.get("etag"),
            last_modified=resp.headers.get("last-modified"),
        )
