"""Member sources (ingestion/sources): configuration, credentials, periods, and fetching from
real local servers: a drop folder, an HTTP API (paginated JSON records, file download,
bearer token, retries with backoff) and an SFTP server (asyncssh, in a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ingestion.sources import (
    SourceConfigError,
    SourceError,
    fetch_org,
    load_sources,
    parse_periods,
    parse_source,
)
from ingestion.sources.credentials import MissingConnection, get_credentials, parse_connection
from ingestion.sources.demo import RecordsServer, small_config
from ingestion.sources.periods import recent_periods, still_missing

REPO = Path(__file__).resolve().parent.parent
OLD = 1617000000.0  # 2021-03-29T06:40:00Z

ROWS = [
    {
        "record_id": f"r{i}",
        "content_type": "listing",
        "detected_at": "2021-03-01T10:00:00",
        "actioned_at": "2021-03-01T12:00:00",
        "detection_source": "automated_text",
        "detection_stage": "pre_publication",
        "action_type": "blocked",
        "commodity": "ivory",
        "seller_id": f"s{i % 3}",
    }
    for i in range(7)
]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A registry of a few organisations (default sources) and an empty $EWTO_HOME."""
    from ingestion.registry import load_registry

    config = small_config(tmp_path / "config", ["google", "instagram", "etsy", "traffic"])
    monkeypatch.setenv("EWTO_CONFIG_DIR", str(config))
    monkeypatch.setenv("EWTO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EWTO_DROP_DIR", str(tmp_path / "drops"))
    load_registry.cache_clear()
    yield {"config": config, "home": tmp_path / "home", "drops": tmp_path / "drops"}
    load_registry.cache_clear()


def _write(path: Path, data: str | bytes, mtime: float = OLD) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    os.utime(path, (mtime, mtime))
    return path


# ---- configuration ------------------------------------------------------------------------
def test_default_source_is_the_drop_folder(env: dict[str, Path]) -> None:
    sources = load_sources()
    assert set(sources) == {"google", "instagram", "etsy", "traffic"}
    assert sources["etsy"].type == "drop"
    assert sources["etsy"].url == str(env["drops"] / "etsy")
    assert sources["etsy"].listing


def test_source_blocks_are_parsed_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPORT_HOST", "exports.example.org")
    cfg = parse_source(
        "google",
        {
            "type": "https",
            "url": "https://${EXPORT_HOST}/{org}/{dataset}",
            "conn_id": "ewto_google",
            "retries": 2,
        },
    )
    assert cfg.url == "https://exports.example.org/google/{dataset}" and cfg.retries == 2
    assert cfg.mode == "records" and not cfg.listing
    s3 = parse_source(
        "ebay",
        {
            "type": "drop",
            "url": "s3://ewto-drops/{org}",
            "storage_options": {"client_kwargs": {"endpoint_url": "http://minio:9000"}},
        },
    )
    assert s3.url == "s3://ewto-drops/ebay"
    with pytest.raises(SourceConfigError, match="needs a url"):
        parse_source("google", {"type": "https"})
    with pytest.raises(SourceConfigError, match="not one of"):
        parse_source("google", {"type": "ftp"})
    with pytest.raises(SourceConfigError, match="unknown source keys"):
        parse_source("google", {"type": "https", "url": "https://x", "token": "secret"})
    with pytest.raises(SourceConfigError, match="host or a conn_id"):
        parse_source("etsy", {"type": "sftp"})


def test_members_yml_sources_parse() -> None:
    """Every `source:` block of the real registry is valid."""
    sources = load_sources(REPO / "config" / "members.yml")
    assert "alibaba" in sources and "traffic" in sources


