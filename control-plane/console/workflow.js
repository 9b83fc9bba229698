// A code workflow's own controls: what it waits on, its last workflow task
// failure, and Signal, Query, Update, Cancel and Terminate.

import { call } from "./api.js";
import { confirmDialog, fill, h, pretty } from "./dom.js";
import { formatTime } from "./time.js";

/** The panel, built once so typed input survives refreshes; `update` refreshes what it shows. */
export function codePanel(arn) {
  const info = h("div");
  const answer = h("div", { class: "answer", "aria-live": "polite" });
  const whileRunning = h(
    "div",
    { class: "running-only" },
    h("div", { class: "forms" }, form("Signal", "signalName", "SignalExecution", arn, answer), form("Update", "updateName", "UpdateExecution", arn, answer)),
    h(
      "div",
      { class: "row" },
      h("button", { type: "button", onclick: () => cancel(arn, answer) }, "Request cancel"),
      h("button", { type: "button", class: "danger", onclick: () => terminate(arn, answer) }, "Terminate"),
    ),
  );
  const el = h("section", { class: "panel code" }, info, h("div", { class: "forms" }, form("Query", "queryName", "QueryExecution", arn, answer)), whileRunning, answer);
  return {
    el,
    async update(status) {
      const d = await call("DescribeWorkflowExecution", { executionArn: arn });
      const failure = d.lastWorkflowTaskFailure;
      whileRunning.hidden = status !== "RUNNING";
      fill(
        info,
        h("h2", {}, "Code workflow ", h("span", { class: "tag" }, d.workflowType || "")),
        h(
          "dl",
          { class: "summary" },
          h("dt", {}, "Task queue"), h("dd", {}, d.taskQueue || "—"),
          h("dt", {}, "Pending activities"), h("dd", {}, String(d.pendingActivities ?? 0)),
          h("dt", {}, "Pending timers"), h("dd", {}, String(d.pendingTimers ?? 0)),
          h("dt", {}, "History length"), h("dd", {}, String(d.historyLength ?? "—")),
        ),
        failure ? h("div", { class: "panel error", role: "alert" }, h("h3", {}, "Last workflow task failure: ", failure.error), h("pre", { class: "cause" }, failure.cause || "")) : null,
        pending(d),
      );
    },
  };
}

/** A form for one of the operations that take a name and a JSON input. */
function form(label, field, operation, arn, answer) {
  const id = `${operation}-name`;
  const name = h("input", { id, required: true, spellcheck: "false", placeholder: `${label.toLowerCase()} name` });
  const input = h("textarea", { id: `${operation}-input`, rows: 2, placeholder: "JSON input (optional)", spellcheck: "false" });
  return h(
    "form",
    { class: "op", "aria-label": label, onsubmit: async (ev) => {
      ev.preventDefault();
      const text = input.value.trim();
      if (text) {
        try {
          JSON.parse(text);
        } catch (e) {
          return fill(answer, h("p", { class: "bad" }, `The input is not JSON: ${e.message}`));
        }
      }
      fill(answer, h("p", { class: "muted" }, `${label}…`));
      try {
        const out = await call(operation, { executionArn: arn, [field]: name.value.trim(), input: text || undefined });
        const heading = h("h3", {}, `${label} ${name.value.trim()}: ${operation === "SignalExecution" ? "delivered" : "answered"}`);
        fill(answer, heading, operation === "SignalExecution" ? null : h("pre", { class: "result" }, pretty(JSON.stringify(out.output ?? null))));
      } catch (e) {
        fill(answer, h("div", { class: "panel error", role: "alert" }, h("h3", {}, e.type || "Error"), h("p", {}, e.message)));
      }
    } },
    h("label", { for: id }, label),
    name,
    input,
    h("button", { type: "submit" }, label),
  );
}

async function cancel(arn, answer) {
  if (!(await confirmDialog("Request cancellation?", "The workflow code is told and may clean up before it ends.", "Request cancel"))) return;
  await attempt(answer, () => call("RequestCancelExecution", { executionArn: arn }));
}

async function terminate(arn, answer) {
  if (!(await confirmDialog("Terminate this run?", "It ends ABORTED at once; its code is not told.", "Terminate"))) return;
  await attempt(answer, () => call("StopExecution", { executionArn: arn, cause: "Terminated from the console" }));
}

async function attempt(answer, f) {
  try {
    await f();
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } catch (e) {
    fill(answer, h("div", { class: "panel error", role: "alert" }, h("h3", {}, e.type || "Error"), h("p", {}, e.message)));
  }
}

/** What the run waits on: activities with their attempts and last failures, and its timers. */
function pending(d) {
  const acts = d.pendingActivityDetails || [];
  const timers = d.pendingTimerDetails || [];
  if (!acts.length && !timers.length) return null;
  return h(
    "table",
    { class: "list pending", "aria-label": "Pending activities and timers" },
    h("thead", {}, h("tr", {}, h("th", {}, "Waiting on"), h("th", {}, "State"), h("th", {}, "Last failure"))),
    h(
      "tbody",
      {},
      acts.map((a) =>
        h(
          "tr",
          {},
          h("td", {}, `activity ${a.activityType} (#${a.seq})`),
          h("td", {}, a.started ? `attempt ${a.attempt} running` : a.lastFailure ? `attempt ${a.attempt + 1} waiting to retry` : "scheduled"),
          h("td", {}, a.lastFailure ? `${a.lastFailure.error_type || a.lastFailure.errorType || "Error"}: ${a.lastFailure.message || ""}` : "—"),
        ),
      ),
      timers.map((t) => h("tr", {}, h("td", {}, `timer #${t.seq}`), h("td", {}, `fires ${formatTime(t.fireDate)}`), h("td", {}, "—"))),
    ),
  );
}
