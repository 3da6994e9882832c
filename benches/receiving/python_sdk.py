"""Events/s of Python lark-oapi's EventDispatcherHandler on one push, through `do`, the
path its HTTP adapters (such as lark_oapi.adapter.flask) take for a request: the signature
check, decryption, the verification token, parsing, and the registered handler. A first
round is timed as it comes (cold), then <warm-up events> more are handled untimed, then
<rounds> rounds are timed. Prints {"cold": events/s, "rates": [events/s, ...]}.

python python_sdk.py <push.json> <warm-up events> <rounds> <events per round>
"""

import json
import sys
import time

import lark_oapi as lark

path, warm_up, rounds, per_round = sys.argv[1], *map(int, sys.argv[2:5])
with open(path, encoding="utf-8") as file:
    push = json.load(file)

handled = 0


def on_message(event):
    global handled
    if event.header.event_id:
        handled += 1


handler = (
    lark.EventDispatcherHandler.builder(
        push["encrypt_key"], push["verification_token"], lark.LogLevel.ERROR
    )
    .register_p2_helpdesk_ticket_message_created_v1(on_message)
    .build()
)

request = lark.RawRequest()
request.uri = "/events"
# As the flask adapter gives them: the names as the WSGI environment spells them.
request.headers = {
    "-".join(part.capitalize() for part in name.split("-")): value
    for name, value in push["headers"].items()
}
request.body = push["body"].encode("utf-8")


def run(events):
    for _ in range(events):
        answer = handler.do(request)
        if answer.status_code != 200:
            raise SystemExit(f"lark-oapi refused the push: {answer.content!r}")


def timed(events):
    started = time.perf_counter()
    run(events)
    return events / (time.perf_counter() - started)


run(1)
if handled != 1:
    raise SystemExit("lark-oapi did not hand the push to the handler")
cold = timed(per_round)
run(warm_up)
rates = [timed(per_round) for _ in range(rounds)]
if handled != 1 + warm_up + (1 + rounds) * per_round:
    raise SystemExit("lark-oapi skipped events")
print(json.dumps({"cold": cold, "rates": rates}))
