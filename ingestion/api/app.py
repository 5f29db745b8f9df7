"""The upload API: members and monitoring organisations submit exports over HTTPS.

Every caller authenticates with its own bearer token (`ewto token create --org ID`); the
token decides the organisation, so a caller can only submit as, and only see, itself.
An upload is streamed to $EWTO_HOME/incoming/<random>/ in chunks (memory stays flat),
cut off with 413 when it crosses EWTO_MAX_UPLOAD_BYTES, then validated and landed by the
same `submit_files` as `ewto submit`, in a child process (api/worker.py) so the server's
memory does not grow with the file, while the request waits for the report.
Accepted files land in the lake; the warehouse picks them up at its next build.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import time
import uuid
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from ..errors import UsageError
from ..paths import Home
from ..tokens import TokenStore
from .models import Compliance, ComplianceRow, Health, Problem, SubmissionList, SubmissionReport
from .multipart import BadForm, TooLarge, receive_form
from .worker import SubmissionWorker, WorkerFailed, WorkerResult

logger = logging.getLogger("ewto.api")

DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024**3  # 2 GiB
FORM_SLACK = 1 << 20  # multipart headers and the small fields, on top of the file limit
SUBMISSION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")
PERIOD = r"^[0-9]{4}-(0[1-9]|1[0-2])$"

SYNTHETIC_NOTE = (
    "SYNTHETIC DATA: the demo registry and marts come from the ewto simulator; "
    "they are not real platform measurements."
)


def max_upload_bytes() -> int:
    raw = os.environ.get("EWTO_MAX_UPLOAD_BYTES")
    if not raw:
        return DEFAULT_MAX_UPLOAD_BYTES
    try:
        value = int(raw)
    except ValueError as exc:
        raise UsageError(f"EWTO_MAX_UPLOAD_BYTES must be a number of bytes, got {raw!r}") from exc
    if value <= 0:
        raise UsageError("EWTO_MAX_UPLOAD_BYTES must be > 0")
    return value


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("ewto")
    except Exception:  # noqa: BLE001 - running from a source tree
        return "0"


UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file", "dataset", "period"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "The export: CSV, XLSX, JSON Lines or Parquet, as the registry "
                        "describes the organisation's format. The file name's extension helps "
                        "recognise the type.",
                    },
                    "dataset": {
                        "type": "string",
                        "enum": ["takedowns", "monitoring"],
                        "description": "takedowns (members) or monitoring (monitoring organisations).",
                    },
                    "period": {
                        "type": "string",
                        "pattern": PERIOD,
                        "description": "The calendar month the file reports on, YYYY-MM.",
                        "examples": ["2019-05"],
                    },
                },
            }
        }
    },
}


def _problem(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description}


AUTH_401 = {401: _problem("Missing, unknown or revoked bearer token.")}


def create_app(home: Home | None = None, max_bytes: int | None = None) -> FastAPI:
    home = home or Home.from_env()
    limit = max_bytes if max_bytes is not None else max_upload_bytes()
    incoming = home.root / "incoming"
    store = TokenStore(home)
    # validation and landing run in one child process, one upload at a time (GX contexts are
    # not documented as thread-safe); the event loop keeps serving the other endpoints.
    worker = SubmissionWorker(home.root)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # noqa: ANN202
        incoming.mkdir(parents=True, exist_ok=True)
        cutoff = time.time() - 24 * 3600  # leftovers of a crash: never valid submissions
        for entry in incoming.iterdir():
            try:
                if entry.stat().st_mtime >= cutoff:
                    continue
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink()
            except OSError:
                pass
        await run_in_threadpool(worker.start)
        try:
            yield
        finally:
            await run_in_threadpool(worker.close)

    app = FastAPI(
        title="ewto upload API",
        version=_version(),
        description=(
            "Submit monthly exports to the warehouse of the Coalition to End Wildlife Trafficking "
            "Online and read your own submission history and reporting discipline. Each "
            "organisation authenticates with its own bearer token (`ewto token create --org ID`). "
            "Export contract: docs/contracts.md. " + SYNTHETIC_NOTE
        ),
        lifespan=lifespan,
    )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:  # Starlette lists only the first matching route's methods
            allowed: set[str] = set()
            for route in app.routes:
                if isinstance(route, APIRoute) and route.path_regex.match(request.url.path):
                    allowed |= route.methods
            headers = {**(exc.headers or {}), "Allow": ", ".join(sorted(allowed))}
            return JSONResponse({"detail": exc.detail}, status_code=405, headers=headers)
        return await http_exception_handler(request, exc)

    bearer = HTTPBearer(
        auto_error=False,
        description="The organisation's token from `ewto token create --org ID`.",
    )

    def caller(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> str:
        org = store.organisation(creds.credentials) if creds is not None else None
        if org is None:
            raise HTTPException(
                status_code=401,
                detail="missing, unknown or revoked bearer token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return org

    def too_large() -> HTTPException:
        return HTTPException(
            status_code=413,
            detail=f"the file is larger than the limit of {limit:,} bytes (EWTO_MAX_UPLOAD_BYTES)",
        )

    def _report(outcome: WorkerResult) -> dict[str, Any]:
        path = home.reports / f"{outcome.submission_id}.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return outcome.report

    @app.post(
        "/v1/submissions",
        status_code=201,
        response_model=SubmissionReport,
        summary="Submit one export file",
        description=(
            "Validates the file against export contract v1 and, when it passes, lands it in the "
            "lake (the next warehouse build includes it). 201 with the report when the file was "
            "accepted (warnings allowed) or is a duplicate of bytes already accepted for the same "
            "dataset and period; 422 with the report when it was rejected (nothing of it is kept "
            "but the report) or is a duplicate of bytes already rejected (status `duplicate`, "
            "verdict `rejected`, the original's failures), or with a `detail` when the request "
            "itself is wrong."
        ),
        responses={
            400: _problem("Malformed request (Content-Length) or the client disconnected."),
            **AUTH_401,
            413: _problem("The file is larger than EWTO_MAX_UPLOAD_BYTES."),
            503: _problem(
                "The validation process failed (e.g. killed for memory); nothing was kept: send again."
            ),
            422: {
                "description": "Rejected file (the report) or unusable request (a detail).",
                "content": {
                    "application/json": {
                        "schema": {
                            "anyOf": [
                                {"$ref": "#/components/schemas/SubmissionReport"},
                                {"$ref": "#/components/schemas/Problem"},
                            ]
                        }
                    }
                },
            },
        },
        openapi_extra={"requestBody": UPLOAD_BODY},
    )
    async def post_submission(request: Request, org_id: str = Depends(caller)) -> JSONResponse:
        declared = request.headers.get("content-length")
        if declared is not None:
            try:
                if int(declared) > limit + FORM_SLACK:
                    raise too_large()
            except ValueError as exc:
                raise HTTPException(status_code=400, detail="invalid Content-Length") from exc
        folder = incoming / uuid.uuid4().hex
        try:
            try:
                form = await receive_form(
                    request.headers.get("content-type", ""),
                    request.stream(),
                    folder,
                    file_field="file",
                    max_file_bytes=limit,
                    max_body_bytes=limit + FORM_SLACK,
                )
            except TooLarge as exc:
                raise too_large() from exc
            except BadForm as exc:
                raise HTTPException(status_code=422, detail=str(exc)) from exc
            received_at = dt.datetime.now(dt.UTC)
            missing = [f for f in ("dataset", "period") if not form.fields.get(f)]
            if form.path is None:
                missing.insert(0, "file")
            if missing:
                raise HTTPException(status_code=422, detail=f"missing form field(s): {', '.join(missing)}")
            dataset = form.fields["dataset"].strip()
            period = form.fields["period"].strip()
            if not re.match(PERIOD, period):
                raise HTTPException(status_code=422, detail=f"period must be YYYY-MM, got {period!r}")
            from ..submission import SubmissionRequest

            req = SubmissionRequest(org_id, dataset, period, form.path, received_at)
            try:
                outcome = await run_in_threadpool(worker.submit, req)
            except UsageError as exc:
                raise HTTPException(status_code=422, detail=str(exc)) from exc
            except WorkerFailed as exc:
                logger.error("validation process failed on %s: %s", folder.name, exc)
                raise HTTPException(
                    status_code=503,
                    detail="the validation process failed; nothing was kept, please send the file again",
                    headers={"Retry-After": "10"},
                ) from exc
            report = _report(outcome)
            return JSONResponse(report, status_code=422 if outcome.rejected else 201)
        except ClientDisconnect:
            return JSONResponse({"detail": "client disconnected"}, status_code=400)
        finally:
            await run_in_threadpool(shutil.rmtree, folder, True)

    @app.get(
        "/v1/submissions",
        response_model=SubmissionList,
        summary="The caller's submissions",
        responses=AUTH_401,
    )
    def list_submissions(org_id: str = Depends(caller)) -> SubmissionList:
        import polars as pl

        from ..lake import SUBMISSIONS_SCHEMA

        files = sorted(home.submissions.glob(f"{org_id}_*.parquet")) if home.submissions.exists() else []
        if not files:
            return SubmissionList(org_id=org_id, submissions=[])
        frame = (
            pl.read_parquet(files, schema=SUBMISSIONS_SCHEMA)
            .filter(pl.col("org_id") == org_id)
            .sort(["received_at", "processed_at", "submission_id"], descending=True)
        )
        rows = [_utc_fields(r, ("received_at", "processed_at")) for r in frame.to_dicts()]
        return SubmissionList(org_id=org_id, submissions=rows)

    @app.get(
        "/v1/submissions/{submission_id}",
        response_model=SubmissionReport,
        summary="The report of one of the caller's submissions",
        responses={**AUTH_401, 404: _problem("No submission with this id belongs to the caller.")},
    )
    def get_submission(submission_id: str, org_id: str = Depends(caller)) -> JSONResponse:
        import polars as pl

        not_found = HTTPException(status_code=404, detail="no such submission")
        if not SUBMISSION_ID.match(submission_id):
            raise not_found
        row = home.submissions / f"{submission_id}.parquet"
        if not row.is_file():
            raise not_found
        try:
            owner = pl.read_parquet(row, columns=["org_id"])["org_id"][0]
            report = json.loads((home.reports / f"{submission_id}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError, IndexError) as exc:
            raise not_found from exc
        if owner != org_id:
            raise not_found  # another organisation's submission: indistinguishable from none
        return JSONResponse(report)

    @app.get(
        "/v1/compliance",
        response_model=Compliance,
        summary="The caller's reporting discipline (kpi_submission_compliance)",
        description=(
            "One row per export the caller owed, with its status as of the last published "
            "warehouse build (read-only). Monitoring organisations owe no monthly export: no rows."
        ),
        responses=AUTH_401,
    )
    def compliance(org_id: str = Depends(caller)) -> Compliance:
        if not home.marts.exists():
            return Compliance(org_id=org_id, marts_published_at=None, note=SYNTHETIC_NOTE, rows=[])
        import duckdb

        from ..sql_shell import inline
        from ..warehouse import connect_marts

        published = dt.datetime.fromtimestamp(home.marts.stat().st_mtime, dt.UTC).replace(microsecond=0)
        con = connect_marts(home)
        try:
            cur = con.execute(
                inline(
                    "SELECT org_id, dataset, month, status, due_at, first_accepted_at "
                    "FROM kpi_submission_compliance WHERE org_id = ? ORDER BY month, dataset",
                    [org_id],
                )
            )
            names = [d[0] for d in cur.description]
            rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        except duckdb.CatalogException:
            rows = []
        finally:
            con.close()
        return Compliance(
            org_id=org_id,
            marts_published_at=published,
            note=SYNTHETIC_NOTE,
            rows=[ComplianceRow(**_utc_fields(r, ("due_at", "first_accepted_at"))) for r in rows],
        )

    @app.get("/v1/health", response_model=Health, summary="Liveness (no token needed)")
    def health() -> Health:
        return Health(status="ok", version=_version(), marts_published=home.marts.exists())

    return app


def _utc_fields(row: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """Naive UTC timestamps (how the lake and marts store them) made explicit."""
    out = dict(row)
    for n in names:
        v = out.get(n)
        if isinstance(v, dt.datetime) and v.tzinfo is None:
            out[n] = v.replace(tzinfo=dt.UTC)
    return out
