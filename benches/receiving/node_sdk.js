// Events/s of the Node SDK's EventDispatcher on one push, handled as the SDK's own HTTP
// adapter (`adaptDefault`) handles a request: the body parsed as JSON onto an object whose
// prototype carries the headers, then `dispatcher.invoke`, which checks the signature,
// decrypts, parses and calls the registered handler; its answer serialized as the adapter does.
// A first round is timed as it comes (cold: V8 has not optimised the code yet), then
// <warm-up events> more are handled untimed, then <rounds> rounds are timed. Prints
// {"cold": events/s, "rates": [events/s, ...]}.
//
// node node_sdk.js <push.json> <warm-up events> <rounds> <events per round>
'use strict';
const fs = require('fs');
const lark = require('@larksuiteoapi/node-sdk');

const [file, warmUp, rounds, perRound] = process.argv.slice(2);
const push = JSON.parse(fs.readFileSync(file, 'utf8'));

let handled = 0;
const dispatcher = new lark.EventDispatcher({
  encryptKey: push.encrypt_key,
  verificationToken: push.verification_token,
  loggerLevel: lark.LoggerLevel.error,
}).register({
  [push.event_type]: async (data) => {
    if (data.event_id !== undefined) handled += 1;
  },
});

async function handle() {
  const data = Object.assign(Object.create({ headers: push.headers }), JSON.parse(push.body));
  const value = await dispatcher.invoke(data);
  return JSON.stringify(value);
}

async function run(events) {
  for (let i = 0; i < events; i += 1) await handle();
}

async function timed(events) {
  const started = process.hrtime.bigint();
  await run(events);
  return events / (Number(process.hrtime.bigint() - started) / 1e9);
}

(async () => {
  // The handler must run: a push whose signature does not check is answered without it.
  await handle();
  if (handled !== 1) throw new Error('the Node SDK did not accept the push');
  const cold = await timed(Number(perRound));
  await run(Number(warmUp));
  const rates = [];
  for (let r = 0; r < Number(rounds); r += 1) rates.push(await timed(Number(perRound)));
  if (handled !== 1 + Number(warmUp) + (1 + Number(rounds)) * Number(perRound)) {
    throw new Error('the Node SDK skipped events');
  }
  console.log(JSON.stringify({ cold, rates }));
})();
