// State machines and code workflow types: one page of the API's listing at
// a time, with how many of each one's executions run and failed.

import { call } from "./api.js";
import { fill, h, href, link } from "./dom.js";
import { formatTime } from "./time.js";

const PAGE_SIZE = 25;
/** Counts stop here: a count is one page of ListExecutions, never a scan. */
const COUNT_MAX = 100;

export async function machinesView(main, params) {
  const page = await call("ListStateMachines", { maxResults: PAGE_SIZE, nextToken: params.token || undefined });
  const machines = page.stateMachines || [];
  const rows = machines.map((m) => {
    const kind = h("td", {}, m.type);
    const running = h("td", { class: "num" }, "…");
    const failed = h("td", { class: "num" }, "…");
    counts(m.stateMachineArn, kind, running, failed);
    return h("tr", {}, h("td", {}, link("machine", { arn: m.stateMachineArn }, m.name)), kind, h("td", {}, formatTime(m.creationDate)), running, failed);
  });
  fill(
    main,
    h("div", { class: "row spread" }, h("h1", {}, "State machines"), h("span", { class: "muted" }, "Create them with the AWS CLI or SDKs: ", h("code", {}, "aws stepfunctions create-state-machine"))),
    machines.length === 0
      ? h("div", { class: "panel empty" }, h("p", {}, "No state machines yet."), h("p", { class: "muted" }, "Run the README's tour, or register a code workflow type, and it appears here."))
      : h(
          "table",
          { class: "list", "aria-label": "State machines" },
          h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Type"), h("th", {}, "Created"), h("th", { class: "num" }, "Running"), h("th", { class: "num" }, "Failed"))),
          h("tbody", {}, rows),
        ),
    pager(params.token, page.nextToken, (token) => href("machines", { token })),
  );
}

async function counts(arn, kind, running, failed) {
  const [d, r, f] = await Promise.allSettled([
    call("DescribeStateMachine", { stateMachineArn: arn }),
    call("ListExecutions", { stateMachineArn: arn, statusFilter: "RUNNING", maxResults: COUNT_MAX }),
    call("ListExecutions", { stateMachineArn: arn, statusFilter: "FAILED", maxResults: COUNT_MAX }),
  ]);
  if (d.status === "fulfilled" && isCodeType(d.value.definition)) fill(kind, h("span", { class: "tag" }, "code workflow"), " ", d.value.type);
  fill(running, count(r));
  fill(failed, count(f));
}

function count(result) {
  if (result.status !== "fulfilled") return "?";
  const n = (result.value.executions || []).length;
  return result.value.nextToken ? `${n}+` : String(n);
}

/** A code workflow type is a machine whose definition names a task queue. */
export function isCodeType(definition) {
  try {
    return Boolean(JSON.parse(definition).StepwiseWorkflow);
  } catch {
    return false;
  }
}

/** First-page and next-page links for a listing paged by the API. */
export function pager(current, next, to) {
  if (!current && !next) return null;
  return h(
    "nav",
    { class: "pager", "aria-label": "Pages" },
    current ? h("a", { href: to("") }, "« First page") : null,
    next ? h("a", { href: to(next), rel: "next" }, "Next page »") : null,
  );
}
