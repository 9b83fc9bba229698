// An execution's history: which state each event belongs to, each state's
// status, and the event table (virtualised: only the rows in view exist, so
// 25,000 events scroll without freezing the page).

import { fill, h, pretty } from "./dom.js";
import { formatMs, toDate } from "./time.js";

const ROW_H = 30;
/** Rows drawn beyond the visible ones, above and below. */
const OVERSCAN_ROWS = 10;
const FAILURE = /(Failed|TimedOut|Aborted)$/;
const SUCCESS = /Succeeded$/;
/** Events of the states that hold others (their branches' events come between). */
const CONTAINER = /^(Parallel|Map)(State|Iteration|Run)/;

/** The `…EventDetails` of an event, whatever its type. */
export function details(e) {
  for (const [k, v] of Object.entries(e)) if (k.endsWith("EventDetails")) return v;
  return null;
}

/**
 * Walks the history once: the state each event belongs to (through
 * `previousEventId`), and per state its entries, input, output, failures and
 * status (`succeeded`, `caught`, `failed`, `running`, `aborted`).
 */
export function analyse(events, executionStatus) {
  const carry = new Map();
  const container = new Map();
  const outer = new Map();
  const owner = new Map();
  const states = new Map();
  const get = (name) => {
    if (!states.has(name)) states.set(name, { name, entered: 0, exited: 0, events: [], failures: [], lastFailed: false, status: "not-run", iterations: 0 });
    return states.get(name);
  };
  for (const e of events) {
    const d = details(e) || {};
    const around = container.get(e.previousEventId) ?? null;
    const opens = CONTAINER.test(e.type);
    let name = carry.get(e.previousEventId) ?? null;
    let pass = name;
    let inside = around;
    if (e.type.endsWith("StateEntered")) {
      name = d.name;
      pass = d.name;
      outer.set(name, around);
      if (opens) inside = name;
      const s = get(name);
      s.entered += 1;
      s.input = d.input;
      s.lastFailed = false;
    } else if (e.type.endsWith("StateExited")) {
      name = d.name;
      pass = null;
      if (opens) inside = outer.get(name) ?? null;
      const s = get(name);
      s.exited += 1;
      s.output = d.output;
    } else if (opens) {
      // ParallelStateFailed, MapIterationStarted…: the Parallel or Map around them,
      // not the branch state they follow.
      name = around;
    }
    carry.set(e.id, pass);
    container.set(e.id, inside);
    owner.set(e.id, name);
    if (!name || e.type.startsWith("Execution")) continue;
    const s = get(name);
    s.events.push(e);
    if (FAILURE.test(e.type)) {
      s.failures.push({ type: e.type, error: d.error, cause: d.cause, timestamp: e.timestamp });
      s.lastFailed = true;
    } else if (SUCCESS.test(e.type)) s.lastFailed = false;
    if (e.type === "TaskScheduled") s.parameters = d.parameters;
    if (e.type === "TaskSucceeded") s.result = d.output;
    if (e.type === "MapIterationStarted") s.iterations += 1;
  }
  for (const s of states.values()) {
    s.iterations = Math.max(s.iterations, s.entered);
    if (s.entered > s.exited) s.status = executionStatus === "RUNNING" ? "running" : executionStatus === "ABORTED" ? "aborted" : "failed";
    else if (s.entered > 0) s.status = s.lastFailed ? "caught" : "succeeded";
  }
  return { states, owner };
}

