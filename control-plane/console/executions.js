// Executions of a machine, newest first, paged by the API, filtered by
// status (the API's statusFilter) and start time (the listing is newest
// first, so paging stops at the first older one), with bulk Stop and Redrive.

import { call } from "./api.js";
import { badge, fill, h, href, link } from "./dom.js";
import { pager } from "./machines.js";
import { bulkBar } from "./bulk.js";
import { duration, formatTime, toDate } from "./time.js";

const PAGE_SIZE = 50;
const STATUSES = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"];
/** The machine picker lists at most this many machines. */
const MACHINES_LISTED_MAX = 100;

export async function executionsView(main, params) {
  const machines = (await call("ListStateMachines", { maxResults: MACHINES_LISTED_MAX })).stateMachines || [];
  const machine = params.machine || (machines[0] && machines[0].stateMachineArn);
  const picker = h(
    "select",
    { id: "f-machine", onchange: () => go({ ...params, machine: picker.value, token: "" }) },
    machines.map((m) => h("option", { value: m.stateMachineArn, selected: m.stateMachineArn === machine }, m.name)),
  );
  if (machine && !machines.some((m) => m.stateMachineArn === machine)) picker.prepend(h("option", { value: machine, selected: true }, machine.split(":").pop()));
  fill(
    main,
    h("h1", {}, "Executions"),
    h("div", { class: "row filters" }, h("label", { for: "f-machine" }, "State machine"), picker),
    machine ? h("div", {}) : h("div", { class: "panel empty" }, h("p", {}, "No state machines yet, so no executions.")),
  );
  if (!machine) return null;
  return executionsList(main.lastChild, { ...params, machine }, (p) => href("executions", p));
}

function go(params) {
  location.hash = href("executions", params);
}

/**
 * The filters, the table and the bulk actions, into `el`. `to(params)` is the
 * address of the same list with other filters (so filters are shareable).
 */
export async function executionsList(el, params, to) {
  const status = h(
    "select",
    { id: "f-status", onchange: () => (location.hash = to({ ...params, status: status.value, token: "" })) },
    h("option", { value: "" }, "Any status"),
    STATUSES.map((s) => h("option", { value: s, selected: s === params.status }, s.replace("_", " "))),
  );
  const since = h("input", { id: "f-since", type: "datetime-local", value: params.since || "", onchange: () => (location.hash = to({ ...params, since: since.value, token: "" })) });
  const request = { stateMachineArn: params.machine, statusFilter: params.status || undefined, maxResults: PAGE_SIZE };
  const body = h("tbody");
  const selection = new Set();
  const all = h("input", { type: "checkbox", "aria-label": "Select all on this page" });
  const bar = bulkBar({ request, since: params.since, selection, done: () => window.dispatchEvent(new HashChangeEvent("hashchange")) });
  let last = "";
  const draw = async () => {
    const page = await call("ListExecutions", { ...request, nextToken: params.token || undefined });
    // An unchanged page is left alone, so focus and scroll stay where they are.
    const seen = JSON.stringify(page.executions);
    if (seen === last) return true;
    last = seen;
    const cut = params.since ? new Date(params.since) : null;
    const shown = (page.executions || []).filter((e) => !cut || toDate(e.startDate) >= cut);
    const older = cut && shown.length < (page.executions || []).length;
    fill(
      body,
      shown.length === 0 ? h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No executions match.")) : null,
      shown.map((e) => {
        const box = h("input", { type: "checkbox", "aria-label": `Select ${e.name}`, checked: selection.has(e.executionArn), onchange: () => { box.checked ? selection.add(e.executionArn) : selection.delete(e.executionArn); bar.changed(); } });
        return h(
          "tr",
          {},
          h("td", {}, box),
          h("td", {}, link("execution", { arn: e.executionArn }, e.name)),
          h("td", {}, badge(e.status)),
          h("td", {}, formatTime(e.startDate)),
          h("td", {}, e.stopDate ? formatTime(e.stopDate) : "—"),
          h("td", { class: "num" }, duration(e.startDate, e.stopDate)),
        );
      }),
    );
    all.onchange = () => {
      for (const e of shown) all.checked ? selection.add(e.executionArn) : selection.delete(e.executionArn);
      for (const b of body.querySelectorAll("input[type=checkbox]")) b.checked = all.checked;
      bar.changed();
    };
    fill(pages, pager(params.token, older ? null : page.nextToken, (token) => to({ ...params, token })));
    return shown.some((e) => e.status === "RUNNING");
  };
  const pages = h("div");
  fill(
    el,
    h("div", { class: "row filters" }, h("label", { for: "f-status" }, "Status"), status, h("label", { for: "f-since" }, "Started after"), since),
    bar.el,
    h(
      "table",
      { class: "list", "aria-label": "Executions" },
      h("thead", {}, h("tr", {}, h("th", {}, all), h("th", {}, "Name"), h("th", {}, "Status"), h("th", {}, "Started"), h("th", {}, "Stopped"), h("th", { class: "num" }, "Duration"))),
      body,
    ),
    pages,
  );
  await draw();
  // The first page shows new executions as they start; a later one, its running ones as they end.
  return { refresh: async () => (await draw()) || !params.token };
}
