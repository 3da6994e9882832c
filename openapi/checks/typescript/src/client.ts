// What a TypeScript app needs beside the generated types (`helpdesk.d.ts`, from
// openapi/helpdesk.yaml by openapi-typescript) to call the helpdesk API with openapi-fetch:
// both credentials on every request, the platform's JSON content type, array query
// parameters as repeated keys, a GET that carries a JSON body, large integers read exactly,
// and a pager.
import http from "node:http";
import https from "node:https";

import createClient, { type Client, type Middleware } from "openapi-fetch";

import type { components, paths } from "./helpdesk.js";

export type { components, paths };
export type HelpdeskClient = Client<paths>;

/** The platform's error envelope (`ErrorResponse` in the spec). */
export type ErrorEnvelope = components["schemas"]["ErrorResponse"];

/** `base64(helpdesk_id:helpdesk_token)`, standard base64 with padding, no `Bearer` prefix. */
export function helpdeskHeader(helpdeskId: string, helpdeskToken: string): string {
  return Buffer.from(`${helpdeskId}:${helpdeskToken}`, "utf8").toString("base64");
}

export interface Credentials {
  /** The tenant access token `t-...`, or a person's user access token `u-...` for the
   *  operations whose `security` is `userAccessToken`. */
  accessToken: string;
  helpdeskId: string;
  helpdeskToken: string;
}

/** Adds both credentials to every request, and the charset the platform documents to a JSON
 *  body (openapi-fetch sets a plain `application/json`). It changes the request in place (and
 *  returns nothing), so that a `Request` subclass such as `BodyGetRequest` is kept. */
export function credentialsMiddleware(credentials: Credentials): Middleware {
  const helpdesk = helpdeskHeader(credentials.helpdeskId, credentials.helpdeskToken);
  return {
    onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${credentials.accessToken}`);
      request.headers.set("X-Lark-Helpdesk-Authorization", helpdesk);
      if (request.headers.get("Content-Type") === "application/json") {
        request.headers.set("Content-Type", "application/json; charset=utf-8");
      }
      return undefined;
    },
  };
}

/** A client of the helpdesk API that sends both credentials on every request. */
export function helpdeskClient(baseUrl: string, credentials: Credentials): HelpdeskClient {
  const client = createClient<paths>({
    baseUrl,
    // The spec's array parameters are `style: form, explode: true`: repeated keys,
    // `status_list=1&status_list=2` (openapi-fetch's default, stated here on purpose).
    querySerializer: { array: { style: "form", explode: true } },
  });
  client.use(credentialsMiddleware(credentials));
  return client;
}

/** A `Request` that keeps the JSON body of a GET aside (the Fetch standard refuses a GET
 *  with a body: `new Request(url, {method: "GET", body})` throws a TypeError), for
 *  `nodeHttpFetch` to send. Pass both to openapi-fetch:
 *  `client.GET(path, {body, Request: BodyGetRequest, fetch: nodeHttpFetch})`. */
export class BodyGetRequest extends Request {
  /** The body of a GET, sent by `nodeHttpFetch`. */
  readonly getBody: string | undefined;

  constructor(input: ConstructorParameters<typeof Request>[0], init?: RequestInit) {
    const method = (init?.method ?? "GET").toUpperCase();
    const aside = (method === "GET" || method === "HEAD") && init?.body != null ? init.body : undefined;
    if (aside !== undefined && typeof aside !== "string") {
      throw new TypeError("BodyGetRequest keeps a string body only (openapi-fetch's JSON)");
    }
    super(input, aside === undefined ? init : { ...init, body: null });
    this.getBody = aside;
  }
}

/** A `fetch` on `node:http`/`node:https` that sends any request as it is, a GET's body too
 *  (`BodyGetRequest`). */
export async function nodeHttpFetch(input: Request): Promise<Response> {
  const kept = input instanceof BodyGetRequest ? input.getBody : undefined;
  const body =
    kept !== undefined
      ? Buffer.from(kept, "utf8")
      : input.body !== null
        ? Buffer.from(await input.arrayBuffer())
        : undefined;
  const headers: Record<string, string> = {};
  input.headers.forEach((value, name) => {
    headers[name] = value;
  });
  if (body !== undefined) {
    headers["content-length"] = String(body.length);
  }
  const url = new URL(input.url);
  const send = url.protocol === "https:" ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const request = send(url, { method: input.method, headers, signal: input.signal }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on("data", (chunk: Buffer) => chunks.push(chunk));
      answer.on("error", reject);
      answer.on("end", () => {
        const answerHeaders = new Headers();
        for (const [name, value] of Object.entries(answer.headers)) {
          for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
            answerHeaders.append(name, one);
          }
        }
        const status = answer.statusCode ?? 500;
        const empty = status === 204 || status === 304;
        resolve(
          new Response(empty ? null : new Uint8Array(Buffer.concat(chunks)), {
            status,
            statusText: answer.statusMessage ?? "",
            headers: answerHeaders,
          }),
        );
      });
    });
    request.on("error", reject);
    request.end(body);
  });
}

/** A JSON value where every integer beyond `Number.MAX_SAFE_INTEGER` is a `bigint`. */
export type LosslessJson = null | boolean | number | bigint | string | LosslessJson[] | { [key: string]: LosslessJson };

/** `JSON.parse` that keeps integers beyond 2^53 exact, as `bigint` (the platform's 64-bit
 *  ids, such as `TicketComment.id`, are JSON numbers: `JSON.parse` rounds them). Works on
 *  every Node version; on Node 21+ `parseWithSource` does the same with `JSON.parse`. */
export function parseLossless(text: string): LosslessJson {
  let at = 0;
  const number = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at position ${at} of the JSON text`);
  };
  const space = () => {
    while (at < text.length && " \t\n\r".includes(text.charAt(at))) at++;
  };
  const value = (): LosslessJson => {
    space();
    const c = text.charAt(at);
    if (c === "{") {
      at++;
      const object: { [key: string]: LosslessJson } = {};
      space();
      if (text.charAt(at) === "}") {
        at++;
        return object;
      }
      for (;;) {
        space();
        if (text.charAt(at) !== '"') fail("a key expected");
        const key = string();
        space();
        if (text.charAt(at) !== ":") fail("':' expected");
        at++;
        Object.defineProperty(object, key, { value: value(), enumerable: true, writable: true, configurable: true });
        space();
        const next = text.charAt(at++);
        if (next === "}") return object;
        if (next !== ",") fail("',' or '}' expected");
      }
    }
    if (c === "[") {
      at++;
      const array: LosslessJson[] = [];
      space();
      if (text.charAt(at) === "]") {
        at++;
        return array;
      }
      for (;;) {
        array.push(value());
        space();
        const next = text.charAt(at++);
        if (next === "]") return array;
        if (next !== ",") fail("',' or ']' expected");
      }
    }
    if (c === '"') return string();
    for (const [word, meaning] of [["true", true], ["false", false], ["null", null]] as const) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return meaning;
      }
    }
    number.lastIndex = at;
    const match = number.exec(text);
    if (match === null) return fail("a JSON value expected");
    at += match[0].length;
    const parsed = Number(match[0]);
    const integer = match[1] === undefined && match[2] === undefined;
    return integer && !Number.isSafeInteger(parsed) ? BigInt(match[0]) : parsed;
  };
  const string = (): string => {
    const start = at++;
    while (at < text.length && text.charAt(at) !== '"') {
      at += text.charAt(at) === "\\" ? 2 : 1;
    }
    if (at >= text.length) fail("an unterminated string");
    at++;
    return JSON.parse(text.slice(start, at)) as string; // the escapes, as JSON defines them
  };
  const result = value();
  space();
  if (at !== text.length) fail("text after the JSON value");
  return result;
}

