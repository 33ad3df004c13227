"""Gmail v1 method handlers, over a Mailbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import message_format
from .call import Call
from .contract import decode_bytes
from .errors import ApiError, bad_request
from .mailbox import HistoryRecord, Mailbox
from .paging import PageCache

Result = tuple[int, "dict[str, Any] | None"]


class GmailApi:
    """users.getProfile, messages.{list,get,send}, history.list, drafts.{create,list,get,delete,send}."""

    def __init__(self, mailbox: Mailbox, pages: PageCache) -> None:
        self.mailbox = mailbox
        self.pages = pages
        self.handlers: dict[str, Callable[[Call], Result]] = {
            "gmail.users.getProfile": self.get_profile,
            "gmail.users.messages.list": self.list_messages,
            "gmail.users.messages.get": self.get_message,
            "gmail.users.messages.send": self.send_message,
            "gmail.users.history.list": self.list_history,
            "gmail.users.drafts.create": self.create_draft,
            "gmail.users.drafts.list": self.list_drafts,
            "gmail.users.drafts.get": self.get_draft,
            "gmail.users.drafts.delete": self.delete_draft,
            "gmail.users.drafts.send": self.send_draft,
        }

    def handle(self, call: Call) -> Result | None:
        """Run the handler for the call's method; None when it is not implemented."""
        handler = self.handlers.get(call.spec.id)
        if handler is None:
            return None
        user = call.params.get("userId", "me")
        if user not in ("me", self.mailbox.profile_email):
            raise ApiError(403, f"Delegation denied for {self.mailbox.profile_email}", "forbidden")
        return handler(call)

    # ------------------------------------------------------------- profile

    def get_profile(self, call: Call) -> Result:
        return 200, self.mailbox.profile()

    # ------------------------------------------------------------ messages

    def _page(self, call: Call, compute: Callable[[], list[Any]], default: int, cap: int,
              key: Any) -> tuple[list[Any], str | None, int]:
        """One page of `compute()` (or of the snapshot a pageToken names), next token, total."""
        size = max(1, min(int(call.params.get("maxResults", default)), cap))
        token = call.params.get("pageToken")
        if token:
            resumed = self.pages.resume(token)
            if resumed is None or resumed[2] != key:
                raise bad_request("Invalid pageToken", "invalid")
            items, offset, _ = resumed
        else:
            items, offset = compute(), 0
        page, next_token = self.pages.page(items, offset, size, key)
        return page, next_token, len(items)

    def list_messages(self, call: Call) -> Result:
        p = call.params
        labels = list(p.get("labelIds", []))
        spam = bool(p.get("includeSpamTrash", False))
        key = ("messages", p.get("q"), tuple(labels), spam)
        page, next_token, total = self._page(
            call, lambda: self.mailbox.search(p.get("q"), labels, spam, call.now_ms), 100, 500, key
        )
        msgs = self.mailbox.index.messages
        live = [m for m in (msgs[i] for i in page) if m is not None]
        out: dict[str, Any] = {}
        if live:
            out["messages"] = [message_format.ids(m) for m in live]
        if next_token:
            out["nextPageToken"] = next_token
        out["resultSizeEstimate"] = total
        return 200, out

    def get_message(self, call: Call) -> Result:
        msg = self.mailbox.get(call.params["id"])
        fmt = call.params.get("format", "full")
        return 200, message_format.resource(msg, fmt, call.params.get("metadataHeaders"))

    def _raw(self, call: Call, holder: dict[str, Any] | None) -> bytes:
        if call.media is not None:
            return call.media
        raw = (holder or {}).get("raw")
        if not raw:
            raise bad_request("'raw' RFC822 payload message string or uploading message via /upload/* URL required", "invalidArgument")
        data = decode_bytes(raw)
        if data is None:
            raise bad_request("Invalid value for ByteString", "invalidArgument")
        return data

    def send_message(self, call: Call) -> Result:
        body = call.body or {}
        sent = self.mailbox.send(self._raw(call, body), body.get("threadId"), call.now, "messages.send")
        return 200, {"id": sent.id, "threadId": sent.thread_id, "labelIds": ["SENT"]}

    # ------------------------------------------------------------- history

    def list_history(self, call: Call) -> Result:
        p = call.params
        if "startHistoryId" not in p:
            raise bad_request("Missing required parameter: startHistoryId", "required")
        try:
            start = int(p["startHistoryId"])
        except ValueError:
            raise bad_request(f"Invalid startHistoryId: {p['startHistoryId']}", "invalidArgument") from None
        key = ("history", start, tuple(p.get("historyTypes", [])), p.get("labelId"))
        page, next_token, _ = self._page(
            call, lambda: self.mailbox.history_since(start, p.get("historyTypes"), p.get("labelId")), 100, 500, key
        )
        out: dict[str, Any] = {}
        if page:
            out["history"] = [_history_json(r) for r in page]
        if next_token:
            out["nextPageToken"] = next_token
        out["historyId"] = str(self.mailbox.history_id)
        return 200, out

    # -------------------------------------------------------------- drafts

    def create_draft(self, call: Call) -> Result:
        body = call.body or {}
        message = body.get("message")
        if call.media is None and not isinstance(message, dict):
            raise bad_request("Missing draft message", "invalidArgument")
        raw = self._raw(call, message)
        draft_id, msg = self.mailbox.create_draft(raw, (message or {}).get("threadId"), call.now)
        return 200, {"id": draft_id, "message": {"id": msg.id, "threadId": msg.thread_id, "labelIds": ["DRAFT"]}}

    def list_drafts(self, call: Call) -> Result:
        p = call.params
        box = self.mailbox

        def compute() -> list[Any]:
            by_msg = {box.draft_message(d).idx: d for d in box.drafts}
            return [by_msg[i] for i in box.search(p.get("q"), [], True, call.now_ms, within=set(by_msg))]

        page, next_token, total = self._page(call, compute, 100, 500, ("drafts", p.get("q")))
        drafts = [(d, box.by_id.get(box.drafts.get(d, ""))) for d in page]
        out: dict[str, Any] = {}
        if any(m is not None for _, m in drafts):
            out["drafts"] = [{"id": d, "message": message_format.ids(m)} for d, m in drafts if m is not None]
        if next_token:
            out["nextPageToken"] = next_token
        out["resultSizeEstimate"] = total
        return 200, out

    def get_draft(self, call: Call) -> Result:
        msg = self.mailbox.draft_message(call.params["id"])
        fmt = call.params.get("format", "full")
        return 200, {"id": call.params["id"], "message": message_format.resource(msg, fmt)}

    def delete_draft(self, call: Call) -> Result:
        self.mailbox.delete_draft(call.params["id"])
        return 204, None

    def send_draft(self, call: Call) -> Result:
        draft_id = (call.body or {}).get("id")
        if not draft_id:
            raise bad_request("Invalid draft id", "invalidArgument")
        sent = self.mailbox.send_draft(draft_id, call.now, "drafts.send")
        return 200, {"id": sent.id, "threadId": sent.thread_id, "labelIds": ["SENT"]}


def _history_json(record: HistoryRecord) -> dict[str, Any]:
    stub = {"id": record.message_id, "threadId": record.thread_id}
    full = {**stub, "labelIds": list(record.labels)} if record.labels else dict(stub)
    out: dict[str, Any] = {"id": str(record.id), "messages": [stub]}
    if record.kind == "messageAdded":
        out["messagesAdded"] = [{"message": full}]
    elif record.kind == "messageDeleted":
        out["messagesDeleted"] = [{"message": full}]
    elif record.kind == "labelAdded":
        out["labelsAdded"] = [{"message": full, "labelIds": list(record.changed)}]
    else:
        out["labelsRemoved"] = [{"message": full, "labelIds": list(record.changed)}]
    return out
