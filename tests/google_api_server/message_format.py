"""Gmail Message resources in the formats messages.get / drafts.get answer with."""

from __future__ import annotations

import base64
import email
import email.message
import email.policy
import html
import re
from typing import Any

from .mail import StoredMessage

FORMATS = ("minimal", "full", "raw", "metadata")


def b64url(data: bytes) -> str:
    """base64url, as Gmail encodes `raw` and body `data` (padding kept)."""
    return base64.urlsafe_b64encode(data).decode("ascii")


def resource(msg: StoredMessage, fmt: str = "full", metadata_headers: list[str] | None = None) -> dict[str, Any]:
    """The Message resource for `msg` in format `fmt`."""
    out: dict[str, Any] = {"id": msg.id, "threadId": msg.thread_id}
    if msg.labels:
        out["labelIds"] = sorted(msg.labels)
    out["snippet"] = snippet(msg)
    if fmt == "raw":
        out["raw"] = b64url(msg.raw)
    elif fmt == "metadata":
        wanted = {h.lower() for h in metadata_headers or ()}
        headers = [
            {"name": n, "value": v} for n, v in msg.headers if not wanted or n.lower() in wanted
        ]
        out["payload"] = {"mimeType": _mime_type(msg.header("Content-Type")), "headers": headers}
    elif fmt == "full":
        out["payload"] = _part(_parse(msg.raw), "")
    out["sizeEstimate"] = len(msg.raw)
    out["historyId"] = str(msg.history_id)
    out["internalDate"] = str(msg.internal_date)
    return out


def ids(msg: StoredMessage) -> dict[str, str]:
    """The `{id, threadId}` stub lists answer with."""
    return {"id": msg.id, "threadId": msg.thread_id}


def snippet(msg: StoredMessage) -> str:
    """A short plain-text excerpt, HTML-escaped like Gmail's (cached)."""
    if msg.snippet_cache is None:
        text = ""
        for part in _parse(msg.raw).walk():
            if part.get_content_maintype() == "text" and not part.is_multipart():
                payload = part.get_payload(decode=True) or b""
                charset = part.get_content_charset() or "utf-8"
                try:
                    text = payload.decode(charset, "replace")
                except LookupError:
                    text = payload.decode("utf-8", "replace")
                if part.get_content_subtype() == "html":
                    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
                break
        msg.snippet_cache = html.escape(" ".join(text.split())[:200])
    return msg.snippet_cache


def _parse(raw: bytes) -> email.message.Message:
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def _mime_type(content_type: str | None) -> str:
    if not content_type:
        return "text/plain"
    return content_type.split(";", 1)[0].strip().lower() or "text/plain"


def _part(part: email.message.Message, part_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "partId": part_id,
        "mimeType": part.get_content_type(),
        "filename": part.get_filename() or "",
        "headers": [{"name": n, "value": str(v)} for n, v in part.items()],
    }
    if part.is_multipart():
        out["body"] = {"size": 0}
        children = part.get_payload()
        prefix = f"{part_id}." if part_id else ""
        out["parts"] = [_part(child, f"{prefix}{i}") for i, child in enumerate(children)]
    else:
        data = part.get_payload(decode=True) or b""
        out["body"] = {"size": len(data)}
        if data:
            out["body"]["data"] = b64url(data)
    return out

