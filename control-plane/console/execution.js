// One execution: summary, actions, graph with per-state input and output,
// event history, timeline, input and output, and code workflows' controls.

import { call } from "./api.js";
import { act, arnName, badge, confirmDialog, fill, h, jsonBlock, link, machineOf, pretty } from "./dom.js";
import { graph, findState } from "./graph.js";
import { analyse, eventDetail, eventTable, timeline } from "./history.js";
import { duration, formatTime } from "./time.js";
import { hasMapRuns, mapRunsPanel } from "./mapruns.js";
import { codePanel } from "./workflow.js";

/** Events per history request: a page stays well under 200 KB of JSON. */
const HISTORY_PAGE_EVENTS = 500;
/** A history past this is shown in part (AWS's maximum is 25,000). */
const HISTORY_EVENTS_MAX = 30000;
const TABS = [
  ["graph", "Graph"],
  ["events", "Events"],
  ["timeline", "Timeline"],
  ["io", "Input and output"],
  ["mapruns", "Map Runs"],
  ["definition", "Definition"],
];
const TRANSFORMS = ["Error", "Cause", "ErrorPath", "CausePath", "InputPath", "Parameters", "Arguments", "ItemsPath", "ItemSelector", "ResultSelector", "ResultPath", "OutputPath", "Output", "Assign"];
const ARN_IN_TEXT = /arn:[a-z-]+:states:[^"\\\s]*:execution:[^"\\\s]+/g;

/** An EXPRESS Map Run child: it ran inside its parent and has only its listing, which DescribeExecution gives. */
function expressChild(arn, d) {
  const label = machineOf(arn).split("/")[1];
  return h(
    "div",
    { class: "panel", "data-express-child": arn },
    crumbs(arn, d, `${label} (EXPRESS)`),
    h("div", { class: "row" }, h("h1", { class: "ellipsis" }, arnName(arn)), badge(d.status)),
    h("dl", { class: "summary" }, summaryItems(d)),
    h("p", {}, "This is an EXPRESS child of a Map Run. It ran inside its parent execution, at least once, and keeps no history, input or output of its own, as on AWS. ", link("execution", { arn: d.parentExecutionArn, tab: "mapruns" }, "Its Map Run"), " lists its siblings."),
  );
}

async function load(arn) {
  const describe = await call("DescribeExecution", { executionArn: arn });
  // Only an EXPRESS Map Run child is described without its input: it has no definition or history to ask for.
  if (describe.mapRunArn && describe.inputDetails?.included === false) return { describe, express: true };
  const forExecution = await call("DescribeStateMachineForExecution", { executionArn: arn });
  const events = [];
  let nextToken;
  do {
    const page = await call("GetExecutionHistory", { executionArn: arn, maxResults: HISTORY_PAGE_EVENTS, nextToken });
    events.push(...page.events);
    nextToken = page.nextToken;
  } while (nextToken && events.length < HISTORY_EVENTS_MAX);
  let definition = {};
  try {
    definition = JSON.parse(forExecution.definition);
  } catch {
    // A definition that does not parse is shown as text in its tab.
  }
  return { describe, forExecution, definition, events, truncated: Boolean(nextToken) };
}

