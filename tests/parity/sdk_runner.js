#!/usr/bin/env node
// Runs the parity cases through the real @chatbotkit/sdk (the version pinned in
// package.json) against the recorder, and writes what was sent for each case.
//
//   node sdk_runner.js CASES_JSON RECORDER_PORT OUT_JSON
//
// For each case: clear the recorder, build the client from `options`, apply
// each object of `extend` in order with client.extend(), call
// client.create(id, request) (request null -> no argument), or for a case with
// `fetch` ({path, options}) client.clientFetch(path, options), then read what
// the recorder received. The library takes `buffer` and `file.data` as base64
// text; they are decoded here into the bytes the SDK takes. Every client is built with `retries: 0` and
// `timeout: 10000` added to `options` unless the case sets them (the same
// defaults lib_runner.py adds), so a case never retries or hangs.
//
// String templates in options/extend: "{BASE}" -> http://127.0.0.1:PORT,
// "{HOSTPORT}" -> 127.0.0.1:PORT, "{PORT}" -> PORT.
'use strict';

const fs = require('fs');
const path = require('path');

function usage() {
  process.stderr.write('usage: node sdk_runner.js CASES_JSON RECORDER_PORT OUT_JSON\n');
  process.exit(2);
}

const [casesPath, portArg, outPath] = process.argv.slice(2);
if (!casesPath || !portArg || !outPath) usage();
const port = Number(portArg);
const recorder = `http://127.0.0.1:${port}`;

function template(value) {
  if (typeof value === 'string') {
    return value
      .split('{BASE}').join(recorder)
      .split('{HOSTPORT}').join(`127.0.0.1:${port}`)
      .split('{PORT}').join(String(port));
  }
  if (Array.isArray(value)) return value.map(template);
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[template(k)] = template(v);
    return out;
  }
  return value;
}

// Entry points as exported by the package's "exports" map.
const conversationSession = require('@chatbotkit/sdk/conversation/session');
const botSession = require('@chatbotkit/sdk/bot/session');
const sdkPackage = require('@chatbotkit/sdk/package.json');

const ConversationSessionClient = conversationSession.ConversationSessionClient;
// `SessionClient` is the pre-2024 name of the bot session client; use it when
// the installed SDK still exports it, otherwise BotSessionClient.
const BotClient = botSession.SessionClient || botSession.BotSessionClient;
const botClientName = botSession.SessionClient ? 'SessionClient' : 'BotSessionClient';

if (typeof ConversationSessionClient !== 'function' || typeof BotClient !== 'function') {
  process.stderr.write('sdk_runner: session clients not found in @chatbotkit/sdk\n');
  process.exit(3);
}

async function control(method) {
  const res = await fetch(`${recorder}/_recorder/requests`, { method });
  if (method === 'GET') return res.json();
  await res.arrayBuffer();
  return null;
}

function describeError(e) {
  return {
    name: e && e.name,
    message: e && e.message,
    code: e && e.code,
  };
}

function sdkFetchOptions(options) {
  if (!options) return undefined;
  const out = { ...options };
  if (typeof out.buffer === 'string') out.buffer = Buffer.from(out.buffer, 'base64');
  if (out.file && typeof out.file.data === 'string') {
    out.file = { ...out.file, data: Buffer.from(out.file.data, 'base64') };
  }
  return out;
}

// One fetch case, `repeat` times on the same client (default once): awaited,
// `cache(key)` when the options hold `cache` (the library takes the key as an
// option), or `stream()` collected into an array of items when `stream` is
// true, stopping after `stop_after` items. Each call's error is caught, so
// every repetition is sent; the case's result and error are the last call's.
async function runFetch(client, f, out) {
  const options = sdkFetchOptions(f.options);
  const cacheKey = options ? options.cache : undefined;
  if (options) delete options.cache;
  for (let i = 0; i < (f.repeat || 1); i++) {
    out.result = null;
    out.error = null;
    try {
      const promise = client.clientFetch(f.path, options);
      if (f.stream) {
        const items = [];
        for await (const item of promise.stream()) {
          items.push(item);
          if (f.stop_after && items.length >= f.stop_after) break;
        }
        out.result = items;
      } else if (cacheKey !== undefined) {
        out.result = await promise.cache(cacheKey);
      } else {
        out.result = await promise;
      }
    } catch (e) {
      out.error = describeError(e);
    }
  }
}

async function runCase(c) {
  await control('DELETE');
  const out = { name: c.name, result: null, error: null, requests: [] };
  try {
    const Client = c.client === 'bot' ? BotClient : ConversationSessionClient;
    const options = { retries: 0, timeout: 10000, ...template(c.options || {}) };
    let client = new Client(options);
    for (const ext of c.extend || []) {
      client = client.extend(template(ext));
    }
    if (c.fetch) {
      await runFetch(client, template(c.fetch), out);
    } else {
      const request = c.request === null || c.request === undefined ? undefined : c.request;
      out.result = await client.create(c.id, request);
    }
  } catch (e) {
    out.error = describeError(e);
  }
  out.requests = await control('GET');
  return out;
}

async function main() {
  const cases = JSON.parse(fs.readFileSync(casesPath, 'utf8'));
  const results = [];
  for (const c of cases) {
    results.push(await runCase(c));
  }
  const doc = {
    runner: 'sdk',
    sdk: { name: sdkPackage.name, version: sdkPackage.version, botClient: botClientName },
    node: process.version,
    cases: results,
  };
  fs.writeFileSync(outPath, JSON.stringify(doc, null, 2));
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`sdk_runner: ${e && e.stack ? e.stack : e}\n`);
    process.exit(1);
  },
);
