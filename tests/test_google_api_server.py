"""The local Google API server, driven by the real google-api-python-client over HTTP."""

from __future__ import annotations

import base64
import email.message
import json
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import httplib2
import pytest
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaInMemoryUpload

from tests.google_api_server import (
    GMAIL_READONLY,
    GoogleApiServer,
    assert_no_violations,
    build_service,
    credentials,
    new_batch,
)
from tests.google_api_server.pytest_plugin import (  # noqa: F401  (fixtures)
    calendar_service,
    gmail_service,
    google_api_server,
    google_api_server_factory,
    google_credentials,
)

NOW = datetime(2024, 6, 3, 12, 0, tzinfo=UTC)
OWNER = "owner@example.com"


def mail(sender: str, to: str, subject: str = "hello", *, cc: str | None = None, bcc: str | None = None,
         msgid: str | None = None, in_reply_to: str | None = None, body: str = "Hi there.") -> bytes:
    msg = email.message.EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    if cc:
        msg["Cc"] = cc
    if bcc:
        msg["Bcc"] = bcc
    if msgid:
        msg["Message-ID"] = msgid
    if in_reply_to:
        msg["In-Reply-To"] = msg["References"] = in_reply_to
    msg.set_content(body)
    return bytes(msg)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def error_of(exc: HttpError) -> dict[str, Any]:
    return json.loads(exc.content)["error"]


@pytest.fixture
def server(google_api_server_factory: Any) -> GoogleApiServer:
    return google_api_server_factory(profile_email=OWNER, clock=lambda: NOW)


@pytest.fixture
def gmail(server: GoogleApiServer) -> Any:
    return build_service(server, "gmail")


@pytest.fixture
def calendar(server: GoogleApiServer) -> Any:
    return build_service(server, "calendar")


def list_ids(gmail: Any, **kwargs: Any) -> list[str]:
    ids, token = [], None
    while True:
        page = gmail.users().messages().list(userId="me", pageToken=token, **kwargs).execute()
        ids += [m["id"] for m in page.get("messages", [])]
        token = page.get("nextPageToken")
        if not token:
            return ids


# ------------------------------------------------------------------ Gmail


def test_profile_counts_messages_and_threads(server: GoogleApiServer, gmail: Any) -> None:
    first = server.add_message(mail("a@x.com", OWNER, "topic", msgid="<m1@x.com>"))
    server.add_message(mail(OWNER, "a@x.com", "Re: topic", in_reply_to="<m1@x.com>"), labels=("SENT",))
    server.add_message(mail("b@x.com", OWNER, "other"))

    profile = gmail.users().getProfile(userId="me").execute()

    assert profile == {"emailAddress": OWNER, "messagesTotal": 3, "threadsTotal": 2,
                       "historyId": str(server.history_id)}
    assert server.message(first).thread_id == first


