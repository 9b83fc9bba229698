// The reference side of the differential test: reads cases (JSON on stdin),
// evaluates each with jsonata 2.0.6 plus the functions Step Functions adds,
// and prints one result per case: {"result": v}, {"undefined": true} or {"code": "T2001"}.
'use strict';
const jsonata = require('jsonata');
const crypto = require('crypto');

// Step Functions' added functions, as its documentation describes them.
function partition(arr, size) {
  const out = [];
  for (let i = 0; i < arr.length; i += size) out.push(arr.slice(i, i + size));
  return out;
}
function range(start, end, step) {
  const out = [];
  for (let i = start; step > 0 ? i <= end : i >= end; i += step) out.push(i);
  const seq = out.length === 1 ? out[0] : out;
  return seq;
}
function hash(data, algorithm) {
  const algo = { 'MD5': 'md5', 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' }[algorithm];
  return crypto.createHash(algo).update(data, 'utf8').digest('hex');
}
function parse(text) {
  return JSON.parse(text);
}

async function main() {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  const cases = JSON.parse(text);
  const out = [];
  for (const c of cases) {
    try {
      const expr = jsonata(c.expr);
      expr.registerFunction('partition', partition, '<an:a>');
      expr.registerFunction('range', range, '<nnn:a>');
      expr.registerFunction('hash', hash, '<ss:s>');
      expr.registerFunction('parse', parse, '<s-:j>');
      const r = await expr.evaluate(c.input === undefined ? undefined : c.input, c.bindings || {});
      out.push(r === undefined ? { undefined: true } : { result: JSON.parse(JSON.stringify(r)) });
    } catch (e) {
      out.push({ code: e.code || 'unknown', message: e.message });
    }
  }
  process.stdout.write(JSON.stringify(out));
}
main();