# ---- credentials --------------------------------------------------------------------------
def test_connections_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    c = parse_connection("x", json.dumps({"conn_type": "http", "password": "tok", "extra": {"a": 1}}))
    assert c.token == "tok" and c.extra == {"a": 1}
    assert "tok" not in repr(c)
    u = parse_connection("y", "sftp://etsy:p%40ss@sftp.example.org:2222/?key_file=%2Fk")
    assert (u.login, u.password, u.host, u.port, u.extra) == (
        "etsy",
        "p@ss",
        "sftp.example.org",
        2222,
        {"key_file": "/k"},
    )
    monkeypatch.setenv("AIRFLOW_CONN_EWTO_T", json.dumps({"conn_type": "http", "extra": {"token": "t2"}}))
    creds = get_credentials("ewto_t")
    assert creds.token == "t2" and creds.via == "task-sdk"  # airflow.sdk.Connection.get
    assert get_credentials(None) is None
    monkeypatch.delenv("AIRFLOW_CONN_EWTO_NOPE", raising=False)
    with pytest.raises(MissingConnection, match="AIRFLOW_CONN_EWTO_NOPE"):
        get_credentials("ewto_nope")


# ---- periods ------------------------------------------------------------------------------
def test_periods() -> None:
    import datetime as dt

    assert parse_periods("2021-03") == ["2021-03"]
    assert parse_periods("2020-11..2021-02") == ["2020-11", "2020-12", "2021-01", "2021-02"]
    for bad in ("2021-13", "2021-3", "2021-03..2021-01", "x"):
        with pytest.raises(ValueError):
            parse_periods(bad)
    assert recent_periods(dt.date(2021, 1, 1), 3) == ["2020-10", "2020-11", "2020-12"]
    accepted = {("google", "takedowns", "2020-11")}
    assert still_missing("google", ("takedowns",), ["2020-11", "2020-12"], accepted) == [
        ("takedowns", "2020-12")
    ]


# ---- drop folder --------------------------------------------------------------------------
def test_drop_folder_fetches_each_file_once(env: dict[str, Path]) -> None:
    drops, home = env["drops"], env["home"]
    a = _write(drops / "etsy" / "takedowns" / "etsy_takedowns_2021-02.csv", "a\n")
    _write(drops / "etsy" / "takedowns" / "notes.txt", "no period here")
    _write(drops / "etsy" / "takedowns" / ".partial_2021-03.csv", "hidden upload")
    r = fetch_org("etsy")
    assert [f["file"] for f in r.fetched] == ["etsy/takedowns/etsy_takedowns_2021-02.csv"]
    assert any("no period" in s for s in r.skipped)
    inbox = home / "inbox" / "etsy" / "takedowns" / a.name
    assert inbox.read_bytes() == b"a\n" and inbox.stat().st_mtime == OLD  # received_at = delivery
    state = json.loads((home / "inbox" / "etsy" / "_fetched.json").read_text())
    assert state["items"][f"takedowns/{a.name}"]["sha256"] == r.fetched[0]["sha256"]

    again = fetch_org("etsy")
    assert again.fetched == [] and again.unchanged == 1

    _write(a, "a corrected\n", OLD + 86400)  # the member overwrote its export
    third = fetch_org("etsy")
    assert [f["file"] for f in third.fetched] == ["etsy/takedowns/etsy_takedowns_2021-02__r2.csv"]
    assert inbox.read_bytes() == b"a\n"  # nothing in the inbox is lost

    _write(drops / "etsy" / "takedowns" / "etsy_takedowns_2021-03.csv", "fresh", time.time())
    settling = fetch_org("etsy")
    assert settling.fetched == [] and any("settling" in s for s in settling.skipped)

    _write(drops / "etsy" / "takedowns" / "etsy_takedowns_2021-01.csv", "jan")
    only = fetch_org("etsy", periods=["2021-02"])  # a backfill asks for its months only
    assert only.fetched == []
    assert [f["period"] for f in fetch_org("etsy", periods=["2021-01"]).fetched] == ["2021-01"]


def test_drop_folder_missing_is_nothing_new(env: dict[str, Path]) -> None:
    r = fetch_org("traffic")
    assert r.fetched == [] and r.unchanged == 0


