"""Drives `feishu-helpdesk mock` through a Python client generated from mock-control.yaml
alone: every control, each answer decoded into the generated model the spec names for its
status, and the platform's side seen doing what the controls said.

Usage: python mock_control.py <generated package dir> <feishu-helpdesk binary>

Starts `<binary> mock --json --port 0`, reads the line it prints, and stops it with SIGTERM
at the end (it must exit 0). Exits non-zero at the first control that does not hold.
"""

import base64
import sys
from pathlib import Path

from mock_process import with_mock

package_dir, binary = Path(sys.argv[1]), sys.argv[2]
sys.path.insert(0, str(package_dir))

import httpx  # noqa: E402  (openapi-python-client's generated clients use it)

from mock_control_client import Client  # noqa: E402
from mock_control_client.api.logins import (  # noqa: E402
    approve_device_logins,
    expire_user_tokens,
    revoke_refresh_tokens,
)
from mock_control_client.api.platform import (  # noqa: E402
    list_requests,
    list_subscriptions,
    queue_fault,
    set_answer,
)
from mock_control_client.api.stand_in import health, reset  # noqa: E402
from mock_control_client.api.tickets import (  # noqa: E402
    add_ticket,
    get_ticket_messages,
    write_customer_message,
)
from mock_control_client.models import (  # noqa: E402
    AnswerData,
    Approved,
    CustomerMessage,
    Delivery,
    Empty,
    Error,
    ErrorFault,
    ErrorFaultKind,
    FaultRequest,
    NewTicket,
    RateLimitedFault,
    RateLimitedFaultKind,
    RecordedRequest,
)


def expect(what, condition, seen):
    if not condition:
        sys.exit(f"mock control: {what}: {seen!r}")
    print(f"ok   {what}")


def main() -> int:
    code = with_mock(binary, check)
    expect("SIGTERM stops it with exit code 0", code == 0, code)
    return 0


def check(started):
    control = Client(base_url=started["control_url"], raise_on_unexpected_status=True)
    helpdesk = base64.b64encode(f"{started['helpdesk_id']}:{started['helpdesk_token']}".encode()).decode()
    platform = httpx.Client(
        base_url=started["base_url"],
        headers={
            "Authorization": f"Bearer {started['tenant_access_token']}",
            "X-Lark-Helpdesk-Authorization": helpdesk,
        },
    )

    up = health.sync(client=control)
    expect("health is ok", up is not None and up.status.value == "ok", up)

    added = add_ticket.sync(client=control, body=NewTicket(ticket_id="T1", guest_name="Alice"))
    expect("add_ticket answers Empty", isinstance(added, Empty), added)
    pushed = write_customer_message.sync("T1", client=control, body=CustomerMessage(text="hi"))
    expect(
        "a message with nowhere to push is kept, not pushed",
        isinstance(pushed, Delivery) and pushed.pushed is False and pushed.delivered is None and pushed.attempts == [],
        pushed,
    )
    messages = get_ticket_messages.sync("T1", client=control)
    expect("the ticket's messages", [m.user_name for m in messages] == ["Alice"], messages)
    missing = write_customer_message.sync_detailed("T404", client=control, body=CustomerMessage(text="hi"))
    expect("an unknown ticket is a 404 Error", missing.status_code == 404 and isinstance(missing.parsed, Error), missing)

    answer = platform.get("/open-apis/helpdesk/v1/tickets/T1").json()
    expect("get_ticket answers the ticket added", answer["data"]["ticket"]["guest"]["name"] == "Alice", answer)

    fault = FaultRequest(
        operation="get_ticket",
        fault=ErrorFault(kind=ErrorFaultKind.ERROR, http_status=503, code=1000, msg="down"),
    )
    expect("queue_fault answers Empty", isinstance(queue_fault.sync(client=control, body=fault), Empty), fault)
    failed = platform.get("/open-apis/helpdesk/v1/tickets/T1")
    expect("the fault is the next get_ticket's answer", (failed.status_code, failed.json()["code"]) == (503, 1000), failed.text)
    shared = FaultRequest(fault=RateLimitedFault(kind=RateLimitedFaultKind.RATE_LIMITED, reset_seconds=0))
    expect("a fault for any operation", isinstance(queue_fault.sync(client=control, body=shared), Empty), shared)
    limited = platform.get("/open-apis/helpdesk/v1/tickets", params=[("status_list", "1"), ("status_list", "2")])
    expect("a rate limit on the next call", limited.status_code == 429, limited.text)
    unknown = queue_fault.sync_detailed(client=control, body=FaultRequest(operation="nope", fault=shared.fault))
    expect("a fault for no operation is a 400 Error", unknown.status_code == 400 and isinstance(unknown.parsed, Error), unknown)

    data = AnswerData.from_dict({"ticket": {"ticket_id": "answered"}})
    expect("set_answer answers Empty", isinstance(set_answer.sync("get_ticket", client=control, body=data), Empty), data)
    answer = platform.get("/open-apis/helpdesk/v1/tickets/T9").json()
    expect("get_ticket answers the data set", answer["data"]["ticket"]["ticket_id"] == "answered", answer)

    requests = list_requests.sync(client=control)
    expect("every platform request is recorded", len(requests) == 4 and all(isinstance(r, RecordedRequest) for r in requests), requests)
    expect(
        "the statuses answered",
        [r.answered for r in requests] == [200, 503, 429, 200],
        [r.answered for r in requests],
    )
    expect("the query as sent", requests[2].query == "status_list=1&status_list=2", requests[2].query)
    expect(
        "the credentials masked",
        ["authorization", "Bearer ***"] in requests[0].headers and ["x-lark-helpdesk-authorization", "***"] in requests[0].headers,
        requests[0].headers,
    )

    expect("no subscription yet", list_subscriptions.sync(client=control) == [], None)
    approved = approve_device_logins.sync(client=control)
    expect("no device login to approve", isinstance(approved, Approved) and approved.approved == 0, approved)
    expect("expire_user_tokens", isinstance(expire_user_tokens.sync(client=control), Empty), None)
    expect("revoke_refresh_tokens", isinstance(revoke_refresh_tokens.sync(client=control), Empty), None)

    expect("reset answers Empty", isinstance(reset.sync(client=control), Empty), None)
    expect("reset forgets the requests", list_requests.sync(client=control) == [], None)
    gone = get_ticket_messages.sync_detailed("T1", client=control)
    expect("reset forgets the tickets", gone.status_code == 404, gone)
    nowhere = httpx.get(f"{started['control_url']}/nothing")
    expect("an unknown control path is a 404", nowhere.status_code == 404 and "error" in nowhere.json(), nowhere.text)


if __name__ == "__main__":
    sys.exit(main())
