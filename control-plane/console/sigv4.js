// AWS Signature Version 4 in the browser, with Web Crypto: the console signs
// each call itself with keys kept only in this tab's session, as the AWS CLI
// signs with its own. The server checks it like any other client's.

const enc = new TextEncoder();

async function sha256Hex(text) {
  return hex(await crypto.subtle.digest("SHA-256", enc.encode(text)));
}

async function hmac(key, text) {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, enc.encode(text)));
}

function hex(buf) {
  return [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** `YYYYMMDDTHHMMSSZ` for a date. */
export function amzDate(d) {
  return d.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/** RFC 3986 encoding, as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
function encode(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

/** A query string in SigV4's canonical form: encoded, sorted by name. */
function canonicalQuery(query) {
  return Object.entries(query || {})
    .map(([k, v]) => [encode(k), encode(String(v))])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

/**
 * The headers that sign a request of `body` on `host` (a POST to `/` unless
 * `method`, `path` and `query` say otherwise; a REST path's segments are
 * encoded twice, as AWS's signers do for every service but S3): `headers`
 * are the ones to send (every one of them is signed, with `host`).
 */
export async function sign({ keyId, secret, region, service, host, headers, body, method = "POST", path = "/", query = {}, now = new Date() }) {
  const date = amzDate(now);
  const day = date.slice(0, 8);
  const all = { ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v).trim()])), host, "x-amz-date": date };
  const names = Object.keys(all).sort();
  const canonicalPath = path.split("/").map((seg) => encode(encode(decodeURIComponent(seg)))).join("/");
  const canonical = [
    method,
    canonicalPath,
    canonicalQuery(query),
    ...names.map((n) => `${n}:${all[n]}`),
    "",
    names.join(";"),
    await sha256Hex(body),
  ].join("\n");
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", date, scope, await sha256Hex(canonical)].join("\n");
  let key = await hmac(enc.encode("AWS4" + secret), day);
  for (const part of [region, service, "aws4_request"]) key = await hmac(key, part);
  const signature = hex(await hmac(key, toSign));
  return {
    "x-amz-date": date,
    authorization: `AWS4-HMAC-SHA256 Credential=${keyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`,
  };
}