def test_list_supports_the_q_operators_villaged_sends(server: GoogleApiServer, gmail: Any) -> None:
    day = datetime(2024, 5, 1, tzinfo=UTC)
    alice = server.add_message(mail("Alice Smith <alice@example.com>", OWNER, msgid="<a@example.com>"), internal_date=day)
    malice = server.add_message(mail("malice@example.com", OWNER), internal_date=day + timedelta(days=1))
    to_bob = server.add_message(mail(OWNER, "Bob <bob@example.org>", cc="carol@example.org"), labels=("SENT",),
                                internal_date=day + timedelta(days=2))
    bcc = server.add_message(mail(OWNER, "x@y.com", bcc="dave@example.net"), labels=("SENT",),
                             internal_date=day + timedelta(days=3))
    chat = server.add_message(mail("alice@example.com", OWNER), labels=("CHAT",), internal_date=day + timedelta(days=4))
    spam = server.add_message(mail("alice@example.com", OWNER), labels=("SPAM",), internal_date=day + timedelta(days=5))

    def q(query: str, **kw: Any) -> list[str]:
        return list_ids(gmail, q=query, **kw)

    assert q("from:alice@example.com") == [chat, alice]  # newest first, spam excluded, malice is not alice
    assert q("from:alice@example.com", includeSpamTrash=True) == [spam, chat, alice]
    assert q("from:alice") == [chat, alice]  # display-name / local-part words
    assert q("FROM:ALICE@EXAMPLE.COM -in:chats") == [alice]
    assert q("to:bob@example.org") == [to_bob]
    assert q("cc:carol@example.org") == [to_bob]
    assert q("to:carol@example.org") == [to_bob]  # Gmail's to: covers Cc/Bcc too
    assert q("bcc:dave@example.net") == [bcc]
    assert q("from:me") == [bcc, to_bob]
    assert q("{from:malice@example.com to:bob@example.org}") == [to_bob, malice]
    assert q("(from:malice@example.com OR to:bob@example.org) -in:sent") == [malice]
    assert q("from:{alice@example.com malice@example.com} -in:chats") == [malice, alice]
    after = int((day + timedelta(days=1)).timestamp())
    before = int((day + timedelta(days=3)).timestamp())
    assert q(f"after:{after} before:{before}") == [to_bob, malice]
    assert q("after:2024/05/02 before:2024/05/04") == [bcc, to_bob]  # dates in Gmail's PST
    assert q("in:sent") == [bcc, to_bob]
    assert q("in:inbox") == [malice, alice]
    assert q("label:chat") == [chat]
    assert q("rfc822msgid:<a@example.com>") == [alice]
    assert q("rfc822msgid:a@example.com") == [alice]
    assert q("from:(alice@example.com OR malice@example.com) -in:chats") == [malice, alice]
    assert q("-{in:inbox in:chats}") == [bcc, to_bob]
    assert q("in:chats", labelIds=["INBOX"]) == []
    assert_no_violations(server)


def test_list_pages_newest_first_and_omits_empty_messages(server: GoogleApiServer, gmail: Any) -> None:
    ids = [server.add_message(mail(f"p{i}@x.com", OWNER), internal_date=1_700_000_000_000 + i) for i in range(25)]

    first = gmail.users().messages().list(userId="me", maxResults=10).execute()
    assert [m["id"] for m in first["messages"]] == ids[::-1][:10]
    assert first["resultSizeEstimate"] == 25 and "nextPageToken" in first
    assert list_ids(gmail, maxResults=10) == ids[::-1]
    assert gmail.users().messages().list(userId="me", q="from:nobody@x.com").execute() == {"resultSizeEstimate": 0}


def test_unsupported_q_is_a_400_and_a_violation(server: GoogleApiServer, gmail: Any) -> None:
    with server.expect_violations() as found:
        with pytest.raises(HttpError) as err:
            gmail.users().messages().list(userId="me", q="subject:lunch").execute()
    assert err.value.resp.status == 400
    assert "subject" in found[0]


def test_metadata_get_honours_metadata_headers_and_fields(server: GoogleApiServer, gmail: Any) -> None:
    mid = server.add_message(mail("a@x.com", OWNER, "Plans", cc="c@x.com"), internal_date=1_717_000_000_000)

    got = gmail.users().messages().get(
        userId="me", id=mid, format="metadata", metadataHeaders=["From", "Subject"],
        fields="id,threadId,internalDate,labelIds,payload/headers",
    ).execute()

    assert got == {"id": mid, "threadId": mid, "internalDate": "1717000000000", "labelIds": ["INBOX"],
                   "payload": {"headers": [{"name": "From", "value": "a@x.com"},
                                           {"name": "Subject", "value": "Plans"}]}}
    raw = gmail.users().messages().get(userId="me", id=mid, format="raw", fields="raw").execute()
    assert base64.urlsafe_b64decode(raw["raw"]) == server.message(mid).raw
    full = gmail.users().messages().get(userId="me", id=mid).execute()
    assert full["payload"]["mimeType"] == "text/plain" and full["snippet"] == "Hi there."
    with pytest.raises(HttpError) as err:
        gmail.users().messages().get(userId="me", id="ffff").execute()
    assert err.value.resp.status == 404 and error_of(err.value)["errors"][0]["reason"] == "notFound"


