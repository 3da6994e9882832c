"""Calls `feishu-helpdesk mock` through the Python client generated from helpdesk.yaml alone,
as a team's tests would: the sample calls (unsubscribe, subscribe), a read of a ticket added
through the control interface, every page of a paged operation, a user operation with the
user access token and with the tenant token, a wrong helpdesk token, and both credentials on
every request the stand-in recorded.

Usage: python python_mock.py <generated package dir> <feishu-helpdesk binary>

Starts `<binary> mock --json --port 0`, reads the line it prints, drives its control interface
(`/__mock/`, openapi/mock-control.yaml) with plain urllib, and stops it with SIGTERM at the end
(it must exit 0). Exits non-zero if any check fails.
"""

import base64
import json
import sys
import urllib.request
from pathlib import Path

from mock_process import with_mock

package_dir, binary = Path(sys.argv[1]), sys.argv[2]
sys.path.insert(0, str(package_dir))

from helpdesk_client import AuthenticatedClient  # noqa: E402
from helpdesk_client.api.helpdesk_events import subscribe_events, unsubscribe_events  # noqa: E402
from helpdesk_client.api.ticket_messages import list_ticket_messages  # noqa: E402
from helpdesk_client.api.tickets import get_ticket, update_ticket  # noqa: E402
from helpdesk_client.models import (  # noqa: E402
    ErrorResponse,
    Event,
    EventsRequest,
    GetTicketResponse,
    ListTicketMessagesResponse,
    UpdateTicketRequest,
)

failures = []


def expect(what, condition, seen=None):
    print(f"{'ok  ' if condition else 'FAIL'} {what}")
    if not condition:
        failures.append(f"{what}: {seen!r}")


