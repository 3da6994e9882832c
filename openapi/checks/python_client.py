"""Calls both helpdesk operations through a Python client generated from the spec alone,
decodes each sample push into the generated event models, and decodes every example success
answer of every JSON operation into the generated model of that operation's answer.

Usage: python python_client.py <generated package dir> <sample pushes dir> <spec> <stand-in command...>

The stand-in (`cargo run --example stand_in`) prints its base URL, checks the headers and
bodies byte for byte, and exits non-zero unless both calls met the contract.
"""

import base64
import json
import subprocess
import sys
from pathlib import Path

package_dir, samples_dir, spec_path = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
stand_in_command = sys.argv[4:]
sys.path.insert(0, str(package_dir))

import yaml  # noqa: E402  (openapi-python-client depends on PyYAML)

import helpdesk_client.models as generated_models  # noqa: E402

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

def decode_answers() -> list:
    """Decodes each example 200 answer of each JSON operation into the generated model of the
    operation's answer (found by the response schema's name); encoding it again must give the
    example back."""
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))

    def follow(node):
        while isinstance(node, dict) and "$ref" in node:
            target = spec
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    failures, decoded, operations = [], 0, 0
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            answer = follow(operation["responses"]["200"])
            media = answer.get("content", {}).get("application/json")
            if media is None:
                continue  # a binary answer (checked by the generated code's types, not here)
            operations += 1
            name = operation["operationId"]
            schema_ref = media["schema"].get("$ref", "")
            model = getattr(generated_models, schema_ref.rsplit("/", 1)[-1], None)
            if model is None:
                failures.append(f"{name}: no generated model for {schema_ref or 'an inline schema'}")
                continue
            examples = media.get("examples", {})
            if not examples:
                failures.append(f"{name}: no example answer")
            for key, example in examples.items():
                value = follow(example)["value"]
                try:
                    again = model.from_dict(value).to_dict()
                except Exception as error:  # noqa: BLE001 - any failure to decode is reported
                    failures.append(f"{name} example {key}: {model.__name__} cannot decode it ({error!r})")
                    continue
                decoded += 1
                if again != value:
                    failures.append(f"{name} example {key}: {model.__name__} gives back {again!r}")
    print(f"example answers: {decoded} decoded for {operations} JSON operations, {len(failures)} failures")
    return [f"decoding the answer of {failure}" for failure in failures]


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
    failures = decode_samples() + decode_answers()
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
