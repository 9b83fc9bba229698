// Activities: the API's listing, paged.

import { call } from "./api.js";
import { fill, h, href } from "./dom.js";
import { pager } from "./machines.js";
import { formatTime } from "./time.js";

const PAGE_SIZE = 50;

export async function activitiesView(main, params) {
  const page = await call("ListActivities", { maxResults: PAGE_SIZE, nextToken: params.token || undefined });
  const activities = page.activities || [];
  fill(
    main,
    h("h1", {}, "Activities"),
    activities.length === 0
      ? h("div", { class: "panel empty" }, h("p", {}, "No activities yet."), h("p", { class: "muted" }, "Create one with ", h("code", {}, "aws stepfunctions create-activity --name NAME"), "."))
      : h(
          "table",
          { class: "list", "aria-label": "Activities" },
          h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "ARN"), h("th", {}, "Created"))),
          h("tbody", {}, activities.map((a) => h("tr", {}, h("td", {}, a.name), h("td", {}, h("code", { class: "arn" }, a.activityArn)), h("td", {}, formatTime(a.creationDate))))),
        ),
    pager(params.token, page.nextToken, (token) => href("activities", { token })),
  );
}
