// The console's only way to the server: the public API (AWS JSON 1.0, and
// the EventBridge Scheduler API's REST-JSON), the same operations the AWS CLI sends. No cookies, so no other site can act
// through a visitor's browser.

import { sign } from "./sigv4.js";

const CONTENT_TYPE = "application/x-amz-json-1.0";
const SESSION_KEY = "stepwise.credentials";
/** A call that takes longer than this is reported as a lost connection. */
const REQUEST_TIMEOUT_MS = 30000;

export class ApiError extends Error {
  constructor(type, message, status) {
    super(message);
    this.type = type;
    this.status = status;
  }
}

/** The server could not be reached (or answered nothing we can read). */
export class ConnectionError extends Error {}

let server = null;

/** What the server says of itself: its region and whether calls must be signed. */
export async function serverInfo(refresh = false) {
  if (server && !refresh) return server;
  let res;
  try {
    res = await fetch("/healthz", { cache: "no-store", signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (e) {
    throw new ConnectionError(`The server cannot be reached (${e.message})`);
  }
  if (!res.ok) throw new ConnectionError(`The server answered ${res.status} to /healthz`);
  server = await res.json();
  return server;
}

export function credentials() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
  } catch {
    return null;
  }
}

export function setCredentials(c) {
  if (c) sessionStorage.setItem(SESSION_KEY, JSON.stringify(c));
  else sessionStorage.removeItem(SESSION_KEY);
}

/** Calls an operation; resolves to its answer or throws ApiError / ConnectionError. */
export async function call(operation, request = {}) {
  const headers = { "content-type": CONTENT_TYPE, "x-amz-target": `AWSStepFunctions.${operation}` };
  return send({ method: "POST", path: "/", query: {}, headers, body: JSON.stringify(request), service: "states" });
}

/** A Scheduler API call (REST-JSON, signed for `scheduler`): a GET of `path` with `query`. */
export async function rest(path, query = {}) {
  const q = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined && v !== ""));
  return send({ method: "GET", path, query: q, headers: {}, body: "", service: "scheduler" });
}

async function send({ method, path, query, headers, body, service }) {
  const info = await serverInfo();
  const keys = credentials();
  if (info.auth === "sigv4" || keys) {
    if (!keys) throw new ApiError("MissingAuthenticationTokenException", "Sign in to call the API", 403);
    const signed = await sign({ ...keys, region: info.region, service, host: location.host, headers, body, method, path, query });
    headers = { ...headers, ...signed };
  }
  const qs = new URLSearchParams(query).toString();
  let res;
  try {
    const init = { method, headers, cache: "no-store", signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) };
    if (method !== "GET") init.body = body;
    res = await fetch(qs ? `${path}?${qs}` : path, init);
  } catch (e) {
    throw new ConnectionError(`The server cannot be reached (${e.message})`);
  }
  const text = await res.text();
  let answer;
  try {
    answer = text ? JSON.parse(text) : {};
  } catch {
    throw new ConnectionError(`The server answered ${res.status} with something that is not JSON`);
  }
  if (!res.ok) {
    const type = String(answer.__type || res.headers.get("x-amzn-errortype") || `HTTP ${res.status}`).split("#").pop();
    throw new ApiError(type, answer.message || answer.Message || "", res.status);
  }
  return answer;
}

/** Every page of a listing, up to `max` items (never the whole store by accident). */
export async function listAll(operation, request, field, max) {
  const items = [];
  let nextToken;
  do {
    const page = await call(operation, { ...request, nextToken, maxResults: Math.min(100, max - items.length) });
    items.push(...(page[field] || []));
    nextToken = page.nextToken;
  } while (nextToken && items.length < max);
  return { items, more: Boolean(nextToken) };
}
