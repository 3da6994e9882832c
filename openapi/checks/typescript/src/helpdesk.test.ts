// The TypeScript client generated from openapi/helpdesk.yaml alone (openapi-typescript types,
// openapi-fetch calls) against the stand-in `feishu-helpdesk mock`.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import {
  allPages,
  BodyGetRequest,
  helpdeskClient,
  helpdeskHeader,
  nodeHttpFetch,
  parseLossless,
  type ErrorEnvelope,
  type HelpdeskClient,
} from "./client.js";
import { headerValues, Mock } from "./mock.js";

/** The bytes the stand-in answers for every download (`PNG` in src/testing/api.rs). */
const PNG = Buffer.from("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01", "latin1");

let mock: Mock;
/** With the tenant access token, and with the person's user access token. */
let tenant: HelpdeskClient;
let user: HelpdeskClient;

before(async () => {
  mock = await Mock.start();
  const { base_url, helpdesk_id, helpdesk_token } = mock.info;
  tenant = helpdeskClient(base_url, {
    accessToken: mock.info.tenant_access_token,
    helpdeskId: helpdesk_id,
    helpdeskToken: helpdesk_token,
  });
  user = helpdeskClient(base_url, {
    accessToken: mock.info.user_access_token,
    helpdeskId: helpdesk_id,
    helpdeskToken: helpdesk_token,
  });
});

after(async () => {
  await mock?.stop();
});

/** The error envelope of a refused call. */
function envelope(error: unknown): ErrorEnvelope {
  assert.ok(error !== null && typeof error === "object", `an error envelope, not ${JSON.stringify(error)}`);
  return error as ErrorEnvelope;
}

test("a read: get_ticket gives back the ticket added through the control interface", async () => {
  await mock.addTicket("7100000000000000001", "Zhang San");
  const { data, error, response } = await tenant.GET("/open-apis/helpdesk/v1/tickets/{ticket_id}", {
    params: { path: { ticket_id: "7100000000000000001" } },
  });
  assert.equal(error, undefined, JSON.stringify(error));
  assert.equal(response.status, 200);
  assert.equal(data?.code, 0);
  assert.equal(data?.data?.ticket?.ticket_id, "7100000000000000001");
  assert.equal(data?.data?.ticket?.guest?.name, "Zhang San");
  assert.equal(data?.data?.ticket?.helpdesk_id, mock.info.helpdesk_id);
});

test("array query parameters are repeated keys: list_tickets status_list=1&status_list=2", async () => {
  const { data, error } = await tenant.GET("/open-apis/helpdesk/v1/tickets", {
    params: { query: { status_list: [1, 2] } },
  });
  assert.equal(error, undefined, JSON.stringify(error));
  assert.equal(data?.code, 0);
  const seen = (await mock.requests()).filter((r) => r.method === "GET" && r.path === "/open-apis/helpdesk/v1/tickets");
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.query, "status_list=1&status_list=2");
  assert.equal(seen[0]!.answered, 200);
});

test("every item of a paged operation: list_ticket_messages page after page, in order", async () => {
  const ticket = "7100000000000000002";
  await mock.addTicket(ticket, "Li Si");
  const texts = Array.from({ length: 7 }, (_, i) => `question ${i + 1}`);
  for (const text of texts) {
    await mock.customerWrites(ticket, text);
  }
  const pagesAsked: number[] = [];
  const messages = await allPages(async (page) => {
    pagesAsked.push(page);
    const { data, error } = await tenant.GET("/open-apis/helpdesk/v1/tickets/{ticket_id}/messages", {
      params: { path: { ticket_id: ticket }, query: { page, page_size: 3 } },
    });
    assert.equal(error, undefined, JSON.stringify(error));
    assert.equal(data?.code, 0);
    return { items: data?.data?.messages ?? [], total: data?.data?.total ?? 0 };
  });
  assert.deepEqual(pagesAsked, [1, 2, 3]);
  assert.deepEqual(
    messages.map((m) => (JSON.parse(m.content ?? "{}") as { content?: string }).content),
    texts,
  );
  assert.equal(new Set(messages.map((m) => m.message_id)).size, texts.length);
});