# ---- S3-compatible drop folder (a real moto server on loopback) --------------------------
@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 API served over HTTP on 127.0.0.1 (a free port), for the module."""
    pytest.importorskip("s3fs")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _bucket(endpoint: str, name: str):  # noqa: ANN202
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="ewto-test",
        aws_secret_access_key="ewto-test-secret",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=name)
    return client


def _s3_config(env: dict[str, Path], url: str, conn_id: str | None) -> None:
    block: dict[str, object] = {"type": "drop", "url": url, "settle_seconds": 0}
    if conn_id:
        block["conn_id"] = conn_id
    small_config(env["config"], ["google", "instagram", "etsy", "traffic"], {"etsy": block})


def _takedowns_tsv() -> bytes:
    header = "\t".join(ROWS[0]) + "\n"
    return (header + "".join("\t".join(r.values()) + "\n" for r in ROWS)).encode()


@pytest.mark.integration
def test_s3_drop_folder_fetched_landed_not_fetched_twice(
    env: dict[str, Path], s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`s3://bucket/prefix` through fsspec/s3fs, credentials and endpoint from an Airflow
    connection (`AIRFLOW_CONN_*`: login = access key, password = secret, extra.endpoint_url)."""
    from ingestion.sources import land_org

    s3 = _bucket(s3_endpoint, "ewto-drops-conn")
    key = "members/etsy/takedowns/etsy_takedowns_2021-03.csv"
    s3.put_object(Bucket="ewto-drops-conn", Key=key, Body=_takedowns_tsv())
    s3.put_object(Bucket="ewto-drops-conn", Key="members/etsy/takedowns/readme.txt", Body=b"x")
    monkeypatch.setenv(
        "AIRFLOW_CONN_EWTO_S3",
        json.dumps(
            {
                "conn_type": "aws",
                "login": "ewto-test",
                "password": "ewto-test-secret",
                "extra": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"},
            }
        ),
    )
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(var, raising=False)
    _s3_config(env, "s3://ewto-drops-conn/members/{org}", "ewto_s3")

    r = fetch_org("etsy")
    assert [f["file"] for f in r.fetched] == ["etsy/takedowns/etsy_takedowns_2021-03.csv"]
    assert any("readme.txt" in s and "no period" in s for s in r.skipped)
    inbox = env["home"] / "inbox" / "etsy" / "takedowns" / "etsy_takedowns_2021-03.csv"
    assert inbox.read_bytes() == _takedowns_tsv()
    state = json.loads((env["home"] / "inbox" / "etsy" / "_fetched.json").read_text())
    item = state["items"]["takedowns/etsy_takedowns_2021-03.csv"]
    assert item["sha256"] == r.fetched[0]["sha256"] and '"' in item["version"]  # size:ETag

    landed = land_org("etsy")
    assert landed["counts"] == {"accepted": 1}, landed
    lake = env["home"] / "lake" / "takedowns" / "org_id=etsy" / "period=2021-03"
    assert len(list(lake.glob("*.parquet"))) == 1

    again = fetch_org("etsy")
    assert again.fetched == [] and again.unchanged == 1  # same ETag: not downloaded again
    s3.put_object(Bucket="ewto-drops-conn", Key=key, Body=_takedowns_tsv())  # same bytes, re-uploaded
    assert fetch_org("etsy").fetched == []
    assert land_org("etsy")["landed"] == 0
    assert len(list(lake.glob("*.parquet"))) == 1


