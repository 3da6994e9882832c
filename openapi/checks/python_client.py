"""Calls both helpdesk operations through a Python client generated from the spec alone.

Usage: python python_client.py <generated package dir> <stand-in command...>

The stand-in (`cargo run --example stand_in`) prints its base URL, checks the headers and
bodies byte for byte, and exits non-zero unless both calls met the contract.
"""

import base64
import subprocess
import sys
from pathlib import Path

package_dir, stand_in_command = Path(sys.argv[1]), sys.argv[2:]
sys.path.insert(0, str(package_dir))

from helpdesk_client import AuthenticatedClient  # noqa: E402
from helpdesk_client.api.helpdesk_events import subscribe_events, unsubscribe_events  # noqa: E402
from helpdesk_client.models import Event, EventsRequest  # noqa: E402

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
    failures = []
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