export async function executionView(main, params) {
  const arn = params.arn;
  if (!arn) throw new Error("No execution ARN in the address");
  let data = await load(arn);
  if (data.express) return fill(main, expressChild(arn, data.describe));
  let tab = TABS.some(([t]) => t === params.tab) ? params.tab : "graph";
  let selected = params.state || null;
  const isCode = Boolean(data.definition.StepwiseWorkflow);
  if (isCode && tab === "graph") tab = "events";
  const offered = ([t]) => !(isCode && t === "graph") && (t !== "mapruns" || hasMapRuns(data.events));

  const title = h("h1", { class: "ellipsis" });
  const status = h("span");
  const actions = h("div", { class: "row actions" });
  const summary = h("dl", { class: "summary" });
  const links = h("div", { class: "links" });
  const code = isCode ? codePanel(arn) : null;
  const panel = h("div", { class: "tab-panel", role: "tabpanel", id: "tab-panel" });
  const tabs = h("div", { class: "tabs", role: "tablist", "aria-label": "Execution views" });
  const events = eventTable((e) => fill(eventSide, eventDetail(e)));
  const eventSide = h("div", { class: "side" }, h("p", { class: "muted" }, "Select an event to see it whole."));
  let analysis = analyse(data.events, data.describe.status);

  const setParam = () => {
    const q = new URLSearchParams({ arn, tab, ...(selected ? { state: selected } : {}) });
    history.replaceState(null, "", `#/execution?${q}`);
  };
  const drawTabs = () =>
    fill(
      tabs,
      TABS.filter(offered).map(([t, label]) =>
        h("button", { type: "button", role: "tab", "aria-selected": String(t === tab), "aria-controls": "tab-panel", id: `tab-${t}`, onclick: () => { tab = t; setParam(); drawTabs(); drawPanel(); } }, label),
      ),
    );
  const drawPanel = () => {
    if (tab === "graph") return fill(panel, h("div", { class: "split" }, h("div", { class: "graph-wrap" }, graph(data.definition, analysis.states, pick, selected), legend()), stateSide()));
    if (tab === "events") return fill(panel, h("div", { class: "split" }, events.el, eventSide), download());
    if (tab === "timeline") return fill(panel, timeline(data.events, analysis.states));
    if (tab === "io") return fill(panel, h("div", { class: "pair" }, jsonBlock("Input", data.describe.input), jsonBlock("Output", data.describe.output)));
    if (tab === "mapruns") return drawMapRuns();
    return fill(panel, h("pre", { class: "definition", tabindex: 0 }, pretty(data.forExecution.definition)));
  };
  // Loaded on show and on each refresh, but never over a form being filled in.
  const drawMapRuns = async () => {
    if (panel.contains(document.activeElement) && document.activeElement.tagName === "INPUT") return;
    if (!panel.querySelector(".map-runs")) fill(panel, h("p", { class: "muted" }, "Loading Map Runs…"));
    const el = await mapRunsPanel(arn).catch((e) => h("p", { class: "warn" }, `The Map Runs could not be read: ${e.message}`));
    if (tab === "mapruns" && !(panel.contains(document.activeElement) && document.activeElement.tagName === "INPUT")) fill(panel, el);
  };
  const pick = (name) => {
    selected = name;
    setParam();
    drawPanel();
  };
  const stateSide = () => {
    if (!selected) return h("div", { class: "side" }, h("p", { class: "muted" }, "Select a state to see its input, output and how its paths shaped them."));
    return stateDetail(selected, findState(data.definition, selected) || {}, analysis.states.get(selected));
  };
  const download = () =>
    h("button", { type: "button", onclick: () => save(`${arnName(arn)}-history.json`, JSON.stringify({ events: data.events }, null, 2)) }, "Download history (JSON)");

  const update = () => {
    const d = data.describe;
    fill(title, d.name);
    fill(status, badge(d.status));
    fill(summary, summaryItems(d));
    fill(links, linked(arn, d, data.events));
    fill(actions, actionButtons(d));
    analysis = analyse(data.events, d.status);
    drawTabs();
    events.set(data.events, analysis.owner);
    if (data.truncated) links.append(h("p", { class: "warn" }, `Only the first ${data.events.length} events are shown.`));
    if (tab !== "events") drawPanel();
  };

  fill(
    main,
    crumbs(arn, data.describe, data.forExecution.label),
    h("div", { class: "row spread" }, h("div", { class: "row" }, title, status), actions),
    summary,
    links,
    code ? code.el : null,
    tabs,
    panel,
  );
  drawTabs();
  update();
  drawPanel();
  if (code) await code.update(data.describe.status);
  return {
    refresh: async () => {
      const wasRunning = data.describe.status === "RUNNING";
      data = await load(arn);
      update();
      if (code) await code.update(data.describe.status);
      return wasRunning || data.describe.status === "RUNNING";
    },
  };
}

function summaryItems(d) {
  const item = (k, v) => [h("dt", {}, k), h("dd", {}, v)];
  return [
    item("Status", badge(d.status)),
    item("Started", formatTime(d.startDate)),
    item("Stopped", d.stopDate ? formatTime(d.stopDate) : "—"),
    item("Duration", duration(d.startDate, d.stopDate)),
    item("Redrives", `${d.redriveCount || 0}${d.redriveStatus ? ` · ${d.redriveStatus.replace("_", " ").toLowerCase()}` : ""}`),
    item("ARN", h("code", { class: "arn" }, d.executionArn)),
    d.error ? item("Error", h("strong", { class: "bad" }, d.error)) : null,
    d.cause ? item("Cause", h("pre", { class: "cause" }, d.cause)) : null,
  ];
}

/** Where the execution sits: its machine's, or for a Map Run's child its parent's, which it was started by. */
function crumbs(arn, d, label) {
  const trail = d.mapRunArn && d.parentExecutionArn
    ? [link("machine", { arn: machineOf(d.parentExecutionArn) }, arnName(machineOf(d.parentExecutionArn))), " / ", link("execution", { arn: d.parentExecutionArn, tab: "mapruns" }, arnName(d.parentExecutionArn)), " / ", `Map Run ${label || ""} child`]
    : [link("machine", { arn: d.stateMachineArn }, arnName(machineOf(arn))), " / ", "Execution"];
  return h("nav", { class: "crumbs", "aria-label": "Breadcrumbs" }, link("machines", {}, "State machines"), " / ", ...trail);
}

