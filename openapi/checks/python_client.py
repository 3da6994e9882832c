"""Calls both helpdesk operations through a Python client generated from the spec alone,
decodes each sample push into the generated event models, decodes every example success
answer of every JSON operation into the generated model of that operation's answer, and logs
a person in through the accounts operations.

Usage: python python_client.py <generated package dir> <sample pushes dir> <spec> <stand-in command...>

The stand-in (`cargo run --example stand_in`) prints its base URL, checks the headers and
bodies byte for byte, and exits non-zero unless both calls met the contract. The accounts
host (and the open API's `user_info`) is a stand-in of this script's own (`AccountsStandIn`),
which checks each request the same way.
"""

import base64
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

package_dir, samples_dir, spec_path = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
stand_in_command = sys.argv[4:]
sys.path.insert(0, str(package_dir))

import yaml  # noqa: E402  (openapi-python-client depends on PyYAML)

import helpdesk_client.models as generated_models  # noqa: E402

from helpdesk_client import AuthenticatedClient, Client  # noqa: E402
from helpdesk_client.api.accounts import (  # noqa: E402
    get_user_access_token,
    get_user_info,
    start_device_authorization,
)
from helpdesk_client.api.helpdesk_events import subscribe_events, unsubscribe_events  # noqa: E402
from helpdesk_client.models import (  # noqa: E402
    AccountsError,
    DeviceAuthorizationRequest,
    Event,
    EventNotificationApprove,
    EventsRequest,
    EventTicketCreated,
    EventTicketMessageCreated,
    EventTicketUpdated,
    UrlVerification,
    UserAccessTokenRequest,
    UserAccessTokenRequestGrantType,
)
from helpdesk_client.types import UNSET  # noqa: E402

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
            answer = follow(operation["responses"]["200"])  # every operation has one, the login page too
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

APP_ID, APP_SECRET = "cli_slkdjalasdkjasd", "dskLLdkasdjlasdKK"
USER_ACCESS_TOKEN = "u-0Ljf0PN7l9ZbWqAqeSpQaLkg0Kh5gkiXOa00llw0034F"
REFRESH_TOKEN = "ur-oQ0mMq6MCcueAv0pwx2fQQhxqv"
DEVICE_CODE = "dc-8QmZ2vR3kT9wX1yB4nC6"
CODE_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
REDIRECT_URI = "http://127.0.0.1:8400/callback"
# `printf '%s' 'cli_slkdjalasdkjasd:dskLLdkasdjlasdKK' | base64`
APP_BASIC = "Basic Y2xpX3Nsa2RqYWxhc2RramFzZDpkc2tMTGRrYXNkamxhc2RLSw=="

# The token endpoint's exact body for each grant, and its answer: status, body.
TOKEN_GRANTS = {
    "authorization_code": (
        {"code": "a61hb967bd094dge949h79bbexd16dfe", "redirect_uri": REDIRECT_URI, "code_verifier": CODE_VERIFIER},
        200,
        {"code": 0, "access_token": USER_ACCESS_TOKEN, "expires_in": 7200, "refresh_token": REFRESH_TOKEN,
         "refresh_token_expires_in": 604800, "scope": "helpdesk:all offline_access", "token_type": "Bearer"},
    ),
    "refresh_token": (
        {"refresh_token": REFRESH_TOKEN},
        200,
        {"code": 0, "access_token": USER_ACCESS_TOKEN, "expires_in": 7200, "scope": "helpdesk:all",
         "token_type": "Bearer"},
    ),
    "urn:ietf:params:oauth:grant-type:device_code": (
        {"device_code": DEVICE_CODE},
        400,
        {"error": "authorization_pending", "error_description": "pending"},
    ),
}


