// One state machine or code workflow type: its definition as a graph and as
// JSON, versions and aliases, a start form, and its executions.

import { call } from "./api.js";
import { fill, h, href, link, pretty } from "./dom.js";
import { executionsList } from "./executions.js";
import { graph } from "./graph.js";
import { isCodeType } from "./machines.js";
import { formatTime } from "./time.js";

/** An input larger than the API takes is refused here first (256 KiB, as AWS). */
const INPUT_BYTES_MAX = 262144;

export async function machineView(main, params) {
  const arn = params.arn;
  if (!arn) throw new Error("No state machine ARN in the address");
  const [m, versions, aliases] = await Promise.all([
    call("DescribeStateMachine", { stateMachineArn: arn }),
    call("ListStateMachineVersions", { stateMachineArn: arn, maxResults: 20 }),
    call("ListStateMachineAliases", { stateMachineArn: arn, maxResults: 20 }),
  ]);
  let definition = {};
  try {
    definition = JSON.parse(m.definition);
  } catch {
    // Shown as text below.
  }
  const code = isCodeType(m.definition);
  const showJson = params.view === "json" || code;
  const definitionPanel = showJson
    ? h("pre", { class: "definition", tabindex: 0 }, pretty(m.definition))
    : h("div", { class: "graph-wrap" }, graph(definition, new Map(), () => {}, null));
  const executions = h("div");
  fill(
    main,
    h("nav", { class: "crumbs", "aria-label": "Breadcrumbs" }, link("machines", {}, "State machines"), " / ", m.name),
    h("div", { class: "row spread" }, h("h1", {}, m.name, " ", code ? h("span", { class: "tag" }, "code workflow") : null), h("span", { class: "muted" }, m.type)),
    h(
      "dl",
      { class: "summary" },
      h("dt", {}, "ARN"), h("dd", {}, h("code", { class: "arn" }, m.stateMachineArn)),
      h("dt", {}, "Created"), h("dd", {}, formatTime(m.creationDate)),
      m.description ? [h("dt", {}, "Description"), h("dd", {}, m.description)] : null,
      code ? [h("dt", {}, "Task queue"), h("dd", {}, definition.StepwiseWorkflow.TaskQueue || "—")] : null,
    ),
    h(
      "div",
      { class: "split machine" },
      h(
        "section",
        {},
        h("div", { class: "row spread" }, h("h2", {}, "Definition"), code ? null : h("div", { class: "row" }, link("machine", { arn }, "Graph"), link("machine", { arn, view: "json" }, "JSON"))),
        definitionPanel,
      ),
      h("div", { class: "side" }, startForm(arn), versionsPanel(versions, aliases)),
    ),
    h("h2", {}, "Executions"),
    executions,
  );
  return executionsList(executions, { ...params, machine: arn }, (p) => href("machine", { ...p, arn, machine: undefined }));
}

function startForm(arn) {
  const name = h("input", { id: "start-name", placeholder: "optional: a unique name", spellcheck: "false", maxlength: 80 });
  const input = h("textarea", { id: "start-input", rows: 8, spellcheck: "false" }, "{}");
  const problem = h("p", { class: "bad", role: "alert" });
  const button = h("button", { type: "submit", class: "primary" }, "Start execution");
  const check = () => {
    let why = "";
    if (new TextEncoder().encode(input.value).length > INPUT_BYTES_MAX) why = `The input is over ${INPUT_BYTES_MAX} bytes.`;
    else {
      try {
        JSON.parse(input.value);
      } catch (e) {
        why = `The input is not valid JSON: ${e.message}`;
      }
    }
    fill(problem, why);
    button.disabled = Boolean(why);
    input.setAttribute("aria-invalid", String(Boolean(why)));
    return !why;
  };
  input.addEventListener("input", check);
  return h(
    "form",
    { class: "panel start", onsubmit: async (ev) => {
      ev.preventDefault();
      if (!check()) return;
      try {
        const out = await call("StartExecution", { stateMachineArn: arn, name: name.value.trim() || undefined, input: input.value });
        location.hash = href("execution", { arn: out.executionArn });
      } catch (e) {
        fill(problem, `${e.type || "Error"}: ${e.message}`);
      }
    } },
    h("h2", {}, "Start execution"),
    h("label", { for: "start-name" }, "Name"),
    name,
    h("label", { for: "start-input" }, "Input (JSON)"),
    input,
    problem,
    button,
  );
}

function versionsPanel(versions, aliases) {
  const vs = versions.stateMachineVersions || [];
  const as = aliases.stateMachineAliases || [];
  return h(
    "section",
    { class: "panel" },
    h("h2", {}, "Versions and aliases"),
    vs.length === 0 && as.length === 0 ? h("p", { class: "muted" }, "None published.") : null,
    vs.length ? h("ul", { class: "plain" }, vs.map((v) => h("li", {}, link("machine", { arn: v.stateMachineVersionArn }, `Version ${v.stateMachineVersionArn.split(":").pop()}`), " ", h("span", { class: "muted" }, formatTime(v.creationDate))))) : null,
    as.length ? h("ul", { class: "plain aliases" }, as.map(alias)) : null,
  );
}

/** An alias with its routing: the weight of each version it sends executions to. */
function alias(a) {
  const routes = h("span", { class: "muted" }, "…");
  call("DescribeStateMachineAlias", { stateMachineAliasArn: a.stateMachineAliasArn }).then(
    (d) => fill(routes, (d.routingConfiguration || []).map((r) => `version ${r.stateMachineVersionArn.split(":").pop()}: ${r.weight}%`).join(", ")),
    (e) => fill(routes, `${e.type || "Error"}: ${e.message}`),
  );
  return h("li", {}, h("strong", {}, a.stateMachineAliasArn.split(":").pop()), " → ", routes);
}
