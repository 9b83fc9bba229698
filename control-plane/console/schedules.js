// Schedules: the Scheduler API's listing, and one schedule with its last and
// next fires (Stepwise's DescribeScheduleState), paused, unpaused or
// triggered from here with the same operations the `stepwise schedules`
// commands send.

import { call, rest } from "./api.js";
import { act, arnName, badge, confirmDialog, fill, h, href, link } from "./dom.js";
import { pager } from "./machines.js";
import { formatTime } from "./time.js";

const PAGE_SIZE = 50;
const UPCOMING = 5;

export async function schedulesView(main, params) {
  const page = await rest("/schedules", { MaxResults: PAGE_SIZE, NextToken: params.token });
  const schedules = page.Schedules || [];
  fill(
    main,
    h("h1", {}, "Schedules"),
    schedules.length === 0
      ? h("div", { class: "panel empty" }, h("p", {}, "No schedules yet."), h("p", { class: "muted" }, "Create one with ", h("code", {}, "aws scheduler create-schedule"), " (the EventBridge Scheduler API)."))
      : h(
          "table",
          { class: "list", "aria-label": "Schedules" },
          h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Group"), h("th", {}, "State"), h("th", {}, "Target"), h("th", {}, "Modified"))),
          h(
            "tbody",
            {},
            schedules.map((s) =>
              h(
                "tr",
                {},
                h("td", {}, link("schedule", { group: s.GroupName, name: s.Name }, s.Name)),
                h("td", {}, s.GroupName),
                h("td", {}, badge(s.State)),
                h("td", {}, targetLink(s.Target.Arn)),
                h("td", {}, formatTime(s.LastModificationDate)),
              ),
            ),
          ),
        ),
    pager(params.token, page.NextToken, (token) => href("schedules", { token })),
  );
}

function targetLink(arn) {
  return arn.startsWith("arn:aws:states:") ? link("machine", { arn }, arnName(arn)) : h("code", { class: "arn" }, arn);
}

export async function scheduleView(main, params) {
  const s = await rest(`/schedules/${encodeURIComponent(params.name)}`, { groupName: params.group });
  const draw = async () => {
    const st = await call("DescribeScheduleState", { scheduleArn: s.Arn, upcoming: UPCOMING });
    fill(
      main,
      h("nav", { class: "crumbs", "aria-label": "Breadcrumbs" }, link("schedules", {}, "Schedules"), " / ", s.Name),
      h("div", { class: "row spread" }, h("h1", {}, s.Name, " ", badge(st.paused ? "PAUSED" : s.State)), h("div", { class: "row" }, buttons(s, st))),
      h(
        "dl",
        { class: "summary" },
        h("dt", {}, "Expression"), h("dd", {}, h("code", {}, s.ScheduleExpression), s.ScheduleExpressionTimezone ? ` in ${s.ScheduleExpressionTimezone}` : " in UTC"),
        h("dt", {}, "Target"), h("dd", {}, targetLink(s.Target.Arn)),
        h("dt", {}, "Group"), h("dd", {}, s.GroupName),
        h("dt", {}, "Overlap policy"), h("dd", {}, st.overlapPolicy),
        h("dt", {}, "Catch-up window"), h("dd", {}, `${st.catchupWindowSeconds} s`),
        st.remainingActions !== undefined ? [h("dt", {}, "Remaining actions"), h("dd", {}, String(st.remainingActions))] : null,
        st.paused ? [h("dt", {}, "Paused"), h("dd", {}, st.note || "")] : null,
        h("dt", {}, "ARN"), h("dd", {}, h("code", { class: "arn" }, s.Arn)),
      ),
      h("h2", {}, "Next fires"),
      (st.upcomingFireDates || []).length
        ? h("ul", { "aria-label": "Next fires" }, st.upcomingFireDates.map((t) => h("li", {}, formatTime(t))))
        : h("p", { class: "muted" }, "None."),
      h("h2", {}, "Recent fires"),
      recentTable(st.recentActions || []),
    );
  };
  await draw();
  return { refresh: async () => (await draw(), true) };
}

function recentTable(actions) {
  if (!actions.length) return h("p", { class: "muted" }, "None yet.");
  return h(
    "table",
    { class: "list", "aria-label": "Recent fires" },
    h("thead", {}, h("tr", {}, h("th", {}, "Scheduled"), h("th", {}, "Acted"), h("th", {}, "Outcome"))),
    h(
      "tbody",
      {},
      [...actions].reverse().map((a) =>
        h(
          "tr",
          {},
          h("td", {}, formatTime(a.scheduledDate)),
          h("td", {}, formatTime(a.actualDate)),
          h("td", {}, a.executionArn ? link("execution", { arn: a.executionArn }, arnName(a.executionArn)) : a.skipped ? h("span", { class: "muted" }, `skipped: ${a.skipped}`) : `delivered to ${a.deliveredTo || "its target"}`),
        ),
      ),
    ),
  );
}

function buttons(s, st) {
  const out = [];
  if (st.paused) out.push(h("button", { type: "button", onclick: () => act(() => call("UnpauseSchedule", { scheduleArn: s.Arn })) }, "Unpause"));
  else out.push(h("button", { type: "button", onclick: () => pause(s) }, "Pause"));
  out.push(h("button", { type: "button", onclick: () => trigger(s) }, "Trigger now"));
  return out;
}

async function pause(s) {
  const note = h("input", { id: "pause-note", placeholder: "Why (optional)" });
  const ok = await confirmDialog("Pause this schedule?", "Its fires are skipped (and recorded) until it is unpaused.", "Pause", h("div", { class: "field" }, h("label", { for: "pause-note" }, "Note"), note));
  if (ok) await act(() => call("PauseSchedule", { scheduleArn: s.Arn, note: note.value || undefined }));
}

async function trigger(s) {
  if (!(await confirmDialog("Trigger now?", `Starts ${arnName(s.Target.Arn)} now, under the schedule's overlap policy.`, "Trigger"))) return;
  await act(() => call("TriggerSchedule", { scheduleArn: s.Arn }));
}