def test_batch_of_50_gets_echoes_content_ids(server: GoogleApiServer, gmail: Any) -> None:
    ids = [server.add_message(mail(f"p{i}@x.com", OWNER)) for i in range(50)]
    results: dict[str, Any] = {}
    batch = new_batch(server, "gmail", callback=lambda rid, resp, exc: results.__setitem__(rid, (resp, exc)))
    for mid in ids:
        batch.add(gmail.users().messages().get(userId="me", id=mid, format="metadata", metadataHeaders=["From"]),
                  request_id=mid)
    server.reset_stats()

    batch.execute()

    assert set(results) == set(ids)
    assert all(exc is None and resp["id"] == rid for rid, (resp, exc) in results.items())
    assert server.stats.round_trips == 1 and server.stats.sub_requests == 50
    assert server.stats.quota_units == 250


def test_batch_answer_parts_carry_response_content_ids(server: GoogleApiServer) -> None:
    mid = server.add_message(mail("a@x.com", OWNER))
    body = (
        "--BOUNDARY\r\nContent-Type: application/http\r\nContent-ID: <abc + 7>\r\n\r\n"
        f"GET /gmail/v1/users/me/messages/{mid}?format=minimal HTTP/1.1\r\nAuthorization: Bearer t\r\n\r\n"
        "\r\n--BOUNDARY--\r\n"
    ).encode()
    req = urllib.request.Request(server.batch_uri("gmail"), data=body, method="POST",
                                 headers={"Content-Type": "multipart/mixed; boundary=BOUNDARY"})
    with urllib.request.urlopen(req) as resp:
        text = resp.read().decode()
        assert resp.headers["Content-Type"].startswith("multipart/mixed; boundary=batch_")
    assert "Content-ID: <response-abc + 7>" in text
    assert "HTTP/1.1 200 OK\r\n" in text


def test_history_lists_changes_and_404s_once_expired(server: GoogleApiServer, gmail: Any) -> None:
    start = gmail.users().getProfile(userId="me").execute()["historyId"]
    first = server.add_message(mail("a@x.com", OWNER))
    second = server.add_message(mail("b@x.com", OWNER))
    server.modify_labels(first, add=("STARRED",))

    added = gmail.users().history().list(userId="me", startHistoryId=start, historyTypes=["messageAdded"]).execute()
    assert [h["messagesAdded"][0]["message"]["id"] for h in added["history"]] == [first, second]
    assert added["history"][0]["messagesAdded"][0]["message"]["labelIds"] == ["INBOX"]
    assert added["historyId"] == str(server.history_id)
    paged = gmail.users().history().list(userId="me", startHistoryId=start, maxResults=2).execute()
    rest = gmail.users().history().list(userId="me", startHistoryId=start, pageToken=paged["nextPageToken"]).execute()
    assert rest["history"][0]["labelsAdded"][0]["labelIds"] == ["STARRED"]
    now_id = gmail.users().getProfile(userId="me").execute()["historyId"]
    assert "history" not in gmail.users().history().list(userId="me", startHistoryId=now_id).execute()

    server.expire_history()

    with pytest.raises(HttpError) as err:
        gmail.users().history().list(userId="me", startHistoryId=start).execute()
    assert err.value.resp.status == 404
    fresh = gmail.users().getProfile(userId="me").execute()["historyId"]
    assert gmail.users().history().list(userId="me", startHistoryId=fresh).execute() == {"historyId": fresh}