/** The event table: a type filter, a search over details, virtualised rows. */
export function eventTable(onPick) {
  let all = [];
  let owner = new Map();
  let shown = [];
  let start = 0;
  const type = h("select", { "aria-label": "Event type" }, h("option", { value: "" }, "All event types"));
  const search = h("input", { type: "search", placeholder: "Search event details", "aria-label": "Search event details" });
  const count = h("span", { class: "muted" });
  const spacer = h("div", { class: "spacer" });
  const viewport = h("div", { class: "vlist", tabindex: 0, role: "table", "aria-label": "Events" }, spacer);
  const head = h("div", { class: "vrow head", role: "row" }, ["ID", "Type", "State", "Time", "Details"].map((c) => h("span", { role: "columnheader" }, c)));
  const texts = new WeakMap();
  const text = (e) => {
    if (!texts.has(e)) texts.set(e, JSON.stringify(e).toLowerCase());
    return texts.get(e);
  };
  const apply = () => {
    const t = type.value;
    const q = search.value.trim().toLowerCase();
    shown = all.filter((e) => (!t || e.type === t) && (!q || text(e).includes(q)));
    fill(count, `${shown.length} of ${all.length} events`);
    spacer.style.height = `${shown.length * ROW_H}px`;
    draw();
  };
  const draw = () => {
    const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_H) - OVERSCAN_ROWS);
    const last = Math.min(shown.length, Math.ceil((viewport.scrollTop + viewport.clientHeight) / ROW_H) + OVERSCAN_ROWS);
    const rows = [];
    for (let i = first; i < last; i++) {
      const e = shown[i];
      const d = details(e);
      const summary = d ? JSON.stringify(d) : "";
      const ms = toDate(e.timestamp) - start;
      rows.push(
        h(
          "div",
          { class: `vrow${FAILURE.test(e.type) ? " bad" : ""}`, role: "row", style: `top:${i * ROW_H}px`, onclick: () => onPick(e) },
          h("span", { role: "cell" }, e.id),
          h("span", { role: "cell", class: "etype" }, e.type),
          h("span", { role: "cell" }, owner.get(e.id) || ""),
          h("span", { role: "cell", title: String(e.timestamp) }, `+${formatMs(ms)}`),
          h("span", { role: "cell", class: "mono" }, summary.length > 160 ? summary.slice(0, 159) + "…" : summary),
        ),
      );
    }
    spacer.replaceChildren(...rows);
  };
  viewport.addEventListener("scroll", () => requestAnimationFrame(draw));
  type.addEventListener("change", apply);
  search.addEventListener("input", apply);
  const el = h("div", { class: "events" }, h("div", { class: "row" }, type, search, count), head, viewport);
  return {
    el,
    /** New events (a refresh): the filter, search and scroll position stay. */
    set(events, owners) {
      all = events;
      owner = owners;
      start = events.length ? toDate(events[0].timestamp).getTime() : 0;
      const chosen = type.value;
      const types = [...new Set(events.map((e) => e.type))].sort();
      fill(type, h("option", { value: "" }, "All event types"), types.map((t) => h("option", { value: t }, t)));
      type.value = types.includes(chosen) ? chosen : "";
      apply();
    },
  };
}

/** One event, whole. */
export function eventDetail(e) {
  return h("section", { class: "json" }, h("h3", {}, `Event ${e.id}: ${e.type}`), h("pre", { tabindex: 0 }, pretty(JSON.stringify(e))));
}

/** States and tasks as bars on one time axis. */
export function timeline(events, states) {
  if (!events.length) return h("p", { class: "muted" }, "No events yet.");
  const t0 = toDate(events[0].timestamp).getTime();
  const t1 = Math.max(t0 + 1, toDate(events[events.length - 1].timestamp).getTime());
  const bars = [];
  const open = new Map();
  for (const e of events) {
    const d = details(e) || {};
    const t = toDate(e.timestamp).getTime();
    if (e.type.endsWith("StateEntered")) open.set(d.name, t);
    else if (e.type.endsWith("StateExited") && open.has(d.name)) {
      bars.push({ name: d.name, from: open.get(d.name), to: t, status: states.get(d.name)?.status || "succeeded" });
      open.delete(d.name);
    }
  }
  for (const [name, from] of open) bars.push({ name, from, to: t1, status: states.get(name)?.status || "running" });
  const BARS_MAX = 500;
  return h(
    "div",
    { class: "timeline", role: "list", "aria-label": "Timeline" },
    h("div", { class: "axis" }, h("span", {}, "0"), h("span", {}, formatMs(t1 - t0))),
    bars.slice(0, BARS_MAX).map((b) =>
      h(
        "div",
        { class: "tl-row", role: "listitem" },
        h("span", { class: "tl-name", title: b.name }, b.name),
        h(
          "span",
          { class: "tl-track" },
          h("span", {
            class: `tl-bar gs-${b.status}`,
            style: `left:${((b.from - t0) / (t1 - t0)) * 100}%;width:${Math.max(0.4, ((b.to - b.from) / (t1 - t0)) * 100)}%`,
            title: `${b.name}: ${formatMs(b.to - b.from)} (${b.status})`,
          }),
        ),
        h("span", { class: "tl-dur" }, formatMs(b.to - b.from)),
      ),
    ),
    bars.length > BARS_MAX ? h("p", { class: "muted" }, `The first ${BARS_MAX} of ${bars.length} state runs.`) : null,
  );
}