class AccountsStandIn(BaseHTTPRequestHandler):
    """The accounts host and the open API's `user_info`: answers each request that meets the
    contract, and notes (in `problems`) and answers HTTP 418 to one that does not."""

    problems: list = []
    seen: list = []

    def log_message(self, *args):  # quiet
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def refuse(self, problem):
        self.problems.append(f"{self.command} {self.path}: {problem}")
        self.answer(418, {"problem": problem})

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def do_POST(self):  # noqa: N802 - the name http.server calls
        self.seen.append(self.path)
        if "X-Lark-Helpdesk-Authorization" in self.headers:
            return self.refuse("the helpdesk header was sent")
        content_type = self.headers.get("Content-Type", "")
        if self.path == "/oauth/v1/device_authorization":
            if self.headers.get("Authorization") != APP_BASIC:
                return self.refuse(f"Authorization {self.headers.get('Authorization')!r}, not the app's Basic")
            if content_type != "application/x-www-form-urlencoded":
                return self.refuse(f"Content-Type {content_type!r}, not a form")
            form = parse_qs(self.body().decode(), strict_parsing=True)
            if form != {"client_id": [APP_ID], "scope": ["helpdesk:all offline_access"]}:
                return self.refuse(f"the form {form!r}")
            return self.answer(200, {
                "device_code": DEVICE_CODE, "user_code": "WDJB-MJHT",
                "verification_uri": "https://accounts.feishu.cn/oauth/v1/device/verify",
                "expires_in": 240, "interval": 5,
            })
        if self.path == "/oauth/v3/token":
            if "Authorization" in self.headers:
                return self.refuse("an Authorization header beside the secret in the body (20070)")
            if content_type.split(";")[0] != "application/json":
                return self.refuse(f"Content-Type {content_type!r}, not JSON")
            body = json.loads(self.body())
            grant = TOKEN_GRANTS.get(body.get("grant_type"))
            if grant is None:
                return self.refuse(f"the grant {body.get('grant_type')!r}")
            fields, status, answer = grant
            expected = {"grant_type": body["grant_type"], "client_id": APP_ID, "client_secret": APP_SECRET, **fields}
            if body != expected:
                return self.refuse(f"the body {body!r}, not {expected!r}")
            return self.answer(status, answer)
        return self.refuse("no such path")

    def do_GET(self):  # noqa: N802 - the name http.server calls
        self.seen.append(self.path)
        if self.path != "/open-apis/authen/v1/user_info":
            return self.refuse("no such path")
        if "X-Lark-Helpdesk-Authorization" in self.headers:
            return self.refuse("the helpdesk header was sent")
        if self.headers.get("Authorization") != f"Bearer {USER_ACCESS_TOKEN}":
            return self.refuse(f"Authorization {self.headers.get('Authorization')!r}, not the user's token")
        return self.answer(200, {"code": 0, "msg": "success", "data": {
            "name": "Zhang San", "open_id": "ou_7d8a6e6df7621556ce0d21922b676706", "union_id": "on_d89jhsdh",
        }})


def log_in() -> list:
    """A device login, the three grants and `user_info`, through the generated accounts
    operations against `AccountsStandIn`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), AccountsStandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    failures = []

    def check(name, ok, response):
        print(f"{name}: HTTP {response.status_code.value}, {'ok' if ok else 'not as expected'}")
        if not ok:
            failures.append(f"{name}: {response.parsed!r}")

    app = Client(base_url=base_url, headers={"Authorization": APP_BASIC})
    response = start_device_authorization.sync_detailed(
        client=app, body=DeviceAuthorizationRequest(client_id=APP_ID, scope="helpdesk:all offline_access"))
    check("start_device_authorization", getattr(response.parsed, "user_code", None) == "WDJB-MJHT", response)

    anonymous = Client(base_url=base_url)
    grant = UserAccessTokenRequestGrantType

    def token(grant_type, **fields):
        body = UserAccessTokenRequest(grant_type=grant_type, client_id=APP_ID, client_secret=APP_SECRET, **fields)
        return get_user_access_token.sync_detailed(client=anonymous, body=body)

    response = token(grant.AUTHORIZATION_CODE, code="a61hb967bd094dge949h79bbexd16dfe",
                     redirect_uri=REDIRECT_URI, code_verifier=CODE_VERIFIER)
    parsed = response.parsed
    check("get_user_access_token (authorization_code)",
          getattr(parsed, "access_token", None) == USER_ACCESS_TOKEN
          and getattr(parsed, "refresh_token", None) == REFRESH_TOKEN, response)
    response = token(grant.REFRESH_TOKEN, refresh_token=REFRESH_TOKEN)
    parsed = response.parsed
    check("get_user_access_token (refresh_token)",
          getattr(parsed, "expires_in", None) == 7200 and getattr(parsed, "refresh_token", None) is UNSET, response)
    response = token(grant("urn:ietf:params:oauth:grant-type:device_code"), device_code=DEVICE_CODE)
    parsed = response.parsed
    check("get_user_access_token (device_code)",
          isinstance(parsed, AccountsError) and parsed.error == "authorization_pending" and not parsed.code,
          response)

    person = AuthenticatedClient(base_url=base_url, token=USER_ACCESS_TOKEN)
    response = get_user_info.sync_detailed(client=person)
    data = getattr(response.parsed, "data", None)
    check("get_user_info", getattr(data, "open_id", None) == "ou_7d8a6e6df7621556ce0d21922b676706", response)

    server.shutdown()
    expected = ["/oauth/v1/device_authorization"] + ["/oauth/v3/token"] * 3 + ["/open-apis/authen/v1/user_info"]
    if AccountsStandIn.seen != expected:
        failures.append(f"the accounts stand-in saw {AccountsStandIn.seen}")
    failures.extend(f"the accounts stand-in: {problem}" for problem in AccountsStandIn.problems)
    return failures


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
    failures = decode_samples() + decode_answers() + log_in()
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
