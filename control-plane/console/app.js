// The console's shell: routes (`#/screen?params`), sign-in, the lost-
// connection banner, and live refresh of the screen on show.

import { ApiError, ConnectionError, call, credentials, serverInfo, setCredentials } from "./api.js";
import { fill, h } from "./dom.js";
import { setTimeFormat, timeFormat } from "./time.js";
import { machinesView } from "./machines.js";
import { machineView } from "./machine.js";
import { executionsView } from "./executions.js";
import { executionView } from "./execution.js";
import { activitiesView } from "./activities.js";
import { scheduleView, schedulesView } from "./schedules.js";

/** Live screens refresh at this interval: the floor is once a second. */
const REFRESH_MS = 2000;
const AUTH_ERRORS = ["UnrecognizedClientException", "InvalidSignatureException", "MissingAuthenticationTokenException", "IncompleteSignatureException", "ExpiredTokenException"];

const VIEWS = {
  machines: machinesView,
  machine: machineView,
  executions: executionsView,
  execution: executionView,
  activities: activitiesView,
  schedules: schedulesView,
  schedule: scheduleView,
};

const main = document.getElementById("main");
const banner = document.getElementById("banner");
let generation = 0;
let timer = null;

function parseRoute() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [name, query] = raw.split("?", 2);
  return { name: name || "machines", params: Object.fromEntries(new URLSearchParams(query || "")) };
}

async function show() {
  const mine = ++generation;
  clearTimeout(timer);
  const route = parseRoute();
  for (const a of document.querySelectorAll("nav a")) {
    const on = a.dataset.section === route.name || (route.name === "machine" && a.dataset.section === "machines") || (route.name === "execution" && a.dataset.section === "executions") || (route.name === "schedule" && a.dataset.section === "schedules");
    if (on) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  let info;
  try {
    info = await serverInfo(true);
  } catch (e) {
    return offline(e);
  }
  if (info.auth === "sigv4" && !credentials()) return signIn();
  showWho(info);
  const view = VIEWS[route.name];
  if (!view) return fill(main, h("div", { class: "panel error" }, h("h1", {}, "Not found"), h("p", {}, `There is no screen called “${route.name}”.`)));
  const live = { stale: () => mine !== generation };
  try {
    const result = await view(main, route.params, live);
    hideBanner();
    if (result && result.refresh && mine === generation) schedule(mine, result.refresh);
  } catch (e) {
    if (mine === generation) failed(e);
  }
}

function schedule(mine, refresh) {
  timer = setTimeout(async () => {
    if (mine !== generation || document.hidden) return schedule(mine, refresh);
    try {
      const again = await refresh();
      hideBanner();
      if (again !== false && mine === generation) schedule(mine, refresh);
    } catch (e) {
      if (e instanceof ConnectionError) offline(e);
      if (mine === generation) schedule(mine, refresh);
    }
  }, REFRESH_MS);
}

function failed(e) {
  if (e instanceof ConnectionError) return offline(e);
  if (e instanceof ApiError && AUTH_ERRORS.includes(e.type)) {
    setCredentials(null);
    return signIn(e);
  }
  console.warn(e);
  fill(main, errorPanel(e));
}

/** An API error as the API gave it: its `__type` and message. */
export function errorPanel(e) {
  const type = e instanceof ApiError ? e.type : e.name || "Error";
  return h("div", { class: "panel error", role: "alert" }, h("h2", {}, type), h("p", {}, e.message || "(no message)"));
}

function offline(e) {
  banner.hidden = false;
  fill(
    banner,
    h("strong", {}, "Connection lost. "),
    h("span", {}, e.message || String(e)),
    " ",
    h("button", { type: "button", onclick: () => show() }, "Retry"),
  );
}

function hideBanner() {
  banner.hidden = true;
  banner.replaceChildren();
}

function showWho(info) {
  const who = document.getElementById("who");
  const keys = credentials();
  if (info.auth !== "sigv4") return fill(who, h("span", { class: "muted", title: "The server runs without --auth: anyone who reaches it may call it" }, "open access"));
  fill(who, h("span", { class: "muted" }, keys ? keys.keyId : ""), " ", h("button", { type: "button", onclick: () => { setCredentials(null); show(); } }, "Sign out"));
}

function signIn(error) {
  fill(document.getElementById("who"));
  const keyId = h("input", { id: "key-id", name: "keyId", autocomplete: "username", required: true, spellcheck: "false" });
  const secret = h("input", { id: "secret", name: "secret", type: "password", autocomplete: "current-password", required: true });
  const message = h("div", { role: "alert" }, error ? errorPanel(error) : null);
  const form = h(
    "form",
    { class: "panel signin", onsubmit: async (ev) => {
      ev.preventDefault();
      setCredentials({ keyId: keyId.value.trim(), secret: secret.value });
      try {
        await call("ListStateMachines", { maxResults: 1 });
        show();
      } catch (e) {
        setCredentials(null);
        fill(message, errorPanel(e));
      }
    } },
    h("h1", {}, "Sign in"),
    h("p", { class: "muted" }, "This server checks SigV4 signatures. Enter one of its access keys: it is kept only in this browser tab, and every call is signed here."),
    h("label", { for: "key-id" }, "Access key ID"),
    keyId,
    h("label", { for: "secret" }, "Secret access key"),
    secret,
    h("button", { type: "submit", class: "primary" }, "Sign in"),
    message,
  );
  fill(main, form);
  keyId.focus();
}

const select = document.getElementById("time-format");
select.value = timeFormat();
select.addEventListener("change", () => {
  setTimeFormat(select.value);
  show();
});
window.addEventListener("hashchange", show);
show();