def test_drafts_create_list_get_delete(server: GoogleApiServer, gmail: Any) -> None:
    original = server.add_message(mail("a@x.com", OWNER, "Lunch?", msgid="<orig@x.com>"))
    reply = mail(OWNER, "a@x.com", "Re: Lunch?", in_reply_to="<orig@x.com>", msgid="<draft-1@villaged>")
    created = gmail.users().drafts().create(
        userId="me", body={"message": {"raw": b64(reply), "threadId": original}}).execute()
    fresh = gmail.users().drafts().create(userId="me", body={"message": {"raw": b64(mail(OWNER, "b@x.com"))}}).execute()

    assert created["message"]["threadId"] == original and created["message"]["labelIds"] == ["DRAFT"]
    listing = gmail.users().drafts().list(userId="me").execute()
    assert [d["id"] for d in listing["drafts"]] == [fresh["id"], created["id"]]
    got = gmail.users().drafts().get(userId="me", id=created["id"], format="raw").execute()
    assert base64.urlsafe_b64decode(got["message"]["raw"]).endswith(reply)  # Gmail adds a Date header
    assert list_ids(gmail, q="in:drafts rfc822msgid:draft-1@villaged") == [created["message"]["id"]]
    assert server.drafts()[0].raw.startswith(b"Date: ") and server.drafts()[0].raw.endswith(reply)

    gmail.users().drafts().delete(userId="me", id=created["id"]).execute()
    assert [d.id for d in server.drafts()] == [fresh["id"]]
    with pytest.raises(HttpError) as err:
        gmail.users().drafts().get(userId="me", id=created["id"]).execute()
    assert err.value.resp.status == 404


def test_draft_in_a_thread_needs_references_and_subject(server: GoogleApiServer, gmail: Any) -> None:
    original = server.add_message(mail("a@x.com", OWNER, "Lunch?", msgid="<orig@x.com>"))
    unthreaded = mail(OWNER, "a@x.com", "Something else")
    created = gmail.users().drafts().create(
        userId="me", body={"message": {"raw": b64(unthreaded), "threadId": original}}).execute()
    assert created["message"]["threadId"] != original


def test_owner_sending_a_draft_shows_in_history(server: GoogleApiServer, gmail: Any) -> None:
    draft = gmail.users().drafts().create(userId="me", body={"message": {"raw": b64(mail(OWNER, "b@x.com"))}}).execute()
    start = gmail.users().getProfile(userId="me").execute()["historyId"]

    sent_id = server.send_draft(draft["id"])

    history = gmail.users().history().list(userId="me", startHistoryId=start).execute()["history"]
    assert [next(k for k in h if k.startswith("messages") and k != "messages") for h in history] == [
        "messagesDeleted", "messagesAdded"]
    assert history[1]["messagesAdded"][0]["message"] == {"id": sent_id, "threadId": sent_id, "labelIds": ["SENT"]}
    assert server.drafts() == [] and server.sent_messages() == []
    assert [s.id for s in server.sent_messages(include_owner=True)] == [sent_id]


def test_messages_send_is_recorded_with_envelope(server: GoogleApiServer, gmail: Any) -> None:
    raw = mail(OWNER, "Owner <owner@example.com>", "Weekly digest", cc="c@x.com", bcc="b@x.com")
    sent = gmail.users().messages().send(userId="me", body={"raw": b64(raw)}).execute()
    upload = MediaInMemoryUpload(mail(OWNER, OWNER, "via upload"), mimetype="message/rfc822")
    req = gmail.users().messages().send(userId="me", body={}, media_body=upload)
    assert req.uri.startswith("https://")  # the client keeps https for media paths, even for an http endpoint
    req.uri = "http://" + req.uri[len("https://"):]
    req.execute()

    records = server.sent_messages()
    assert [r.id for r in records][0] == sent["id"] and sent["labelIds"] == ["SENT"]
    assert records[0].recipients == ("owner@example.com", "c@x.com", "b@x.com")
    assert records[0].raw.endswith(raw) and b"Message-ID:" in records[0].raw
    assert records[1].recipients == (OWNER,)
    assert list_ids(gmail, q="in:sent") == [records[1].id, records[0].id]


def test_default_fixtures_serve_both_apis(google_api_server: GoogleApiServer, gmail_service: Any,
                                          calendar_service: Any) -> None:
    google_api_server.add_message(mail("a@x.com", "owner@example.com"))
    assert gmail_service.users().getProfile(userId="me").execute()["messagesTotal"] == 1
    assert calendar_service.events().list(calendarId="primary").execute()["items"] == []