def test_s3_drop_folder_from_aws_environment(
    env: dict[str, Path], s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a conn_id, botocore's own chain: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
    AWS_ENDPOINT_URL_S3. A bucket that does not exist fails the source, naming it."""
    s3 = _bucket(s3_endpoint, "ewto-drops-env")
    s3.put_object(Bucket="ewto-drops-env", Key="etsy/takedowns/etsy_takedowns_2021-02.csv", Body=b"a\n")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ewto-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "ewto-test-secret")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_endpoint)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    _s3_config(env, "s3://ewto-drops-env/{org}", None)
    r = fetch_org("etsy")
    assert [f["period"] for f in r.fetched] == ["2021-02"]
    s3.put_object(Bucket="ewto-drops-env", Key="etsy/takedowns/etsy_takedowns_2021-02.csv", Body=b"b\n")
    changed = fetch_org("etsy")  # overwritten at the source: kept beside the earlier one
    assert [f["file"] for f in changed.fetched] == ["etsy/takedowns/etsy_takedowns_2021-02__r2.csv"]
    assert fetch_org("etsy").unchanged == 1

    _s3_config(env, "s3://ewto-no-such-bucket/{org}", None)
    with pytest.raises(SourceError, match=r"etsy: bucket 'ewto-no-such-bucket' .* does not exist"):
        fetch_org("etsy")


# ---- HTTPS API ----------------------------------------------------------------------------
def _api_config(env: dict[str, Path], url: str, **extra: object) -> None:
    small_config(
        env["config"],
        ["google", "instagram", "etsy", "traffic"],
        {
            "google": {
                "type": "https",
                "url": url + "/api/{org}/{dataset}",
                "conn_id": "ewto_api",
                "retries": 2,
                "backoff_seconds": 0.05,
                **extra,
            },
        },
    )


@pytest.fixture
def api_token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AIRFLOW_CONN_EWTO_API", json.dumps({"conn_type": "http", "password": "tok-123"}))
    return "tok-123"


def test_https_records_are_paginated_into_json_lines(env: dict[str, Path], api_token: str) -> None:
    served = env["drops"] / "google" / "takedowns" / "google_takedowns_2021-03.jsonl"
    _write(served, "".join(json.dumps(r) + "\n" for r in ROWS))
    with RecordsServer(env["drops"], token=api_token, page_size=3) as srv:
        _api_config(env, srv.url)
        r = fetch_org("google", periods=["2021-02", "2021-03"])
        assert r.absent == ["takedowns/2021-02"]  # 404: not published yet, not an error
        assert [f["period"] for f in r.fetched] == ["2021-03"]
        pages = [p for p in srv.requests if "2021-03" in p]
        assert len(pages) == 3  # 7 records, 3 per page
        out = env["home"] / "inbox" / r.fetched[0]["file"]
        assert out.name == "google_takedowns_2021-03.jsonl"
        assert out.stat().st_mtime == OLD  # Last-Modified of the API: when it was published
        assert [json.loads(line) for line in out.read_text().splitlines()] == ROWS
        again = fetch_org("google", periods=["2021-03"])
        assert again.fetched == [] and again.unchanged == 1


def test_https_zero_records_is_a_header_only_file(env: dict[str, Path], api_token: str) -> None:
    _write(env["drops"] / "google" / "takedowns" / "google_takedowns_2021-04.jsonl", "")
    with RecordsServer(env["drops"], token=api_token) as srv:
        _api_config(env, srv.url)
        r = fetch_org("google", periods=["2021-04"])
    out = env["home"] / "inbox" / r.fetched[0]["file"]
    assert out.suffix == ".csv" and out.read_text().startswith("record_id,content_type,")
    assert len(out.read_text().splitlines()) == 1


def test_https_lookback_asks_for_recent_missing_months(env: dict[str, Path], api_token: str) -> None:
    import datetime as dt

    with RecordsServer(env["drops"], token=api_token) as srv:
        _api_config(env, srv.url, lookback_months=2)
        r = fetch_org("google", today=dt.date(2021, 4, 3))
        assert r.absent == ["takedowns/2021-02", "takedowns/2021-03"]


def test_https_bad_token_and_server_errors_fail_the_source(env: dict[str, Path], api_token: str) -> None:
    with RecordsServer(env["drops"], token="another-token", fail={"instagram"}) as srv:
        _api_config(env, srv.url)
        with pytest.raises(SourceError, match="401"):
            fetch_org("google", periods=["2021-03"])
        small_config(
            env["config"],
            ["google", "instagram", "etsy", "traffic"],
            {
                "instagram": {
                    "type": "https",
                    "url": srv.url + "/api/{org}/{dataset}",
                    "retries": 2,
                    "backoff_seconds": 0.05,
                },
            },
        )
        n = len(srv.requests)
        with pytest.raises(SourceError, match="HTTP 500.*after 3 attempts"):
            fetch_org("instagram", periods=["2021-03"])
        assert len(srv.requests) - n == 3  # first attempt + 2 retries


class _Flaky:
    """Fails the first `failures` requests with 503, then serves a file download."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                outer.calls += 1
                if outer.calls <= outer.failures:
                    self.send_response(503)
                    self.end_headers()
                    return
                body = b"record_id,content_type\n"
                self.send_response(200)
                self.send_header("Content-Disposition", 'attachment; filename="google_takedowns_2021-03.csv"')
                self.send_header("ETag", '"v1"')
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


def test_https_file_download_retries_with_backoff(env: dict[str, Path], api_token: str) -> None:
    flaky = _Flaky(failures=2)
    try:
        _api_config(env, flaky.url, mode="file")
        r = fetch_org("google", periods=["2021-03"])
    finally:
        flaky.httpd.shutdown()
        flaky.httpd.server_close()
    assert flaky.calls == 3
    assert [f["file"] for f in r.fetched] == ["google/takedowns/google_takedowns_2021-03.csv"]


# ---- TLS and conditional requests -----------------------------------------------------
def _certificates(folder: Path) -> dict[str, Path]:
    """A private CA and a server certificate it signs for 127.0.0.1, made with cryptography;
    and a second CA that signed nothing here (an untrusted one)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def ca(cn: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name(cn))
            .issuer_name(name(cn))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return key, cert

    ca_key, ca_cert = ca("ewto test CA (SYNTHETIC)")
    _, other_cert = ca("another CA")
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(name("127.0.0.1"))
        .issuer_name(ca_cert.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    out = {
        "ca": folder / "ca.pem",
        "other_ca": folder / "other-ca.pem",
        "cert": folder / "server.pem",
        "key": folder / "server.key",
    }
    out["ca"].write_bytes(ca_cert.public_bytes(pem))
    out["other_ca"].write_bytes(other_cert.public_bytes(pem))
    out["cert"].write_bytes(server_cert.public_bytes(pem))
    out["key"].write_bytes(
        server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return out


class ExportServer:
    """File-mode export API over HTTP or HTTPS (`certs`): serves `files[(dataset, period)]`
    with an ETag (hash of the bytes) and Last-Modified, answers `If-None-Match` /
    `If-Modified-Since` with 304, checks the bearer token; counts 200s and 304s."""

    def __init__(self, token: str, certs: dict[str, Path] | None = None) -> None:
        import hashlib
        import ssl
        from email.utils import formatdate, parsedate_to_datetime

        self.files: dict[tuple[str, str], tuple[bytes, float]] = {}
        self.answers: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: object) -> None:
                pass

            def _status(self, code: int) -> None:
                outer.answers.append(code)
                self.send_response(code)

            def do_GET(self) -> None:  # noqa: N802
                from urllib.parse import parse_qs, urlsplit

                if self.headers.get("Authorization") != f"Bearer {token}":
                    self._status(401)
                    self.end_headers()
                    return
                parts = urlsplit(self.path)
                q = parse_qs(parts.query)
                key = (parts.path.rsplit("/", 1)[-1], (q.get("period") or [""])[0])
                if key not in outer.files:
                    self._status(404)
                    self.end_headers()
                    return
                body, mtime = outer.files[key]
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                since = self.headers.get("If-Modified-Since")
                match = self.headers.get("If-None-Match")
                fresh = (
                    match == etag
                    if match
                    else bool(since and parsedate_to_datetime(since).timestamp() >= int(mtime))
                )
                if fresh:
                    self._status(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self._status(200)
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", formatdate(mtime, usegmt=True))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        scheme = "http"
        if certs:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(certs["cert"], certs["key"])
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> ExportServer:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_https_with_a_private_ca(env: dict[str, Path], api_token: str, tmp_path: Path) -> None:
    """A loopback HTTPS server whose certificate a private CA signed: the CA given as the
    source's `ca_bundle` makes the fetch work; without it (the system's CAs) or with another
    CA, the fetch fails at once with a message naming the organisation and the URL."""
    certs = _certificates(tmp_path / "tls")
    body = b"record_id,content_type\n"
    with ExportServer(api_token, certs) as srv:
        srv.files[("takedowns", "2021-03")] = (body, OLD)
        _api_config(env, srv.url, mode="file", ca_bundle=str(certs["ca"]))
        r = fetch_org("google", periods=["2021-03"])
        assert [f["period"] for f in r.fetched] == ["2021-03"]
        assert (env["home"] / "inbox" / r.fetched[0]["file"]).read_bytes() == body

        for ca in (None, str(certs["other_ca"])):
            _api_config(env, srv.url, mode="file", **({"ca_bundle": ca} if ca else {}))
            n = len(srv.answers)
            with pytest.raises(SourceError) as err:
                fetch_org("google", periods=["2021-04"])
            message = str(err.value)
            assert message.startswith("google: the TLS certificate of ")
            assert f"{srv.url}/api/google/takedowns" in message and "not trusted" in message
            assert "ca_bundle" in message and "after" not in message  # not retried
            assert len(srv.answers) == n  # the handshake failed: no request reached the API

        _api_config(env, srv.url, mode="file", ca_bundle=str(tmp_path / "missing.pem"))
        with pytest.raises(SourceError, match="google: cannot read the CA file"):
            fetch_org("google", periods=["2021-03"])


def test_https_conditional_requests_skip_unchanged(env: dict[str, Path], api_token: str) -> None:
    """The ETag / Last-Modified answered are recorded and sent back: an unchanged export
    is answered 304 and not downloaded again; a changed one is."""
    with ExportServer(api_token) as srv:
        srv.files[("takedowns", "2021-03")] = (b"record_id,content_type\n", OLD)
        _api_config(env, srv.url, mode="file")
        first = fetch_org("google", periods=["2021-03"])
        assert len(first.fetched) == 1 and srv.answers == [200]
        state = json.loads((env["home"] / "inbox" / "google" / "_fetched.json").read_text())
        item = state["items"]["takedowns/2021-03"]
        assert item["etag"].startswith('"') and item["last_modified"].endswith("GMT")

        again = fetch_org("google", periods=["2021-03"])
        assert srv.answers == [200, 304]  # conditional: nothing downloaded
        assert again.fetched == [] and again.unchanged == 1
        assert again.not_modified == ["takedowns/2021-03"]
        state = json.loads((env["home"] / "inbox" / "google" / "_fetched.json").read_text())
        assert state["items"]["takedowns/2021-03"]["version"] == item["version"]
        assert "checked_at" in state["items"]["takedowns/2021-03"]

        srv.files[("takedowns", "2021-03")] = (b"record_id,content_type\nr1,listing\n", OLD + 60)
        changed = fetch_org("google", periods=["2021-03"])
        assert srv.answers[-1] == 200 and len(changed.fetched) == 1


def test_https_records_conditional_on_the_first_page(env: dict[str, Path], api_token: str) -> None:
    """Records mode (the simulated members' API, RecordsServer): the first page is asked
    with If-None-Match; 304 means no page is read."""
    served = env["drops"] / "google" / "takedowns" / "google_takedowns_2021-03.jsonl"
    _write(served, "".join(json.dumps(r) + "\n" for r in ROWS))
    with RecordsServer(env["drops"], token=api_token, page_size=3) as srv:
        _api_config(env, srv.url)
        assert len(fetch_org("google", periods=["2021-03"]).fetched) == 1
        n = len(srv.requests)
        again = fetch_org("google", periods=["2021-03"])
        assert len(srv.requests) - n == 1 and srv.not_modified == 1
        assert again.not_modified == ["takedowns/2021-03"] and again.fetched == []
        _write(served, "".join(json.dumps(r) + "\n" for r in ROWS[:5]), OLD + 3600)
        changed = fetch_org("google", periods=["2021-03"])
        assert len(changed.fetched) == 1 and srv.not_modified == 1


# ---- SFTP ---------------------------------------------------------------------------------
@pytest.fixture
def sftp_server(tmp_path: Path) -> Iterator[dict[str, object]]:
    pytest.importorskip("asyncssh")
    import socket

    root = tmp_path / "sftp_root"
    root.mkdir()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ready = tmp_path / "sftp.ready"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ingestion.sources.demo",
            "sftp",
            "--root",
            str(root),
            "--port",
            str(port),
            "--user",
            "etsy",
            "--password",
            "pw-1",
            "--ready-file",
            str(ready),
        ],
        cwd=REPO,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the SFTP server did not start"
            time.sleep(0.1)
        yield {"root": root, "port": port}
    finally:
        proc.kill()
        proc.wait(10)


def test_sftp_fetches_new_files(
    env: dict[str, Path], sftp_server: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    root: Path = sftp_server["root"]
    f = _write(root / "takedowns" / "etsy_takedowns_2021-02.csv", "x,y\n1,2\n")
    small_config(
        env["config"],
        ["google", "instagram", "etsy", "traffic"],
        {
            "etsy": {
                "type": "sftp",
                "host": "127.0.0.1",
                "port": sftp_server["port"],
                "path": "/",
                "conn_id": "ewto_sftp",
            },
        },
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_EWTO_SFTP", json.dumps({"conn_type": "sftp", "login": "etsy", "password": "pw-1"})
    )
    r = fetch_org("etsy")
    assert [x["file"] for x in r.fetched] == ["etsy/takedowns/etsy_takedowns_2021-02.csv"]
    inbox = env["home"] / "inbox" / "etsy" / "takedowns" / f.name
    assert inbox.read_bytes() == f.read_bytes() and int(inbox.stat().st_mtime) == int(OLD)
    assert fetch_org("etsy").unchanged == 1

    monkeypatch.setenv(
        "AIRFLOW_CONN_EWTO_SFTP", json.dumps({"conn_type": "sftp", "login": "etsy", "password": "no"})
    )
    with pytest.raises(SourceError, match="cannot open|failed"):
        fetch_org("etsy")


# ---- alerts and the celery shim -----------------------------------------------------------
def test_failure_callback_appends_an_alert(env: dict[str, Path]) -> None:
    from types import SimpleNamespace

    from ingestion.sources.alerts import record_failure

    ti = SimpleNamespace(
        task_id="member.fetch",
        dag_id="ewto_collect",
        run_id="r1",
        map_index=3,
        rendered_map_index="instagram",
        try_number=2,
    )
    record_failure({"ti": ti, "exception": SourceError("instagram: HTTP 500")})
    record_failure(
        {"dag_run": SimpleNamespace(dag_id="ewto_warehouse", run_id="r2"), "reason": "task_failure"}
    )
    lines = [json.loads(x) for x in (env["home"] / "operator_alerts.jsonl").read_text().splitlines()]
    assert lines[0]["org_id"] == "instagram" and "HTTP 500" in lines[0]["error"]
    assert lines[1]["dag_id"] == "ewto_warehouse" and lines[1]["error"] == "task_failure"


def test_celery_compat_shim() -> None:
    code = (
        "import ingestion.sources.celery_compat as c; c.install(); "
        "import celery.backends.database as d; assert callable(d.retry); "
        "calls = []\n"
        "@d.retry\n"
        "def f():\n"
        "    calls.append(1)\n"
        "    return 7\n"
        "assert f() == 7 and calls == [1]"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    # a failed task's result, as celery 5.7 stores it (bytes) and the provider reads it;
    # celery 5.6 (the lock's pin) stores a dict and has no decoder: nothing to patch there
    code = (
        "import ingestion.sources.celery_compat as c; c.install(); "
        "import celery.backends.database as d, sys; "
        "sys.exit(0) if not hasattr(d.DatabaseBackend, '_decode_stored_result') else None; "
        "from celery import Celery; "
        "app = Celery(backend='db+sqlite://', result_serializer='json'); "
        "b = app.backend; "
        "from kombu.utils.encoding import ensure_bytes; "
        "raw = ensure_bytes(b.encode(b.prepare_exception(TimeoutError('timed out')))); "
        "meta = b.meta_from_decoded({'task_id': 't', 'status': 'FAILURE', 'result': raw, "
        "'traceback': None, 'date_done': None}); "
        "assert isinstance(meta['result'], TimeoutError), meta"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


# ---- landing (GX: tens of seconds) --------------------------------------------------------
@pytest.mark.integration
def test_land_is_idempotent(env: dict[str, Path]) -> None:
    from ingestion.sources import land_org

    header = ",".join(ROWS[0]) + "\n"
    body = "".join(",".join(r.values()) + "\n" for r in ROWS)
    _write(
        env["drops"] / "etsy" / "takedowns" / "etsy_takedowns_2021-03.csv",
        header.replace(",", "\t") + body.replace(",", "\t"),
    )
    fetch_org("etsy")
    first = land_org("etsy")
    assert first["counts"] == {"accepted": 1} and first["landed"] == 1
    second = land_org("etsy")
    assert second["counts"] == {} and second["landed"] == 0
    lake = env["home"] / "lake" / "takedowns" / "org_id=etsy" / "period=2021-03"
    assert len(list(lake.glob("*.parquet"))) == 1
