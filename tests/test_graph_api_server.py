"""The local Microsoft Graph server: schema checks against Graph's CSDL, delta semantics, $batch,
throttling; and Microsoft's own SDK (msgraph-sdk) as an independent reader of its answers."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.graph_api_server import GraphServer
from tests.graph_api_server.csdl import SchemaError, graph_schema
from tests.graph_fixtures import NOW, OWNER, D, graph  # noqa: F401  (fixture)

FULL_CSDL = Path(__file__).resolve().parents[2] / "shared" / "graph" / "v1.0-Prod.csdl"


def session(g: GraphServer, scopes: tuple[str, ...] | None = None) -> requests.Session:
    s = requests.Session()
    s.headers["Authorization"] = "Bearer " + (g.token(scopes) if scopes else g.token())
    return s


# -- the schema itself ----------------------------------------------------------------

def test_the_schema_refuses_unknown_properties_wrong_types_and_bad_paths():
    schema = graph_schema()
    good = {"id": "1", "subject": "hi", "receivedDateTime": "2026-11-23T14:00:00Z",
            "from": {"emailAddress": {"address": "a@b.example", "name": "A"}},
            "toRecipients": [], "internetMessageHeaders": [{"name": "List-Id", "value": "x"}],
            "@odata.etag": 'W/"1"'}
    schema.check_entity("graph.message", good)
    for bad, why in (({"threadId": "t"}, "has no property 'threadId'"),
                     ({"isDraft": "no"}, "Edm.Boolean"),
                     ({"receivedDateTime": "yesterday"}, "Edm.DateTimeOffset"),
                     ({"importance": "urgent"}, "graph.importance"),
                     ({"toRecipients": {"emailAddress": {}}}, "JSON array"),
                     ({"from": {"emailAddress": {"address": 7}}}, "Edm.String")):
        with pytest.raises(SchemaError, match=why):
            schema.check_entity("graph.message", {**good, **bad})
    with pytest.raises(SchemaError, match="attendee"):
        schema.check_entity("graph.event", {"attendees": [{"status": {"response": "maybe"}}]})
    assert schema.resolve(("me", "mailFolders", "inbox", "messages", "delta")).operation is not None
    assert schema.resolve(("me", "calendars", "x", "calendarView", "microsoft.graph.delta()")).operation
    for path in (("me", "contacts"), ("me", "mailFolders", "inbox", "threads"), ("groups",),
                 ("me", "messages", "delta", "x")):
        with pytest.raises(SchemaError):
            schema.resolve(path)


def test_the_trimmed_csdl_carries_its_provenance_and_licence():
    text = (Path(__file__).parent / "graph_api_server" / "schema" / "graph-v1.0-mail-calendar.csdl").read_text()
    assert "msgraph-metadata" in text and "f54f11b6" in text and "MIT License" in text
    assert "Copyright (c) Microsoft Corporation" in text


@pytest.mark.skipif(not FULL_CSDL.exists(), reason="the full CSDL sits in ../shared only beside a clone")
def test_the_trimmed_csdl_is_what_the_script_cuts_from_the_full_one(tmp_path):
    from tests.graph_api_server.trim_csdl import main

    out = tmp_path / "trimmed.csdl"
    assert main(["trim_csdl", str(FULL_CSDL), str(out)]) == 0
    ours = Path(__file__).parent / "graph_api_server" / "schema" / "graph-v1.0-mail-calendar.csdl"
    assert out.read_text() == ours.read_text()


# -- requests the schema does not allow are violations -------------------------------------

def test_a_path_or_property_graph_does_not_have_is_a_400_and_a_violation(graph):
    s = session(graph)
    with graph.expect_violations() as found:
        assert s.get(graph.graph_url + "/me/contacts").status_code == 400
        r = s.get(graph.graph_url + "/me/messages", params={"$select": "subject,threadId"})
        assert r.status_code == 400 and "threadId" in r.json()["error"]["message"]
    assert len(found) == 2


def test_exchange_rules_for_filter_orderby_and_search(graph):
    s = session(graph)
    url = graph.graph_url + "/me/messages"
    with graph.expect_violations():
        r = s.get(url, params={"$filter": "from/emailAddress/address eq 'a@b.example' and "
                                          "receivedDateTime ge 2026-01-01T00:00:00Z",
                               "$orderby": "receivedDateTime desc"})
        assert r.json()["error"]["code"] == "InefficientFilter"
        r = s.get(url, params={"$search": '"from:a@b.example"', "$filter": "isDraft eq false"})
        assert r.status_code == 400
        r = s.get(graph.graph_url + "/me/mailFolders/inbox/messages/delta",
                  params={"$filter": "from/emailAddress/address eq 'a@b.example'"})
        assert r.status_code == 400


def test_scopes_are_enforced(graph):
    s = session(graph, scopes=("Calendars.ReadBasic",))
    r = s.get(graph.graph_url + "/me/mailFolders/inbox/messages/delta")
    assert r.status_code == 403 and r.json()["error"]["code"] == "ErrorAccessDenied"
    assert requests.get(graph.graph_url + "/me").status_code == 401


# -- delta ---------------------------------------------------------------------------------

def test_delta_pages_links_changes_removals_and_expiry(graph):
    s = session(graph)
    ids = [graph.add_message(sender=f"p{n}@x.example", to=(OWNER,), subject=f"m{n}", when=NOW - D(days=n))
           for n in range(5)]
    url = graph.graph_url + "/me/mailFolders/inbox/messages/delta?$select=subject,from"
    pages = []
    while True:
        page = s.get(url, headers={"Prefer": "odata.maxpagesize=2"}).json()
        pages.append(page)
        if "@odata.nextLink" in page:
            url = page["@odata.nextLink"]
            continue
        break
    assert [len(p["value"]) for p in pages] == [2, 2, 1]
    assert all(set(m) == {"@odata.etag", "id", "subject", "from"} for p in pages for m in p["value"])
    delta_link = pages[-1]["@odata.deltaLink"]
    assert s.get(delta_link).json()["value"] == []
    graph.add_message(sender="new@x.example", to=(OWNER,), subject="new", when=NOW)
    graph.delete_message(ids[0])
    changed = s.get(delta_link).json()
    assert [m.get("subject") for m in changed["value"] if "@removed" not in m] == ["new"]
    assert [m["id"] for m in changed["value"] if "@removed" in m] == [ids[0]]
    graph.expire_delta_tokens()
    gone = s.get(changed["@odata.deltaLink"])
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "syncStateNotFound"


def test_a_received_since_filter_seeds_a_delta_link_without_the_old_mail(graph):
    s = session(graph)
    for n in range(30):
        graph.add_message(sender="p@x.example", to=(OWNER,), subject=f"old{n}", when=NOW - D(days=10 + n))
    r = s.get(graph.graph_url + "/me/mailFolders/inbox/messages/delta",
              params={"$filter": "receivedDateTime ge 2026-11-22T14:00:00Z", "$select": "subject"}).json()
    assert r["value"] == [] and "@odata.deltaLink" in r
    graph.add_message(sender="p@x.example", to=(OWNER,), subject="fresh", when=NOW)
    assert [m["subject"] for m in s.get(r["@odata.deltaLink"]).json()["value"]] == ["fresh"]


def test_calendar_view_delta_keeps_to_its_window(graph):
    s = session(graph)
    graph.add_event(start=NOW - D(days=1), subject="in")
    graph.add_event(start=NOW + D(days=100), subject="out")
    r = s.get(graph.graph_url + "/me/calendarView/delta",
              params={"startDateTime": "2026-11-01T00:00:00Z", "endDateTime": "2026-12-31T00:00:00Z"}).json()
    assert [e["subject"] for e in r["value"]] == ["in"]


# -- $batch and throttling ------------------------------------------------------------------

def test_batch_runs_up_to_twenty_and_reports_each_part(graph):
    s = session(graph)
    parts = [{"id": str(n), "method": "GET", "url": "/me/messages?$top=1&$select=subject"} for n in range(20)]
    graph.queue_fault("429", route="message.list", count=1, retry_after=7)
    r = s.post(graph.graph_url + "/$batch", json={"requests": parts}).json()
    statuses = sorted(p["status"] for p in r["responses"])
    assert statuses == [200] * 19 + [429]
    throttled = next(p for p in r["responses"] if p["status"] == 429)
    assert throttled["headers"]["Retry-After"] == "7"
    assert graph.stats.round_trips == 1 and graph.stats.calls == 20
    with graph.expect_violations():
        too_many = parts + [{"id": "20", "method": "GET", "url": "/me"}]
        assert s.post(graph.graph_url + "/$batch", json={"requests": too_many}).status_code == 400


def test_throttling_answers_carry_retry_after_and_latency_is_injected(graph):
    s = session(graph)
    graph.queue_fault("503", route="user.get", retry_after=3)
    r = s.get(graph.graph_url + "/me")
    assert r.status_code == 503 and r.headers["Retry-After"] == "3"
    graph.latency = 0.05
    began = dt.datetime.now()
    assert s.get(graph.graph_url + "/me").status_code == 200
    assert dt.datetime.now() - began >= dt.timedelta(seconds=0.05)


def test_the_client_waits_what_retry_after_says():
    from villaged.backends.microsoft.api import GraphClient, RetryPolicy

    with GraphServer(owner=OWNER, clock=lambda: NOW) as g:
        import os

        old = os.environ.get("REQUESTS_CA_BUNDLE")
        os.environ["REQUESTS_CA_BUNDLE"] = str(g.ca_file)
        try:
            slept: list[float] = []
            token = g.token()
            client = GraphClient(lambda force: token, g.graph_url, retry=RetryPolicy(), sleep=slept.append)
            g.queue_fault("429", route="user.get", count=2, retry_after=4)
            assert client.get("/me")["mail"] == OWNER
            assert slept == [4.0, 4.0]
        finally:
            if old is None:
                del os.environ["REQUESTS_CA_BUNDLE"]
            else:
                os.environ["REQUESTS_CA_BUNDLE"] = old
        assert g.violations == []


# -- Microsoft's SDK reads the answers ------------------------------------------------------

def test_msgraph_sdk_deserialises_the_servers_mail_and_calendar(graph):
    import httpx
    from kiota_abstractions.authentication import (
        AccessTokenProvider,
        AllowedHostsValidator,
        BaseBearerTokenAuthenticationProvider,
    )
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph.generated.users.item.calendar_view.delta.delta_request_builder import DeltaRequestBuilder
    from msgraph_core import GraphClientFactory

    token = graph.token()

    class Static(AccessTokenProvider):
        async def get_authorization_token(self, uri: str, additional_authentication_context: Any = None) -> str:
            return token

        def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
            return AllowedHostsValidator(["127.0.0.1"])

    graph.add_message(sender="ada@x.example", to=(OWNER,), cc=("b@x.example",), subject="hello", when=NOW,
                      headers={"List-Id": "<list.x.example>"})
    graph.add_event(start=NOW, subject="1:1", attendees=(("ada@x.example", "declined"),), series="s1")

    async def read() -> tuple[Any, Any]:
        http = GraphClientFactory.create_with_default_middleware(
            client=httpx.AsyncClient(verify=str(graph.ca_file)))
        adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(Static()), client=http)
        adapter.base_url = graph.graph_url
        client = GraphServiceClient(request_adapter=adapter)
        mail = await client.me.mail_folders.by_mail_folder_id("inbox").messages.delta.get()
        query = DeltaRequestBuilder.DeltaRequestBuilderGetQueryParameters(
            start_date_time="2026-11-01T00:00:00Z", end_date_time="2026-12-01T00:00:00Z")
        events = await client.me.calendar_view.delta.get(
            request_configuration=DeltaRequestBuilder.DeltaRequestBuilderGetRequestConfiguration(
                query_parameters=query))
        await http.aclose()
        return mail, events

    mail, events = asyncio.run(read())
    (message,) = mail.value
    assert message.subject == "hello" and message.from_.email_address.address == "ada@x.example"
    assert [r.email_address.address for r in message.cc_recipients] == ["b@x.example"]
    assert message.received_date_time == NOW
    assert ("List-Id", "<list.x.example>") in [(h.name, h.value) for h in message.internet_message_headers]
    assert mail.odata_delta_link and "$deltatoken=" in mail.odata_delta_link
    (event,) = events.value
    assert event.series_master_id == "s1" and event.attendees[0].status.response.value == "declined"
    assert event.start.time_zone == "UTC"
