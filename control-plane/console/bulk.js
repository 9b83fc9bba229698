// Bulk Stop and Redrive: over the executions selected, or over every one a
// filter matches (counted first, then confirmed), with progress as it goes.

import { call } from "./api.js";
import { confirmDialog, fill, h } from "./dom.js";
import { toDate } from "./time.js";

/** A bulk action covers at most this many executions. */
const BULK_EXECUTIONS_MAX = 10000;
/** Calls in flight at once: the API's throttle is not for one console to fill. */
const BULK_CONCURRENCY = 4;

export function bulkBar({ request, since, selection, done }) {
  const count = h("span", { class: "muted" });
  const progress = h("span", { "aria-live": "polite" });
  const run = async (action, useFilter) => {
    const arns = useFilter ? await matching(request, since, action) : [...selection];
    const what = useFilter ? "every execution this filter matches" : "the selected executions";
    if (arns.length === 0) return confirmDialog(`Nothing to ${action.toLowerCase()}`, `None of ${what} can be ${action === "Stop" ? "stopped (none is running)" : "redriven"}.`, "OK");
    const capped = arns.length >= BULK_EXECUTIONS_MAX ? ` (the first ${BULK_EXECUTIONS_MAX})` : "";
    if (!(await confirmDialog(`${action} ${arns.length} execution${arns.length > 1 ? "s" : ""}?`, `This will ${action.toLowerCase()} ${arns.length}${capped} of ${what}.`, `${action} ${arns.length}`))) return;
    const failures = [];
    let finished = 0;
    const queue = [...arns];
    const worker = async () => {
      while (queue.length) {
        const arn = queue.shift();
        try {
          await call(action === "Stop" ? "StopExecution" : "RedriveExecution", { executionArn: arn, ...(action === "Stop" ? { cause: "Stopped in bulk from the console" } : {}) });
        } catch (e) {
          failures.push(`${arn.split(":").pop()}: ${e.type || "Error"}: ${e.message}`);
        }
        finished += 1;
        fill(progress, `${action}: ${finished} of ${arns.length}`);
      }
    };
    await Promise.all(Array.from({ length: BULK_CONCURRENCY }, worker));
    selection.clear();
    if (failures.length) await confirmDialog(`${failures.length} of ${arns.length} failed`, failures.slice(0, 20).join("\n"), "OK");
    done();
  };
  const el = h(
    "div",
    { class: "row bulk", role: "toolbar", "aria-label": "Bulk actions" },
    count,
    h("button", { type: "button", "data-bulk": "stop-selected", onclick: () => run("Stop", false) }, "Stop selected"),
    h("button", { type: "button", "data-bulk": "redrive-selected", onclick: () => run("Redrive", false) }, "Redrive selected"),
    h("button", { type: "button", "data-bulk": "stop-matching", onclick: () => run("Stop", true) }, "Stop all matching…"),
    h("button", { type: "button", "data-bulk": "redrive-matching", onclick: () => run("Redrive", true) }, "Redrive all matching…"),
    progress,
  );
  const changed = () => {
    fill(count, `${selection.size} selected`);
    for (const b of el.querySelectorAll("[data-bulk$=selected]")) b.disabled = selection.size === 0;
  };
  changed();
  return { el, changed };
}

/** Every execution the filter matches that the action applies to, paging the API. */
async function matching(request, since, action) {
  const cut = since ? new Date(since) : null;
  const statusFilter = action === "Stop" ? "RUNNING" : request.statusFilter;
  if (action === "Stop" && request.statusFilter && request.statusFilter !== "RUNNING") return [];
  const base = { ...request, statusFilter, maxResults: 1000 };
  const arns = [];
  let nextToken;
  do {
    const page = await call("ListExecutions", { ...base, nextToken });
    for (const e of page.executions || []) {
      if (cut && toDate(e.startDate) < cut) return arns;
      if (action === "Redrive" && !["FAILED", "TIMED_OUT", "ABORTED"].includes(e.status)) continue;
      arns.push(e.executionArn);
      if (arns.length >= BULK_EXECUTIONS_MAX) return arns;
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return arns;
}
