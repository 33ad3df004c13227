"""multipart/mixed batches (application/http parts) and multipart/related uploads."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus

_BLANK = re.compile(rb"\r?\n\r?\n")
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)


class MultipartError(ValueError):
    """A body that is not the multipart the client should have sent."""


@dataclass
class Part:
    """One MIME part: lower-cased headers and the raw body bytes."""

    headers: dict[str, str]
    body: bytes


@dataclass
class SubRequest:
    """One application/http part of a batch."""

    content_id: str | None
    method: str
    target: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def boundary_of(content_type: str | None) -> str:
    """The boundary parameter of a multipart Content-Type."""
    m = _BOUNDARY.search(content_type or "")
    if not m:
        raise MultipartError(f"no multipart boundary in Content-Type {content_type!r}")
    return m.group(1)


def _headers(block: bytes) -> dict[str, str]:
    text = re.sub(r"\r?\n[ \t]+", " ", block.decode("utf-8", "replace"))
    out: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep:
            out[name.strip().lower()] = value.strip()
    return out


def split(body: bytes, boundary: str) -> list[Part]:
    """The parts of a multipart body (RFC 2046 delimiters, CRLF or LF)."""
    delimiter = re.compile(rb"(?:^|\r?\n)--" + re.escape(boundary.encode()) + rb"(--)?[ \t]*(?:\r?\n|$)")
    pieces, pos, closed = [], None, False
    for m in delimiter.finditer(body):
        if pos is not None:
            pieces.append(body[pos : m.start()])
        pos = m.end()
        if m.group(1):
            closed = True
            break
    if not closed:
        raise MultipartError("multipart body without a closing delimiter")
    parts = []
    for piece in pieces:
        m = _BLANK.search(piece)
        head, rest = (piece[: m.start()], piece[m.end() :]) if m else (piece, b"")
        parts.append(Part(_headers(head), rest))
    return parts


def parse_batch(body: bytes, content_type: str | None) -> list[SubRequest]:
    """The sub-requests of a batch POST."""
    out = []
    for part in split(body, boundary_of(content_type)):
        if not part.headers.get("content-type", "").lower().startswith("application/http"):
            raise MultipartError(f"batch part with Content-Type {part.headers.get('content-type')!r}")
        line_end = part.body.find(b"\n")
        if line_end < 0:
            raise MultipartError("batch part without a request line")
        request_line = part.body[:line_end].decode("latin-1").strip()
        try:
            method, target, _version = request_line.split(" ", 2)
        except ValueError:
            raise MultipartError(f"bad request line {request_line!r}") from None
        rest = part.body[line_end + 1 :]
        m = _BLANK.search(rest)
        if rest.startswith((b"\n", b"\r\n")):
            head, payload = b"", rest.lstrip(b"\r\n")
        elif m:
            head, payload = rest[: m.start()], rest[m.end() :]
        else:
            head, payload = rest, b""
        headers = _headers(head)
        if "content-length" in headers and headers["content-length"].isdigit():
            payload = payload[: int(headers["content-length"])]
        out.append(SubRequest(part.headers.get("content-id"), method, target, headers, payload))
    return out


def response_content_id(request_id: str | None) -> str | None:
    """`<abc + 1>` -> `<response-abc + 1>`, as Google echoes it."""
    if request_id is None:
        return None
    inner = request_id.strip()
    if inner.startswith("<") and inner.endswith(">"):
        inner = inner[1:-1]
    return f"<response-{inner}>"


def build_batch_response(parts: list[tuple[str | None, int, dict[str, str], bytes]]) -> tuple[str, bytes]:
    """(Content-Type, body) for answers (content id, status, headers, body)."""
    boundary = "batch_" + uuid.uuid4().hex
    chunks: list[bytes] = []
    for content_id, status, headers, payload in parts:
        head = "Content-Type: application/http\r\n"
        if content_id is not None:
            head += f"Content-ID: {content_id}\r\n"
        reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Unknown"
        inner = f"HTTP/1.1 {status} {reason}\r\n"
        for name, value in {**headers, "Content-Length": str(len(payload))}.items():
            inner += f"{name}: {value}\r\n"
        chunks.append(f"--{boundary}\r\n{head}\r\n{inner}\r\n".encode() + payload + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return f"multipart/mixed; boundary={boundary}", b"".join(chunks)


def parse_related(body: bytes, content_type: str | None) -> tuple[bytes, bytes, str]:
    """A multipart/related upload: (JSON metadata bytes, media bytes, media type)."""
    parts = split(body, boundary_of(content_type))
    if len(parts) != 2:
        raise MultipartError(f"multipart upload with {len(parts)} parts (expected metadata + media)")
    return parts[0].body, parts[1].body, parts[1].headers.get("content-type", "")
