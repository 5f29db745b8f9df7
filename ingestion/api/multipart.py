"""Streaming multipart/form-data: the file part goes to disk chunk by chunk as it arrives.

Starlette's form parser spools uploads to the system temp folder; this one writes the file
part straight into a folder under $EWTO_HOME/incoming and counts its bytes as they arrive,
so the server's memory stays flat whatever the size and an upload over the limit is cut
off as soon as it crosses it (the handler answers 413).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

MAX_FIELD_BYTES = 4096
MAX_PARTS = 16
WRITE_BUFFER = 1 << 20  # flush to disk per MiB


class TooLarge(Exception):
    """The upload crossed the size limit."""


class BadForm(Exception):
    """The body is not the multipart form the endpoint expects (a one-line reason)."""


@dataclass
class ParsedForm:
    fields: dict[str, str] = field(default_factory=dict)
    file_field: str | None = None
    filename: str | None = None  # sanitised client file name
    path: Path | None = None  # where the file part was written
    size: int = 0  # bytes of the file part


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(raw: str) -> str:
    """The base name of a client-supplied file name, reduced to [A-Za-z0-9._-] (120 chars).

    The extension is kept apart, so a name in another script still ends in `.csv`.
    """
    base = raw.replace("\\", "/").rsplit("/", 1)[-1].strip()
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = _SAFE.sub("_", stem).strip("._-")[:100] or "upload"
    ext = _SAFE.sub("", ext)[:10]
    return f"{stem}.{ext}" if ext else stem


class _Receiver:
    def __init__(self, folder: Path, file_field: str, max_file_bytes: int) -> None:
        self.folder = folder
        self.file_field = file_field
        self.max_file_bytes = max_file_bytes
        self.form = ParsedForm()
        self.parts = 0
        self._hname = b""
        self._hvalue = b""
        self._disposition = b""
        self._name: str | None = None
        self._data = bytearray()
        self._fh: IO[bytes] | None = None
        self._buf = bytearray()
        self._in_file = False

    # python-multipart callbacks -------------------------------------------------------------
    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise BadForm(f"too many form parts (at most {MAX_PARTS})")
        self._disposition = b""
        self._name = None
        self._data = bytearray()
        self._in_file = False

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._hname += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._hvalue += data[start:end]

    def on_header_end(self) -> None:
        if self._hname.strip().lower() == b"content-disposition":
            self._disposition = self._hvalue
        self._hname = b""
        self._hvalue = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        raw_name = options.get(b"name")
        if raw_name is None:
            raise BadForm('a form part has no Content-Disposition "name"')
        self._name = raw_name.decode("utf-8", errors="replace")
        if self._name == self.file_field:
            if self.form.path is not None:
                raise BadForm(f"send exactly one {self.file_field!r} part")
            raw_filename = options.get(b"filename", b"")
            name = safe_filename(raw_filename.decode("utf-8", errors="replace"))
            self.form.file_field = self._name
            self.form.filename = name
            self.form.path = self.folder / name
            self.folder.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.form.path, "wb")  # noqa: SIM115 - closed in on_part_end/close
            self._in_file = True

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        n = end - start
        if self._in_file:
            self.form.size += n
            if self.form.size > self.max_file_bytes:
                raise TooLarge
            self._buf += data[start:end]
            if len(self._buf) >= WRITE_BUFFER:
                self._flush()
        else:
            if len(self._data) + n > MAX_FIELD_BYTES:
                raise BadForm(f"form field {self._name!r} is longer than {MAX_FIELD_BYTES} bytes")
            self._data += data[start:end]

    def on_part_end(self) -> None:
        if self._in_file:
            self._flush()
            assert self._fh is not None
            self._fh.close()
            self._fh = None
            self._in_file = False
        elif self._name is not None:
            try:
                self.form.fields[self._name] = self._data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise BadForm(f"form field {self._name!r} is not UTF-8 text") from exc

    # -----------------------------------------------------------------------------------------
    def _flush(self) -> None:
        if self._buf and self._fh is not None:
            self._fh.write(self._buf)
            self._buf = bytearray()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self.on_part_begin,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
        }


async def receive_form(
    content_type: str,
    stream: AsyncIterator[bytes],
    folder: Path,
    *,
    file_field: str,
    max_file_bytes: int,
    max_body_bytes: int,
) -> ParsedForm:
    """Parse a multipart body from `stream`, writing the `file_field` part under `folder`.

    Raises TooLarge when the file part exceeds `max_file_bytes` (or the body
    `max_body_bytes`), BadForm when the body is not a usable multipart form. The caller
    removes `folder` in every case.
    """
    ctype, params = parse_options_header(content_type or "")
    if ctype != b"multipart/form-data":
        raise BadForm("send the file as multipart/form-data (fields: file, dataset, period)")
    boundary = params.get(b"boundary")
    if not boundary:
        raise BadForm("the multipart/form-data Content-Type has no boundary")
    receiver = _Receiver(folder, file_field, max_file_bytes)
    try:
        parser = MultipartParser(boundary, receiver.callbacks())
    except (FormParserError, ValueError) as exc:
        raise BadForm(f"invalid multipart boundary: {exc}") from exc
    total = 0
    try:
        async for chunk in stream:
            total += len(chunk)
            if total > max_body_bytes:
                raise TooLarge
            if chunk:
                parser.write(chunk)
        parser.finalize()
    except FormParserError as exc:
        raise BadForm(f"malformed multipart body: {exc}") from exc
    finally:
        receiver.close()
    if receiver._in_file:  # noqa: SLF001 - the body ended inside the file part
        raise BadForm("the multipart body ended before the file part was complete")
    return receiver.form
