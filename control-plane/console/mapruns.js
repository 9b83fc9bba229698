// An execution's Map Runs (its distributed Map states): status, limits,
// item and child-execution counts, and UpdateMapRun on a running one.

import { call } from "./api.js";
import { act, arnName, badge, h, link } from "./dom.js";
import { formatTime } from "./time.js";

/** Map Runs shown per execution (one ListMapRuns page; AWS's page maximum is 1,000). */
const MAP_RUNS_SHOWN_MAX = 100;
/** Child executions listed per Map Run (one ListExecutions page, newest first). */
const CHILDREN_SHOWN_MAX = 50;
const COUNTS = [
  ["pending", "Pending"],
  ["running", "Running"],
  ["succeeded", "Succeeded"],
  ["failed", "Failed"],
  ["timedOut", "Timed out"],
  ["aborted", "Aborted"],
  ["total", "Total"],
  ["resultsWritten", "Results written"],
  ["failuresNotRedrivable", "Not redrivable"],
  ["pendingRedrive", "Pending redrive"],
];

/** Whether the history shows a Map Run, so the tab is worth offering. */
export function hasMapRuns(events) {
  return events.some((e) => e.type === "MapRunStarted");
}

/** The panel: one card per Map Run, newest first, as ListMapRuns gives them. */
export async function mapRunsPanel(executionArn) {
  const listed = await call("ListMapRuns", { executionArn, maxResults: MAP_RUNS_SHOWN_MAX });
  const runs = await Promise.all(listed.mapRuns.map(describeWithChildren));
  if (!runs.length) return h("p", { class: "muted" }, "No Map Run has started yet.");
  return h(
    "div",
    { class: "map-runs" },
    runs.map(card),
    listed.nextToken ? h("p", { class: "warn" }, `Only the newest ${runs.length} Map Runs are shown.`) : null,
  );
}

/** A Map Run and its newest child executions (EXPRESS ones too, which run inline). */
async function describeWithChildren(r) {
  const [run, children] = await Promise.all([
    call("DescribeMapRun", { mapRunArn: r.mapRunArn }),
    call("ListExecutions", { mapRunArn: r.mapRunArn, maxResults: CHILDREN_SHOWN_MAX }),
  ]);
  return { ...run, children };
}

/** `arn:…:mapRun:machine/label:id` → "label · id". */
function title(arn) {
  const [, rest = arn] = String(arn).split(":mapRun:");
  const [path, id] = rest.split(":");
  return `${path.split("/").pop()} · ${id || ""}`;
}

function card(r) {
  const item = (k, v) => [h("dt", {}, k), h("dd", {}, v)];
  const tolerated = [r.toleratedFailureCount ? `${r.toleratedFailureCount} items` : null, r.toleratedFailurePercentage ? `${r.toleratedFailurePercentage}%` : null].filter(Boolean);
  return h(
    "section",
    { class: "map-run panel", "data-map-run": r.mapRunArn, "aria-label": `Map Run ${title(r.mapRunArn)}` },
    h("h2", {}, title(r.mapRunArn), " ", badge(r.status)),
    h(
      "dl",
      { class: "summary" },
      item("Started", formatTime(r.startDate)),
      item("Stopped", r.stopDate ? formatTime(r.stopDate) : "—"),
      item("Max concurrency", h("span", { "data-field": "maxConcurrency" }, r.maxConcurrency ? String(r.maxConcurrency) : "0 (up to 10,000 at once)")),
      item("Tolerated failures", tolerated.length ? tolerated.join(" or ") : "none"),
      item("Redrives", String(r.redriveCount || 0)),
      item("ARN", h("code", { class: "arn" }, r.mapRunArn)),
    ),
    counts(r),
    childList(r.children),
    r.status === "RUNNING" ? updateForm(r) : null,
  );
}

/** Each child execution with its status, linked to its own page (and history). */
function childList(listed) {
  const rows = listed.executions.map((e) =>
    h("tr", { "data-child": e.executionArn }, h("td", {}, link("execution", { arn: e.executionArn }, arnName(e.executionArn))), h("td", {}, badge(e.status)), h("td", { class: "num" }, String(e.itemCount ?? 1)), h("td", {}, formatTime(e.startDate))),
  );
  if (!rows.length) return h("p", { class: "muted" }, "No child execution is listed yet. EXPRESS children run inside this execution, and are listed as they start.");
  return h(
    "details",
    { class: "map-run-children", open: true },
    h("summary", {}, listed.nextToken ? `The newest ${rows.length} child executions` : `Child executions (${rows.length})`),
    h("table", { class: "list" }, h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Status"), h("th", { class: "num" }, "Items"), h("th", {}, "Started"))), h("tbody", {}, rows)),
  );
}

function counts(r) {
  const row = (label, c) => h("tr", { "data-counts": label.toLowerCase() }, h("th", { scope: "row" }, label), COUNTS.map(([k]) => h("td", { class: "num", "data-count": k }, String((c || {})[k] ?? 0))));
  return h(
    "table",
    { class: "list counts" },
    h("thead", {}, h("tr", {}, h("th", {}, ""), COUNTS.map(([, label]) => h("th", { class: "num" }, label)))),
    h("tbody", {}, row("Items", r.itemCounts), row("Executions", r.executionCounts)),
  );
}

/** UpdateMapRun: only the fields changed are sent; the API refuses what is out of range. */
function updateForm(r) {
  const field = (id, label, value, attrs) =>
    h("div", { class: "field" }, h("label", { for: id }, label), h("input", { id, type: "number", min: 0, value: value ?? "", ...attrs }));
  const form = h(
    "form",
    { class: "row map-run-update", "aria-label": "Update this Map Run" },
    field("mr-max", "Max concurrency", r.maxConcurrency, {}),
    field("mr-count", "Tolerated failure count", r.toleratedFailureCount, {}),
    field("mr-percent", "Tolerated failure %", r.toleratedFailurePercentage, { max: 100, step: "any" }),
    h("button", { type: "submit" }, "Update Map Run"),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const changed = {};
    const read = (id, key, old) => {
      const v = form.querySelector(`#${id}`).value;
      if (v !== "" && Number(v) !== Number(old ?? 0)) changed[key] = Number(v);
    };
    read("mr-max", "maxConcurrency", r.maxConcurrency);
    read("mr-count", "toleratedFailureCount", r.toleratedFailureCount);
    read("mr-percent", "toleratedFailurePercentage", r.toleratedFailurePercentage);
    act(() => call("UpdateMapRun", { mapRunArn: r.mapRunArn, ...changed }));
  });
  return form;
}