def control(started, method, path, body=None):
    """A control request (`/__mock/...`): its decoded JSON answer."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{started['control_url']}{path}", data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read() or b"null")


def helpdesk_client(started, token, helpdesk_token=None):
    """The generated client with both credentials: `Authorization: Bearer <token>` (the
    tenant access token, or a person's user access token) and `X-Lark-Helpdesk-Authorization:
    base64(helpdesk_id:helpdesk_token)`, with no `Bearer`."""
    secret = helpdesk_token or started["helpdesk_token"]
    helpdesk = base64.b64encode(f"{started['helpdesk_id']}:{secret}".encode()).decode()

    def json_utf8(request):
        # The generated operations set a plain `application/json`; the platform documents the charset.
        if request.headers.get("Content-Type") == "application/json":
            request.headers["Content-Type"] = "application/json; charset=utf-8"

    return AuthenticatedClient(
        base_url=started["base_url"],
        token=token,
        headers={"X-Lark-Helpdesk-Authorization": helpdesk},
        httpx_args={"event_hooks": {"request": [json_utf8]}},
    )


def all_pages(fetch, page_size):
    """Every item of a `page`/`page_size`/`total` operation, in order: asks page 1, 2, ...
    until `total` items came back (or a page is empty). `fetch(page, page_size)` gives the
    page's items and the total."""
    items, page, pages = [], 1, []
    while True:
        got, total = fetch(page, page_size)
        pages.append(page)
        items.extend(got)
        if not got or len(items) >= total:
            return items, pages
        page += 1


def check(started):
    tenant = helpdesk_client(started, started["tenant_access_token"])
    user = helpdesk_client(started, started["user_access_token"])

    # The sample calls, as against the stand-in.
    body = EventsRequest(events=[Event(type_="helpdesk.ticket_message", subtype="ticket_message.created_v1")])
    for name, operation in [("unsubscribe", unsubscribe_events), ("subscribe", subscribe_events)]:
        response = operation.sync_detailed(client=tenant, body=body)
        code = getattr(response.parsed, "code", None)
        expect(f"{name}: HTTP {response.status_code.value}, code {code}", response.status_code == 200 and code == 0, response.content)
    subscribed = control(started, "GET", "/subscriptions")
    expect("the stand-in keeps the subscription", subscribed == [{"type": "helpdesk.ticket_message", "subtype": "ticket_message.created_v1"}], subscribed)

    # A read of a ticket added through the control interface.
    ticket_id = "7100000000000000001"
    control(started, "POST", "/tickets", {"ticket_id": ticket_id, "guest_name": "Zhang San"})
    response = get_ticket.sync_detailed(ticket_id, client=tenant)
    ticket = getattr(getattr(response.parsed, "data", None), "ticket", None)
    expect(
        "get_ticket gives back the ticket added",
        isinstance(response.parsed, GetTicketResponse) and response.parsed.code == 0
        and ticket.ticket_id == ticket_id and ticket.guest.name == "Zhang San"
        and ticket.helpdesk_id == started["helpdesk_id"],
        response.content,
    )

    # Every item of a paged operation, page after page, in order.
    texts = [f"question {n}" for n in range(1, 8)]
    for text in texts:
        control(started, "POST", f"/tickets/{ticket_id}/customer_messages", {"text": text})

    def messages_page(page, page_size):
        response = list_ticket_messages.sync_detailed(ticket_id, client=tenant, page=page, page_size=page_size)
        parsed = response.parsed
        if not isinstance(parsed, ListTicketMessagesResponse) or parsed.code != 0:
            raise SystemExit(f"list_ticket_messages page {page}: HTTP {response.status_code.value} {response.content!r}")
        return parsed.data.messages or [], parsed.data.total

    messages, pages = all_pages(messages_page, 3)
    expect("list_ticket_messages asked pages 1, 2 and 3", pages == [1, 2, 3], pages)
    read = [json.loads(message.content)["content"] for message in messages]
    expect("every message came back once, in order", read == texts, read)
    expect("each message its own id", len({message.message_id for message in messages}) == len(texts), messages)

    # A user operation: the user access token succeeds, the tenant token is refused.
    change = UpdateTicketRequest(status=51, comment="已解决")
    response = update_ticket.sync_detailed(ticket_id, client=user, body=change)
    code = getattr(response.parsed, "code", None)
    expect(f"update_ticket with the user token: HTTP {response.status_code.value}, code {code}",
           response.status_code == 200 and code == 0, response.content)
    response = update_ticket.sync_detailed(ticket_id, client=tenant, body=change)
    refusal = response.parsed
    expect(
        f"update_ticket with the tenant token refused: HTTP {response.status_code.value}, "
        f"code {getattr(refusal, 'code', None)}",
        response.status_code >= 400 and isinstance(refusal, ErrorResponse) and refusal.code != 0
        and isinstance(refusal.msg, str),
        response.content,
    )

    # A wrong helpdesk token is refused with 403 and 154003.
    wrong = helpdesk_client(started, started["tenant_access_token"], helpdesk_token="ht-wrong")
    response = get_ticket.sync_detailed(ticket_id, client=wrong)
    refusal = response.parsed
    expect(
        f"a wrong helpdesk token refused: HTTP {response.status_code.value}, code {getattr(refusal, 'code', None)}",
        response.status_code == 403 and isinstance(refusal, ErrorResponse) and refusal.code == 154003,
        response.content,
    )

    # Both credentials on every request: each helpdesk request recorded with both headers.
    recorded = [r for r in control(started, "GET", "/requests") if r["path"].startswith("/open-apis/helpdesk/")]
    expect(f"{len(recorded)} helpdesk requests recorded", len(recorded) == 9, [r["path"] for r in recorded])

    def values(request, name):
        return [value for header, value in request["headers"] if header == name]

    missing = [
        f"{r['method']} {r['path']}: {r['headers']}"
        for r in recorded
        if values(r, "authorization") != ["Bearer ***"] or values(r, "x-lark-helpdesk-authorization") != ["***"]
    ]
    expect("every helpdesk request carries both credentials", recorded and not missing, missing)
    sent = [r for r in recorded if r["method"] == "PUT"]
    expect(
        "a JSON body sent with the charset",
        sent and all(values(r, "content-type") == ["application/json; charset=utf-8"] for r in sent),
        sent,
    )


def main() -> int:
    code = with_mock(binary, check)
    expect("SIGTERM stops it with exit code 0", code == 0, code)
    for failure in failures:
        print(f"failed: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
