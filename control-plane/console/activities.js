// Activities: the API's listing, paged, with each one's waiting tasks and the
// workers that polled it last (DescribeActivity's Stepwise fields).

import { call } from "./api.js";
import { fill, h, href } from "./dom.js";
import { pager } from "./machines.js";
import { formatTime } from "./time.js";

const PAGE_SIZE = 50;

export async function activitiesView(main, params) {
  const page = await call("ListActivities", { maxResults: PAGE_SIZE, nextToken: params.token || undefined });
  const activities = page.activities || [];
  const rows = activities.map((a) => {
    const pending = h("td", { class: "num" }, "…");
    const workers = h("td", {}, "…");
    const row = h("tr", {}, h("td", {}, a.name), pending, workers, h("td", {}, formatTime(a.creationDate)), h("td", {}, h("code", { class: "arn" }, a.activityArn)));
    const describe = () =>
      call("DescribeActivity", { activityArn: a.activityArn }).then(
        (d) => {
          fill(pending, String(d.pendingTaskCount ?? "—"));
          const recent = d.recentWorkers || [];
          fill(workers, recent.length ? recent.map((w, i) => [i ? ", " : "", h("span", { title: `last poll ${formatTime(w.lastPollDate)}` }, w.workerName)]) : h("span", { class: "muted" }, "none seen"));
        },
        (e) => fill(pending, `${e.type || "Error"}`),
      );
    return { row, describe };
  });
  fill(
    main,
    h("h1", {}, "Activities"),
    activities.length === 0
      ? h("div", { class: "panel empty" }, h("p", {}, "No activities yet."), h("p", { class: "muted" }, "Create one with ", h("code", {}, "aws stepfunctions create-activity --name NAME"), "."))
      : h(
          "table",
          { class: "list", "aria-label": "Activities" },
          h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", { class: "num" }, "Waiting tasks"), h("th", {}, "Workers that polled last"), h("th", {}, "Created"), h("th", {}, "ARN"))),
          h("tbody", {}, rows.map((r) => r.row)),
        ),
    pager(params.token, page.nextToken, (token) => href("activities", { token })),
  );
  const refresh = () => Promise.all(rows.map((r) => r.describe()));
  await refresh();
  return { refresh: async () => (await refresh(), true) };
}