/** The parent (from the API, or the nested-execution input field) and every execution the history names. */
function linked(self, d, events) {
  let parent = d.parentExecutionArn;
  if (!parent) {
    try {
      parent = JSON.parse(d.input).AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID;
    } catch {
      parent = undefined;
    }
  }
  const children = new Set();
  for (const e of events) for (const m of JSON.stringify(e).matchAll(ARN_IN_TEXT)) if (!m[0].startsWith(self) && m[0] !== parent) children.add(m[0]);
  if (!parent && children.size === 0) return [];
  return [
    parent ? h("p", {}, "Started by ", link("execution", { arn: parent }, arnName(parent))) : null,
    children.size ? h("p", {}, "Started: ", [...children].slice(0, 50).flatMap((c, i) => [i ? ", " : "", link("execution", { arn: c }, arnName(c))])) : null,
  ];
}

function actionButtons(d) {
  const buttons = [];
  if (d.status === "RUNNING") buttons.push(h("button", { type: "button", class: "danger", onclick: () => stop(d.executionArn) }, "Stop"));
  if (d.redriveStatus === "REDRIVABLE") buttons.push(h("button", { type: "button", onclick: () => redrive(d.executionArn) }, "Redrive"));
  // A Map Run's child has no state machine of its own to start again.
  if (!d.mapRunArn) buttons.push(h("button", { type: "button", onclick: () => startAgain(d) }, "Start again"));
  return buttons;
}

async function stop(arn) {
  const cause = h("textarea", { id: "stop-cause", rows: 3, placeholder: "Why (optional): recorded as the execution's cause" });
  const ok = await confirmDialog("Stop this execution?", "It ends ABORTED at once; a redrive can take it up again.", "Stop execution", h("div", { class: "field" }, h("label", { for: "stop-cause" }, "Cause"), cause));
  if (!ok) return;
  await act(() => call("StopExecution", { executionArn: arn, cause: cause.value || undefined }));
}

async function redrive(arn) {
  if (!(await confirmDialog("Redrive this execution?", "It restarts from the states that failed; those that succeeded are not run again.", "Redrive"))) return;
  await act(() => call("RedriveExecution", { executionArn: arn }));
}

async function startAgain(d) {
  if (!(await confirmDialog("Start again?", `A new execution of ${arnName(d.stateMachineArn)} with the same input.`, "Start execution"))) return;
  await act(async () => {
    const started = await call("StartExecution", { stateMachineArn: d.stateMachineArn, input: d.input });
    location.hash = `#/execution?arn=${encodeURIComponent(started.executionArn)}`;
  });
}


function stateDetail(name, def, st) {
  const transforms = TRANSFORMS.filter((k) => k in def).map((k) => h("div", { class: "transform" }, h("span", { class: "tkey" }, k), h("code", {}, JSON.stringify(def[k]))));
  const status = st ? st.status : "not-run";
  return h(
    "div",
    { class: "side state-detail", "aria-live": "polite" },
    h("h2", {}, name, " ", badge(status.replace("-", "_").toUpperCase())),
    h("p", { class: "muted" }, def.Type || "", st && st.entered > 1 ? ` · entered ${st.entered} times (the last is shown)` : ""),
    st ? jsonBlock("Input", st.input, { "data-part": "input" }) : h("p", { class: "muted" }, "This state has not run."),
    transforms.length ? h("section", { class: "transforms" }, h("h3", {}, "Paths and templates"), transforms) : null,
    st && st.parameters !== undefined ? jsonBlock("Task parameters (after InputPath and Parameters/Arguments)", st.parameters) : null,
    st && st.result !== undefined ? jsonBlock("Task result (before ResultSelector and ResultPath)", st.result) : null,
    st && st.output !== undefined ? jsonBlock("Output", st.output, { "data-part": "output" }) : null,
    st && st.failures.length
      ? h(
          "section",
          { class: "failures" },
          h("h3", {}, `Failures (${st.failures.length} attempt${st.failures.length > 1 ? "s" : ""})`),
          st.failures.map((f) => h("div", { class: "failure" }, h("strong", {}, f.error || f.type), " ", h("span", { class: "muted" }, formatTime(f.timestamp)), f.cause ? h("pre", { class: "cause" }, f.cause) : null)),
        )
      : null,
  );
}

function legend() {
  return h(
    "ul",
    { class: "legend", "aria-label": "Legend" },
    ["succeeded", "caught", "failed", "running", "aborted", "not-run"].map((s) => h("li", {}, h("span", { class: `swatch gs-${s}` }), s.replace("-", " "))),
  );
}

function save(filename, text) {
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  const a = h("a", { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