# --------------------------------------------------------------- Calendar


def event(start: datetime, hours: float = 1, **extra: Any) -> dict[str, Any]:
    return {"summary": extra.pop("summary", "Meeting"), "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(hours=hours)).isoformat()}, **extra}


def all_pages(calendar: Any, **kwargs: Any) -> tuple[list[dict[str, Any]], str, int]:
    items, token, pages = [], None, 0
    while True:
        page = calendar.events().list(calendarId="primary", pageToken=token, **kwargs).execute()
        items += page["items"]
        pages += 1
        token = page.get("nextPageToken")
        if not token:
            assert "nextSyncToken" in page
            return items, page["nextSyncToken"], pages
        assert "nextSyncToken" not in page


def test_events_list_pages_and_syncs_incrementally(server: GoogleApiServer, calendar: Any) -> None:
    base = datetime(2024, 6, 10, 9, tzinfo=UTC)
    ids = [server.add_event("primary", event(base + timedelta(days=i), summary=f"e{i}")) for i in range(7)]
    series = server.add_event("primary", {**event(base), "id": "weekly", "recurrence": ["RRULE:FREQ=WEEKLY"]})
    inst = server.add_event("primary", {**event(base + timedelta(days=7)), "recurringEventId": series,
                                        "originalStartTime": {"dateTime": (base + timedelta(days=7)).isoformat()}})

    items, sync, pages = all_pages(calendar, singleEvents=True, maxResults=3, timeMin="2024-06-11T00:00:00Z",
                                   orderBy="startTime")
    assert pages == 3 and [e["id"] for e in items] == ids[1:] + [inst]
    assert all(e["organizer"] == {"email": OWNER, "self": True} for e in items)

    server.update_event("primary", ids[2], {"summary": "moved"})
    server.cancel_event("primary", ids[3])
    server.delete_event("primary", ids[4])
    changed, sync2, _ = all_pages(calendar, singleEvents=True, syncToken=sync)
    assert [(e["id"], e.get("status")) for e in changed] == [
        (ids[2], "confirmed"), (ids[3], "cancelled"), (ids[4], "cancelled")]
    assert changed[1] == {"kind": "calendar#event", "etag": changed[1]["etag"], "id": ids[3], "status": "cancelled"}
    assert all_pages(calendar, singleEvents=True, syncToken=sync2)[0] == []
    shown = [e["id"] for e in all_pages(calendar, singleEvents=True, showDeleted=True)[0]]
    assert ids[3] in shown and ids[4] not in shown

    server.expire_sync_tokens()
    with pytest.raises(HttpError) as err:
        calendar.events().list(calendarId="primary", singleEvents=True, syncToken=sync2).execute()
    assert err.value.resp.status == 410 and error_of(err.value)["errors"][0]["reason"] == "fullSyncRequired"


def test_events_list_honours_fields(server: GoogleApiServer, calendar: Any) -> None:
    server.add_event("primary", event(NOW, location="Cafe"))
    page = calendar.events().list(calendarId="primary", singleEvents=True,
                                  fields="items(id,start/dateTime,status),nextSyncToken").execute()
    assert set(page) == {"items", "nextSyncToken"}
    assert page["items"][0].keys() == {"id", "start", "status"} and page["items"][0]["start"].keys() == {"dateTime"}


def test_sync_token_with_time_min_is_refused(server: GoogleApiServer, calendar: Any) -> None:
    _, sync, _ = all_pages(calendar)
    with server.expect_violations():
        with pytest.raises(HttpError) as err:
            calendar.events().list(calendarId="primary", syncToken=sync, timeMin="2024-01-01T00:00:00Z").execute()
    assert err.value.resp.status == 400


def test_calendar_paths_with_and_without_service_path(server: GoogleApiServer) -> None:
    server.add_event("primary", event(NOW))
    for endpoint in (server.url, server.url + "calendar/v3/"):
        from googleapiclient.discovery import build

        svc = build("calendar", "v3", credentials=credentials(server), static_discovery=True,
                    client_options={"api_endpoint": endpoint})
        assert len(svc.events().list(calendarId="primary").execute()["items"]) == 1


def test_freebusy_merges_opaque_accepted_events(server: GoogleApiServer, calendar: Any) -> None:
    day = datetime(2024, 6, 10, tzinfo=UTC)
    server.add_event("primary", event(day.replace(hour=9)))
    server.add_event("primary", event(day.replace(hour=9, minute=30), hours=1))  # overlaps: merged
    server.add_event("primary", event(day.replace(hour=13), transparency="transparent"))
    server.add_event("primary", event(day.replace(hour=15), attendees=[
        {"email": OWNER, "responseStatus": "declined"}, {"email": "x@y.com", "responseStatus": "accepted"}]))
    gone = server.add_event("primary", event(day.replace(hour=17)))
    server.cancel_event("primary", gone)
    server.add_event("primary", event(day.replace(hour=23), hours=3))  # clipped at timeMax

    answer = calendar.freebusy().query(body={
        "timeMin": "2024-06-10T00:00:00Z", "timeMax": "2024-06-11T00:00:00Z", "timeZone": "UTC",
        "items": [{"id": "primary"}, {"id": "nobody@x.com"}]}).execute()

    assert answer["calendars"]["primary"]["busy"] == [
        {"start": "2024-06-10T09:00:00Z", "end": "2024-06-10T10:30:00Z"},
        {"start": "2024-06-10T23:00:00Z", "end": "2024-06-11T00:00:00Z"}]
    assert answer["calendars"]["nobody@x.com"]["errors"][0]["reason"] == "notFound"


# -------------------------------------------------------- auth and scopes


def test_token_refresh_tokeninfo_and_invalid_grant(server: GoogleApiServer) -> None:
    import google.auth.exceptions

    creds = credentials(server, token=None)
    gmail = build_service(server, "gmail", creds)
    gmail.users().getProfile(userId="me").execute()
    assert creds.token.startswith("ya29.local-") and server.auth.refreshes == 1

    with urllib.request.urlopen(server.url + f"oauth2/v3/tokeninfo?access_token={creds.token}") as resp:
        info = json.load(resp)
    assert set(info["scope"].split()) == set(server.granted_scopes) and int(info["expires_in"]) > 0

    server.expire_access_tokens()  # 401 -> the client refreshes and retries
    gmail.users().getProfile(userId="me").execute()
    assert server.auth.refreshes == 2 and server.stats.token_requests == 3  # 2 refreshes + 1 tokeninfo

    server.revoke()
    with pytest.raises(google.auth.exceptions.RefreshError, match="invalid_grant"):
        gmail.users().getProfile(userId="me").execute()


def test_missing_scope_is_403_and_a_violation(google_api_server_factory: Any) -> None:
    server = google_api_server_factory(scopes=[GMAIL_READONLY])
    gmail = build_service(server, "gmail")
    with server.expect_violations() as found:
        with pytest.raises(HttpError) as err:
            gmail.users().drafts().create(userId="me", body={"message": {"raw": b64(mail(OWNER, "a@x.com"))}}).execute()
    assert err.value.resp.status == 403 and "gmail.compose" in found[0]
    assert error_of(err.value)["errors"][0]["reason"] == "insufficientPermissions"


# ----------------------------------------------- accounting and faults


def test_quota_round_trips_and_call_counts(server: GoogleApiServer, gmail: Any, calendar: Any) -> None:
    mid = server.add_message(mail("a@x.com", OWNER))
    server.reset_stats()
    gmail.users().getProfile(userId="me").execute()
    gmail.users().messages().list(userId="me").execute()
    gmail.users().messages().get(userId="me", id=mid).execute()
    gmail.users().history().list(userId="me", startHistoryId="1").execute()
    draft = gmail.users().drafts().create(userId="me", body={"message": {"raw": b64(mail(OWNER, "a@x.com"))}}).execute()
    gmail.users().drafts().list(userId="me").execute()
    gmail.users().drafts().get(userId="me", id=draft["id"]).execute()
    gmail.users().drafts().delete(userId="me", id=draft["id"]).execute()
    gmail.users().messages().send(userId="me", body={"raw": b64(mail(OWNER, OWNER))}).execute()
    calendar.events().list(calendarId="primary").execute()

    stats = server.stats
    assert stats.quota_units == 1 + 5 + 5 + 2 + 10 + 5 + 5 + 10 + 100 + 1
    assert stats.round_trips == 10 and stats.calls["gmail.users.drafts.create"] == 1
    server.reset_stats()
    assert stats.snapshot()["quota_units"] == 0 and stats.round_trips == 0


def test_random_faults_are_survived_with_num_retries(server: GoogleApiServer, gmail: Any) -> None:
    server.add_message(mail("a@x.com", OWNER))
    server.configure_faults(rate=0.3, kinds=("429", "403", "500", "503", "drop"), seed=7)
    for _ in range(30):
        req = gmail.users().getProfile(userId="me")
        req._sleep = lambda seconds: None  # keep the client's exponential backoff instant
        assert req.execute(num_retries=10)["messagesTotal"] == 1
    faults = server.stats.faults
    assert len(faults) >= 4 and "drop" in faults, faults
    assert server.stats.round_trips > 30 and server.stats.calls["gmail.users.getProfile"] == 30


def test_fault_bodies_look_like_google(server: GoogleApiServer, gmail: Any) -> None:
    server.queue_fault("429", "gmail.users.getProfile")
    server.queue_fault("403", "gmail.users.getProfile")
    with pytest.raises(HttpError) as err:
        gmail.users().getProfile(userId="me").execute()
    assert error_of(err.value) == {"code": 429, "message": "Too many concurrent requests for user.", "errors": [
        {"message": "Too many concurrent requests for user.", "domain": "global", "reason": "rateLimitExceeded"}],
        "status": "RESOURCE_EXHAUSTED"}
    with pytest.raises(HttpError) as err:
        gmail.users().getProfile(userId="me").execute()
    assert err.value.resp.status == 403 and err.value.reason == "User Rate Limit Exceeded"
    assert error_of(err.value)["errors"][0]["reason"] == "userRateLimitExceeded"


def test_batch_parts_fail_individually(server: GoogleApiServer, gmail: Any) -> None:
    ids = [server.add_message(mail(f"p{i}@x.com", OWNER)) for i in range(20)]
    server.configure_faults(rate=0.5, kinds=("429", "drop"), seed=3, methods=["gmail.users.messages.get"])
    outcome: dict[str, Any] = {}
    batch = new_batch(server, "gmail", callback=lambda rid, resp, exc: outcome.__setitem__(rid, exc))
    for mid in ids:
        batch.add(gmail.users().messages().get(userId="me", id=mid), request_id=mid)
    batch.execute()
    statuses = {exc.resp.status for exc in outcome.values() if exc is not None}
    assert statuses == {429, 503} and None in outcome.values()  # drops become 503 inside a batch


def test_dropped_connection_after_a_write_makes_httplib2_resend(server: GoogleApiServer, gmail: Any) -> None:
    server.queue_fault("drop_after", "gmail.users.drafts.create")
    gmail.users().drafts().create(userId="me", body={"message": {"raw": b64(mail(OWNER, "a@x.com"))}}).execute()
    assert len(server.drafts()) == 2  # httplib2 silently re-sent the POST: clients must dedupe


def test_per_user_rate_limit_refuses_oversized_batches(server: GoogleApiServer, gmail: Any) -> None:
    ids = [server.add_message(mail(f"p{i}@x.com", OWNER)) for i in range(100)]
    server.configure_rate_limit(units_per_second=250, clock=lambda: 0.0)  # no refill: exact counts
    outcome: dict[str, Any] = {}
    batch = new_batch(server, "gmail", callback=lambda rid, resp, exc: outcome.__setitem__(rid, exc))
    for mid in ids:
        batch.add(gmail.users().messages().get(userId="me", id=mid), request_id=mid)
    batch.execute()
    refused = [rid for rid, exc in outcome.items() if exc is not None]
    assert all(outcome[mid] is None for mid in ids[:50])  # 250 units buy 50 gets at 5 units each
    assert len(refused) == 50 and all(outcome[r].resp.status == 429 for r in refused)
    assert server.stats.faults["rate_limit"] == len(refused)


def test_latency_is_added_per_round_trip(server: GoogleApiServer, gmail: Any) -> None:
    server.latency = 0.05
    started = time.perf_counter()
    gmail.users().getProfile(userId="me").execute()
    assert time.perf_counter() - started >= 0.05


# ------------------------------------------------------------- contract


def test_undeclared_parameter_is_caught(server: GoogleApiServer, gmail: Any) -> None:
    req = gmail.users().messages().list(userId="me")
    req.uri += "&labelId=INBOX"  # history.list has labelId; messages.list only labelIds
    with server.expect_violations() as found:
        with pytest.raises(HttpError) as err:
            req.execute()
    assert err.value.resp.status == 400 and "undeclared query parameter 'labelId'" in found[0]


def test_bad_enum_repeat_and_field_selection_are_caught(server: GoogleApiServer, gmail: Any) -> None:
    mid = server.add_message(mail("a@x.com", OWNER))
    for suffix in ("&format=headers", "&format=raw&format=full", "&fields=id,payload/nope"):
        req = gmail.users().messages().get(userId="me", id=mid)
        req.uri += suffix
        with server.expect_violations():
            with pytest.raises(HttpError):
                req.execute()


def test_bad_request_body_is_caught(server: GoogleApiServer, gmail: Any) -> None:
    with server.expect_violations() as found:
        with pytest.raises(HttpError):
            gmail.users().drafts().create(userId="me", body={"message": {"raw": 12, "thread": "x"}}).execute()
    assert any("raw" in f for f in found) and any("'thread'" in f for f in found)


def test_bad_response_shape_is_caught(server: GoogleApiServer, gmail: Any, monkeypatch: Any) -> None:
    api = server.dispatcher.handlers["gmail"].__self__  # the GmailApi instance
    monkeypatch.setitem(api.handlers, "gmail.users.getProfile",
                        lambda call: (200, {"emailAddress": OWNER, "historyId": 12, "nickname": "x"}))
    with server.expect_violations() as found:
        gmail.users().getProfile(userId="me").execute()
    assert any("historyId" in f and "uint64" in f for f in found)
    assert any("'nickname' is not in the schema" in f for f in found)


def test_assert_no_violations_fails_when_something_was_recorded(server: GoogleApiServer) -> None:
    http = httplib2.Http()
    resp, _ = http.request(server.url + "gmail/v1/users/me/labels/x/nope", "GET",
                           headers={"Authorization": "Bearer t"})
    assert resp.status == 404
    with pytest.raises(AssertionError, match="no gmail method serves"):
        assert_no_violations(server)
    server.clear_violations()


def test_seeding_and_searching_a_large_mailbox(server: GoogleApiServer, gmail: Any) -> None:
    """20,000 messages in one call, then searches by sender. (Its speed is measured by
    bench/gmail_sync.py, not here: timings belong in benchmarks.)"""
    raws = [f"From: Person {i % 500} <p{i % 500}@example.com>\r\nTo: {OWNER}\r\nSubject: n{i}\r\n"
            f"Message-ID: <n{i}@example.com>\r\n\r\nHello.\r\n".encode() for i in range(20_000)]
    server.add_messages((raw, ("INBOX",), None, 1_600_000_000_000 + i * 60_000) for i, raw in enumerate(raws))
    for i in range(50):
        page = gmail.users().messages().list(userId="me", q=f"from:p{i}@example.com -in:chats", maxResults=500).execute()
        assert page["resultSizeEstimate"] == 40