test("a write: create_ticket_message appears among the ticket's messages", async () => {
  const ticket = "7100000000000000003";
  await mock.addTicket(ticket, "Wang Wu");
  const content = JSON.stringify({ text: "您好，已为您处理" });
  const { data, error } = await tenant.POST("/open-apis/helpdesk/v1/tickets/{ticket_id}/messages", {
    params: { path: { ticket_id: ticket } },
    body: { msg_type: "text", content },
  });
  assert.equal(error, undefined, JSON.stringify(error));
  assert.equal(data?.code, 0);
  const messageId = data?.data?.message_id;
  assert.ok(messageId, "a message_id");
  const kept = await mock.ticketMessages(ticket);
  assert.equal(kept.length, 1);
  assert.equal(kept[0]!.message_id, messageId);
  assert.equal(kept[0]!.content, content);
  assert.equal(kept[0]!.message_type, "text");
  const sent = (await mock.requests()).find((r) => r.method === "POST" && r.path.endsWith(`/tickets/${ticket}/messages`));
  assert.deepEqual(headerValues(sent!, "content-type"), ["application/json; charset=utf-8"]);
});

test("a download: get_ticket_image as bytes", async () => {
  const { data, error, response } = await tenant.GET("/open-apis/helpdesk/v1/ticket_images", {
    params: { query: { ticket_id: "7100000000000000001", msg_id: "6949088236610273307", index: 0 } },
    parseAs: "arrayBuffer",
  });
  assert.equal(error, undefined, JSON.stringify(error));
  assert.equal(response.status, 200);
  assert.ok(data instanceof ArrayBuffer);
  assert.deepEqual(Buffer.from(data), PNG);
});

test("a user operation: update_ticket with the user token succeeds, with the tenant token is refused", async () => {
  const call = (client: HelpdeskClient) =>
    client.PUT("/open-apis/helpdesk/v1/tickets/{ticket_id}", {
      params: { path: { ticket_id: "7100000000000000001" } },
      body: { status: 51, comment: "已解决" },
    });
  const asUser = await call(user);
  assert.equal(asUser.error, undefined, JSON.stringify(asUser.error));
  assert.equal(asUser.response.status, 200);
  assert.equal(asUser.data?.code, 0);

  const asTenant = await call(tenant);
  assert.equal(asTenant.data, undefined);
  const refusal = envelope(asTenant.error);
  assert.notEqual(refusal.code, 0);
  assert.equal(typeof refusal.msg, "string");
  assert.ok(asTenant.response.status >= 400, `HTTP ${asTenant.response.status}`);
});

test("a refusal decoded: a queued fault on get_ticket gives its status, code and msg", async () => {
  await mock.fault({ kind: "error", http_status: 400, code: 154004, msg: "ticket not found" }, "get_ticket");
  const { data, error, response } = await tenant.GET("/open-apis/helpdesk/v1/tickets/{ticket_id}", {
    params: { path: { ticket_id: "7100000000000000001" } },
  });
  assert.equal(data, undefined);
  assert.equal(response.status, 400);
  const refusal = envelope(error);
  assert.equal(refusal.code, 154004);
  assert.equal(refusal.msg, "ticket not found");
  // The fault was used up: the next call is answered.
  const again = await tenant.GET("/open-apis/helpdesk/v1/tickets/{ticket_id}", {
    params: { path: { ticket_id: "7100000000000000001" } },
  });
  assert.equal(again.data?.code, 0);
});

test("both credentials on every request: a wrong helpdesk header is refused, every request carries both", async () => {
  assert.equal(helpdeskHeader("7180000000000000001", "ht-example"), "NzE4MDAwMDAwMDAwMDAwMDAwMTpodC1leGFtcGxl");
  const wrong = helpdeskClient(mock.info.base_url, {
    accessToken: mock.info.tenant_access_token,
    helpdeskId: mock.info.helpdesk_id,
    helpdeskToken: "ht-wrong",
  });
  const { data, error, response } = await wrong.GET("/open-apis/helpdesk/v1/tickets/{ticket_id}", {
    params: { path: { ticket_id: "7100000000000000001" } },
  });
  assert.equal(data, undefined);
  assert.equal(response.status, 403);
  assert.equal(envelope(error).code, 154003);

  const recorded = (await mock.requests()).filter((r) => r.path.startsWith("/open-apis/helpdesk/"));
  assert.ok(recorded.length >= 10, `${recorded.length} helpdesk requests recorded`);
  for (const request of recorded) {
    const what = `${request.method} ${request.path}`;
    assert.deepEqual(headerValues(request, "authorization"), ["Bearer ***"], what);
    assert.deepEqual(headerValues(request, "x-lark-helpdesk-authorization"), ["***"], what);
  }
});