/** Whether `JSON.parse` hands a reviver the source text of each value (Node 21+). */
export const jsonParseHasSource: boolean = (() => {
  let seen = false;
  JSON.parse("1", (_key: string, value: unknown, context?: { source?: string }) => {
    seen = typeof context?.source === "string";
    return value;
  });
  return seen;
})();

/** `JSON.parse` with a reviver that reads each number's source text (Node 21+): integers
 *  beyond 2^53 become `bigint`. */
export function parseWithSource(text: string): unknown {
  return JSON.parse(text, (_key: string, value: unknown, context?: { source?: string }) =>
    typeof value === "number" && !Number.isSafeInteger(value) && context?.source !== undefined && /^-?\d+$/.test(context.source)
      ? BigInt(context.source)
      : value,
  );
}

/** A page of a paged operation numbered from 1 (`page`, `page_size`, `total`). */
export interface NumberedPage<T> {
  items: T[];
  total: number;
}

/** Every item of an operation paged by number, page after page, in order: stops at `total`
 *  items, or at an empty page. */
export async function allPages<T>(
  fetchPage: (page: number) => Promise<NumberedPage<T>>,
  limit = 1000,
): Promise<T[]> {
  const items: T[] = [];
  for (let page = 1; page <= limit; page++) {
    const answer = await fetchPage(page);
    items.push(...answer.items);
    if (answer.items.length === 0 || items.length >= answer.total) return items;
  }
  throw new Error(`more than ${limit} pages`);
}

/** Every item of an operation paged by token (`page_token` in, `has_more` and the next
 *  token out), in order. */
export async function allTokenPages<T>(
  fetchPage: (pageToken: string | undefined) => Promise<{ items: T[]; hasMore: boolean; nextToken?: string | undefined }>,
  limit = 1000,
): Promise<T[]> {
  const items: T[] = [];
  let token: string | undefined;
  for (let page = 1; page <= limit; page++) {
    const answer = await fetchPage(token);
    items.push(...answer.items);
    if (!answer.hasMore || !answer.nextToken) return items;
    token = answer.nextToken;
  }
  throw new Error(`more than ${limit} pages`);
}
