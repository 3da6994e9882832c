// The lossless JSON parsing of large integers, without the stand-in.
import assert from "node:assert/strict";
import { test } from "node:test";

import { jsonParseHasSource, parseLossless, parseWithSource } from "./client.js";

test("parseLossless agrees with JSON.parse on every safe value", () => {
  const text = '{"a":[1,-2.5,3e2,0,-0,"x\\"y\\u00e9\\n",true,false,null,{}],"b":{"c":[]},"d":9007199254740991,"e":-9007199254740993}';
  const exact = parseLossless(text) as { d: number; e: bigint };
  assert.equal(exact.e, -9007199254740993n);
  const { e: _e, ...rest } = exact as unknown as Record<string, unknown>;
  const { e: _f, ...expected } = JSON.parse(text) as Record<string, unknown>;
  assert.deepEqual(rest, expected);
  assert.throws(() => parseLossless('{"a":1,}'), SyntaxError);
  assert.throws(() => parseLossless("[1] 2"), SyntaxError);
});

test("on Node 21+, JSON.parse's reviver source reads it exactly too", { skip: !jsonParseHasSource && "JSON.parse gives no source text before Node 21" }, () => {
  const exact = parseWithSource('{"id":6949088236610273307,"n":1}') as { id: bigint; n: number };
  assert.equal(exact.id, 6949088236610273307n);
  assert.equal(exact.n, 1);
});