test("a GET with a JSON body: fetch refuses it, a node:http fetch sends it (list_ticket_customized_fields)", async () => {
  const path = "/open-apis/helpdesk/v1/ticket_customized_fields";
  // The Fetch standard: no body on a GET, whether through fetch or through openapi-fetch.
  await assert.rejects(fetch(`${mock.info.base_url}${path}`, { method: "GET", body: "{}" }), TypeError);
  await assert.rejects(tenant.GET(path, { body: { visible: true } }), TypeError);

  // The workaround: a Request that keeps the body aside and a fetch on node:http that sends it.
  const { data, error, response } = await tenant.GET(path, {
    params: { query: { page_size: 10 } },
    body: { visible: true },
    Request: BodyGetRequest,
    fetch: nodeHttpFetch,
  });
  assert.equal(error, undefined, JSON.stringify(error));
  assert.equal(response.status, 200);
  assert.equal(data?.code, 0);
  assert.ok(Array.isArray(data?.data?.items));
  const sent = (await mock.requests()).filter((r) => r.method === "GET" && r.path === path).at(-1);
  assert.ok(sent, "the GET was recorded");
  assert.equal(sent.answered, 200);
  assert.deepEqual(JSON.parse(sent.body), { visible: true });
  assert.equal(sent.query, "page_size=10");
  assert.deepEqual(headerValues(sent, "content-type"), ["application/json; charset=utf-8"]);
  assert.deepEqual(headerValues(sent, "x-lark-helpdesk-authorization"), ["***"]);
});

test("integers beyond 2^53: TicketComment.id read exactly", async () => {
  const id = "6949088236610273307"; // int64 in the spec, a JSON number on the wire
  const ticket = `{"ticket":{"ticket_id":"7100000000000000004","helpdesk_id":"${mock.info.helpdesk_id}",` +
    `"comments":{"content":"已联系 IT","created_at":1616920429000,"id":${id},"user_id":6949088236610273000}}}`;
  await mock.answer("get_ticket", ticket); // sent as it is: the number stays exact
  try {
    const { data, error } = await tenant.GET("/open-apis/helpdesk/v1/tickets/{ticket_id}", {
      params: { path: { ticket_id: "7100000000000000004" } },
      parseAs: "text",
    });
    assert.equal(error, undefined, JSON.stringify(error));
    assert.ok(typeof data === "string" && data.includes(`"id":${id}`), data);

    // JSON.parse (and so openapi-fetch's default parsing) rounds it.
    const rounded = (JSON.parse(data) as { data: { ticket: { comments: { id: number } } } }).data.ticket.comments.id;
    assert.notEqual(String(rounded), id);
    assert.equal(rounded, 6949088236610273000);

    // Lossless: a bigint for each integer beyond 2^53, every other value as JSON.parse gives it.
    const exact = parseLossless(data) as { code: number; data: { ticket: { ticket_id: string; comments: { id: bigint; user_id: bigint; created_at: number; content: string } } } };
    assert.equal(exact.code, 0);
    assert.equal(exact.data.ticket.comments.id, 6949088236610273307n);
    assert.equal(exact.data.ticket.comments.id.toString(), id);
    assert.equal(exact.data.ticket.comments.user_id, 6949088236610273000n);
    assert.equal(exact.data.ticket.comments.created_at, 1616920429000);
    assert.equal(exact.data.ticket.comments.content, "已联系 IT");
    assert.equal(exact.data.ticket.ticket_id, "7100000000000000004");
  } finally {
    await mock.reset();
  }
});
