"""Calls both helpdesk operations through a Python client generated from the spec alone, and
decodes each sample push into the generated event models.

Usage: python python_client.py <generated package dir> <sample pushes dir> <stand-in command...>

The stand-in (`cargo run --example stand_in`) prints its base URL, checks the headers and
bodies byte for byte, and exits non-zero unless both calls met the contract.
"""

import base64
import json
import subprocess
import sys
from pathlib import Path

package_dir, samples_dir, stand_in_command = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
sys.path.insert(0, str(package_dir))

from helpdesk_client import AuthenticatedClient  # noqa: E402
from helpdesk_client.api.helpdesk_events import subscribe_events, unsubscribe_events  # noqa: E402
from helpdesk_client.models import (  # noqa: E402
    Event,
    EventNotificationApprove,
    EventsRequest,
    EventTicketCreated,
    EventTicketMessageCreated,
    EventTicketUpdated,
    UrlVerification,
)

# Each sample push and the generated model of its event type.
SAMPLES = {
    "ticket.created_v1.json": EventTicketCreated,
    "ticket.updated_v1.json": EventTicketUpdated,
    "ticket_message.created_v1.json": EventTicketMessageCreated,
    "notification.approve_v1.json": EventNotificationApprove,
}


def decode_samples() -> list:
    """Decodes each sample into its model; encoding it again must give the sample back."""
    failures = []
    for name, model in SAMPLES.items():
        sample = json.loads((samples_dir / name).read_text(encoding="utf-8"))
        push = model.from_dict(sample)
        ok = push.to_dict() == sample and push.header.event_id == sample["header"]["event_id"]
        print(f"{name}: {type(push).__name__}, event_id {push.header.event_id}, round trip {'ok' if ok else 'differs'}")
        if not ok:
            failures.append(f"decoding {name}")
    vectors = json.loads((samples_dir / "vectors.json").read_text(encoding="utf-8"))
    challenge = UrlVerification.from_dict(json.loads(vectors["challenge"]["plain_body"]))
    if challenge.challenge != vectors["challenge"]["answer"]["challenge"]:
        failures.append("decoding the URL verification")
    return failures

TENANT_ACCESS_TOKEN = "t-7f1bcd13fc57d46bac21793a18e560"
HELPDESK_ID, HELPDESK_TOKEN = "7180000000000000001", "ht-example"


def main() -> int:
    stand_in = subprocess.Popen(stand_in_command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = stand_in.stdout.readline().strip()
    if not line.startswith("BASE_URL="):
        print(f"the stand-in did not start: {line!r}", file=sys.stderr)
        stand_in.kill()
        return 1
    base_url = line.removeprefix("BASE_URL=")

    helpdesk = base64.b64encode(f"{HELPDESK_ID}:{HELPDESK_TOKEN}".encode()).decode()

    def json_utf8(request):
        # The generated operations set a plain `application/json`; the platform documents the charset.
        request.headers["Content-Type"] = "application/json; charset=utf-8"

    client = AuthenticatedClient(
        base_url=base_url,
        token=TENANT_ACCESS_TOKEN,  # sent as `Authorization: Bearer <token>`
        headers={"X-Lark-Helpdesk-Authorization": helpdesk},  # the second credential
        httpx_args={"event_hooks": {"request": [json_utf8]}},
    )
    body = EventsRequest(events=[Event(type_="helpdesk.ticket_message", subtype="ticket_message.created_v1")])
    failures = decode_samples()
    for name, operation in [("unsubscribe", unsubscribe_events), ("subscribe", subscribe_events)]:
        response = operation.sync_detailed(client=client, body=body)
        parsed = response.parsed
        print(f"{name}: HTTP {response.status_code.value}, code {getattr(parsed, 'code', None)}")
        if response.status_code.value != 200 or getattr(parsed, "code", None) != 0:
            failures.append(name)

    stdout, _ = stand_in.communicate(input="", timeout=60)
    print(stdout, end="")
    if stand_in.returncode != 0:
        failures.append("the stand-in's contract check")
    for failure in failures:
        print(f"failed: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
