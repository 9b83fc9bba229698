// The console's scenarios, each against a real server whose fixtures the
// Rust side made with aws-sdk-sfn (control-plane/tests/console.rs).

const FAILED_FETCH = [/Failed to load resource/];

/** The href of the screen at `route` with `params`, as the console builds it. */
function at(endpoint, route, params = {}) {
  return `${endpoint}/#/${route}?${new URLSearchParams(params)}`;
}

/** A confirmation dialog's action button, then waits for the dialog to close. */
async function confirm(t, label) {
  const button = t.page.locator("dialog.confirm button.primary");
  await button.waitFor();
  const text = await button.innerText();
  t.check(label.test(text), `the dialog's action reads ${JSON.stringify(text)}, expected ${label}`);
  await button.click();
  await t.page.locator("dialog.confirm").waitFor({ state: "detached" });
}

/**
 * The executions of the fixture machine with a status filter. The console
 * draws a hash change after this returns, and until then the old list's bulk
 * buttons act on the old filter, so this waits for the new filter to show.
 */
async function executionsWith(t, status) {
  await t.page.goto(at(t.endpoint, "executions", { machine: t.fixtures.machine, status }));
  await t.until(`the list of ${status} executions`, (s) => document.querySelector("#f-status")?.value === s, status);
}

/** The execution's Map Runs tab, once its first Map Run's card is shown. */
async function mapRunsOf(t, execution) {
  await t.page.goto(at(t.endpoint, "execution", { arn: execution }));
  await t.page.getByRole("tab", { name: "Map Runs" }).click();
  const run = t.page.locator("section.map-run");
  await run.waitFor();
  return run;
}

async function nodeStatus(t, state) {
  return t.page.locator(`g.node[data-state="${state}"]`).getAttribute("class");
}

export const scenarios = {
  tour: {
    async run(t) {
      const { page } = t;
      await page.goto(`${t.endpoint}/`);
      await t.sees("State machines");
      await page.getByRole("link", { name: "orders", exact: true }).waitFor();
      await t.until("the running and failed counts", () => [...document.querySelectorAll("td.num")].every((c) => c.textContent !== "…"));
      await t.shot("machines.png");
      await page.getByRole("link", { name: "orders", exact: true }).click();
      await page.locator('g.node[data-state="Fanout"]').waitFor();
      await page.getByRole("link", { name: t.fixtures.execution_name }).waitFor();
      await t.sees("version 1: 100%");
      await t.shot("machine.png");
      await page.getByRole("link", { name: "JSON", exact: true }).click();
      await page.locator("pre.definition", { hasText: '"StartAt": "Validate"' }).waitFor();
      await page.getByRole("link", { name: "Graph", exact: true }).click();
      await page.locator('g.node[data-state="Fanout"]').waitFor();
      await page.getByRole("link", { name: t.fixtures.execution_name }).click();
      await t.until("the execution's status", () => document.querySelector("h1 + span .badge")?.textContent === "SUCCEEDED");
      const expect = { Validate: "gs-succeeded", Price: "gs-succeeded", Boom: "gs-failed", Risky: "gs-caught", Done: "gs-succeeded", Reject: "gs-not-run" };
      for (const [state, cls] of Object.entries(expect)) {
        const c = await nodeStatus(t, state);
        t.check(c.includes(cls), `state ${state} is drawn ${c}, expected ${cls}`);
      }
      await page.locator('g.node[data-state="Validate"]').click();
      const input = page.locator('.state-detail [data-part="input"] pre');
      const output = page.locator('.state-detail [data-part="output"] pre');
      t.check((await input.innerText()).includes('"o-1"'), "Validate's input shows the order");
      t.check((await output.innerText()).includes('"checked": true'), "Validate's output shows its result");
      t.check((await page.locator(".state-detail .transforms").innerText()).includes("ResultPath"), "the paths that shaped it");
      await t.shot("execution-graph.png");
      // The keyboard reaches a state too.
      await page.locator('g.node[data-state="Boom"]').focus();
      await page.keyboard.press("Enter");
      await t.sees("Oops");
      await page.getByRole("tab", { name: "Events" }).click();
      await t.sees("events");
      await page.getByLabel("Event type").selectOption("PassStateEntered");
      await t.until("the type filter", () => [...document.querySelectorAll(".vrow:not(.head) .etype")].every((c) => c.textContent === "PassStateEntered"));
      await page.getByLabel("Event type").selectOption("");
      await page.getByLabel("Search event details").fill("o-1");
      await t.until("the search", () => /^\d+ of \d+ events$/.test(document.querySelector(".events .muted")?.textContent) && document.querySelectorAll(".vrow:not(.head)").length > 0);
      await page.locator(".vrow:not(.head)").first().click();
      await page.locator(".side h3", { hasText: "Event 1: ExecutionStarted" }).waitFor();
      await t.shot("execution-events.png");
      const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download history (JSON)" }).click()]);
      const saved = JSON.parse(await (await download.createReadStream()).toArray().then((c) => Buffer.concat(c).toString()));
      t.check(saved.events.length === 23 && saved.events[0].type === "ExecutionStarted", "the downloaded history is the whole history");
      await page.getByRole("tab", { name: "Timeline" }).click();
      await page.locator(".tl-bar").first().waitFor();
      await page.getByRole("tab", { name: "Input and output" }).click();
      await t.sees('"approved": true');
      // The address names the execution and tab: opening it again shows the same.
      const url = page.url();
      await page.goto("about:blank");
      await page.goto(url);
      await t.sees('"approved": true');
      // Start again: a new execution with the same input, then its page.
      await page.getByRole("button", { name: "Start again" }).click();
      await confirm(t, /Start execution/);
      await t.until("the new execution's page", (old) => location.href !== old && location.hash.startsWith("#/execution"), url);
      await t.until("it ran to the end", () => document.querySelector("h1 + span .badge")?.textContent === "SUCCEEDED");
      // Times: UTC is remembered across reloads.
      await page.locator("#time-format").selectOption("utc");
      await page.reload();
      await t.sees(" UTC");
    },
  },

  start_form: {
    async run(t) {
      const { page } = t;
      await page.goto(at(t.endpoint, "machine", { arn: t.fixtures.machine }));
      const input = page.locator("#start-input");
      await input.fill("{not json");
      await t.sees("The input is not valid JSON");
      t.check(await page.getByRole("button", { name: "Start execution" }).isDisabled(), "an invalid input cannot be sent");
      await input.fill('{"order": {"id": "o-2"}}');
      await page.locator("#start-name").fill("from-the-form");
      await page.getByRole("button", { name: "Start execution" }).click();
      await t.until("the new execution's page", () => location.hash.includes("from-the-form"));
      await t.until("it succeeded", () => document.querySelector("h1 + span .badge")?.textContent === "SUCCEEDED");
      // The name is taken now: the API's refusal is shown as it is.
      await page.goto(at(t.endpoint, "machine", { arn: t.fixtures.machine }));
      await page.locator("#start-name").fill("from-the-form");
      await page.locator("#start-input").fill('{"other": 1}');
      await page.getByRole("button", { name: "Start execution" }).click();
      await t.sees("ExecutionAlreadyExists");
    },
    allowedConsoleErrors: FAILED_FETCH,
  },

  stop_and_redrive: {
    async run(t) {
      const { page } = t;
      // Live: a page of a running execution follows it without a reload.
      await page.goto(at(t.endpoint, "execution", { arn: t.fixtures.b3 }));
      await t.until("the running execution", () => document.querySelector("h1 + span .badge")?.textContent === "RUNNING");
      await page.evaluate(() => (window.sameDocument = true));
      await page.evaluate(async (arn) => {
        const headers = { "content-type": "application/x-amz-json-1.0", "x-amz-target": "AWSStepFunctions.StopExecution" };
        await fetch("/", { method: "POST", headers, body: JSON.stringify({ executionArn: arn }) });
      }, t.fixtures.b3);
      await t.until("the page follows the stop", () => window.sameDocument && document.querySelector("h1 + span .badge")?.textContent === "ABORTED");

      await page.goto(at(t.endpoint, "execution", { arn: t.fixtures.solo }));
      await t.until("the running execution", () => document.querySelector("h1 + span .badge")?.textContent === "RUNNING");
      const hold = await nodeStatus(t, "Hold");
      t.check(hold.includes("gs-running"), `the waiting state is drawn ${hold}`);
      await page.getByRole("button", { name: "Stop", exact: true }).click();
      await page.locator("#stop-cause").fill("stopped by the console test");
      await confirm(t, /Stop execution/);
      await t.until("it is aborted", () => document.querySelector("h1 + span .badge")?.textContent === "ABORTED");
      await t.sees("stopped by the console test");
      await page.getByRole("button", { name: "Redrive" }).click();
      await confirm(t, /Redrive/);
      await t.until("it runs again", () => document.querySelector("h1 + span .badge")?.textContent === "RUNNING");
      await t.sees("1 · not redrivable");

      // Bulk over a selection: two of the three.
      await executionsWith(t, "RUNNING");
      await page.getByLabel("Select b1").check();
      await page.getByLabel("Select b2").check();
      await t.sees("2 selected");
      await page.getByRole("button", { name: "Stop selected" }).click();
      await confirm(t, /Stop 2/);
      await executionsWith(t, "ABORTED");
      await page.getByRole("link", { name: "b1", exact: true }).waitFor();
      await page.getByRole("link", { name: "b2", exact: true }).waitFor();
      await t.shot("executions.png");
      // Bulk over everything the filter matches: counted, confirmed, done.
      await page.getByRole("button", { name: "Redrive all matching…" }).click();
      await confirm(t, /Redrive 3/);
      await executionsWith(t, "ABORTED");
      await t.sees("No executions match.");
      await executionsWith(t, "RUNNING");
      await page.getByRole("button", { name: "Stop all matching…" }).click();
      await confirm(t, /Stop 4/);
      await executionsWith(t, "RUNNING");
      await t.sees("No executions match.");
    },
  },

  escaping: {
    async run(t) {
      const { page } = t;
      await page.goto(at(t.endpoint, "execution", { arn: t.fixtures.execution }));
      await t.until("the failed execution", () => document.querySelector("h1 + span .badge")?.textContent === "FAILED");
      await t.sees("<script>window.pwned = 1</script>");
      await t.sees('<img src=x onerror="window.pwned = 2">');
      await page.getByRole("tab", { name: "Input and output" }).click();
      await t.sees("<b>bold?</b>");
      await page.getByRole("tab", { name: "Events" }).click();
      await page.getByLabel("Search event details").fill("onerror");
      await page.locator(".vrow:not(.head)").first().click();
      await page.getByRole("tab", { name: "Graph" }).click();
      await page.locator('g.node[data-state="Explode"]').click();
      const pwned = await page.evaluate(() => window.pwned);
      t.check(pwned === undefined, `script from an execution ran (window.pwned = ${pwned})`);
      t.check((await page.locator("main img, main script, main b").count()) === 0, "markup from an execution became elements");
      await t.shot("escaping.png");
    },
  },

  big_history: {
    async run(t) {
      const { page } = t;
      await page.goto(at(t.endpoint, "execution", { arn: t.fixtures.execution, tab: "events" }));
      await t.until("the whole history", (n) => new RegExp(`^${n} of ${n} events$`).test(document.querySelector(".events .muted")?.textContent), t.fixtures.events);
      const rows = await page.locator(".vrow:not(.head)").count();
      t.check(rows > 0 && rows < 200, `${rows} rows exist for ${t.fixtures.events} events: the list is not virtualised`);
      await page.locator(".vlist").evaluate((el) => (el.scrollTop = el.scrollHeight));
      await t.until("the last event in view", (n) => [...document.querySelectorAll(".vrow:not(.head) span:first-child")].some((c) => c.textContent === String(n)), t.fixtures.events);
      await page.getByLabel("Search event details").fill("ExecutionSucceeded");
      await t.until("the search over every event", () => /^1 of \d+ events$/.test(document.querySelector(".events .muted")?.textContent));
      await t.shot("history-25k.png");
    },
    // 25 pages of 1,000 events from a debug build, while the other tests run.
    expectTimeoutMs: 90000,
  },

  sign_in: {
    async run(t) {
      const { page } = t;
      await page.goto(`${t.endpoint}/`);
      await page.locator("form.signin").waitFor();
      t.check((await page.locator("table").count()) === 0, "nothing is shown before sign-in");
      await page.locator("#key-id").fill(t.fixtures.key_id);
      await page.locator("#secret").fill("x".repeat(40));
      await page.getByRole("button", { name: "Sign in" }).click();
      await t.sees("InvalidSignatureException");
      t.check((await page.locator("table").count()) === 0, "a wrong key shows nothing");
      await page.locator("#secret").fill(t.fixtures.secret);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("link", { name: "signed", exact: true }).waitFor();
      await page.getByRole("link", { name: "signed", exact: true }).click();
      await page.getByRole("link", { name: t.fixtures.execution_name }).waitFor();
      // The Scheduler API's REST calls, signed in the browser for `scheduler`.
      await page.getByRole("link", { name: "Schedules", exact: true }).click();
      await page.getByRole("link", { name: "hourly", exact: true }).click();
      await t.sees("Next fires");
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.locator("form.signin").waitFor();
    },
    allowedConsoleErrors: FAILED_FETCH,
  },

  schedules: {
    async run(t) {
      const { page } = t;
      await page.goto(`${t.endpoint}/`);
      await page.getByRole("link", { name: "Schedules", exact: true }).click();
      await page.getByRole("link", { name: "hourly", exact: true }).click();
      await t.sees("cron(0 * * * ? *)");
      await t.until("five next fires", () => document.querySelectorAll('ul[aria-label="Next fires"] li').length === 5);
      await page.getByRole("button", { name: "Trigger now" }).click();
      await confirm(t, /Trigger/);
      const started = page.locator('table[aria-label="Recent fires"] a', { hasText: "hourly-" });
      await started.waitFor();
      await page.getByRole("button", { name: "Pause" }).click();
      await page.locator("#pause-note").fill("maintenance window");
      await confirm(t, /Pause/);
      await t.until("the paused badge", () => document.querySelector("h1 .badge")?.textContent === "PAUSED");
      await t.sees("maintenance window");
      await t.shot("schedule.png");
      await page.getByRole("button", { name: "Unpause" }).click();
      await t.until("the enabled badge", () => document.querySelector("h1 .badge")?.textContent === "ENABLED");
      await started.click();
      await t.until("the started execution", () => document.querySelector("h1 + span .badge")?.textContent === "SUCCEEDED");
      await page.getByRole("link", { name: "Schedules", exact: true }).click();
      await page.getByRole("link", { name: "tick", exact: true }).waitFor();
    },
  },

  lost_connection: {
    async run(t) {
      const { page } = t;
      await page.goto(at(t.endpoint, "execution", { arn: t.fixtures.execution }));
      await t.until("the running execution", () => document.querySelector("h1 + span .badge")?.textContent === "RUNNING");
      process.kill(Number(t.fixtures.server_pid), "SIGKILL");
      await page.locator("#banner").getByText("Connection lost").waitFor();
      await page.locator("#banner").getByRole("button", { name: "Retry" }).waitFor();
      t.check((await page.locator("h1").innerText()).length > 0, "the page keeps what it showed");
      await t.shot("lost-connection.png");
    },
    allowedConsoleErrors: [...FAILED_FETCH, /ERR_CONNECTION_REFUSED/],
  },

  children: {
    async run(t) {
      const { page } = t;
      await page.goto(at(t.endpoint, "execution", { arn: t.fixtures.parent }));
      await t.until("the parent's end", () => document.querySelector("h1 + span .badge")?.textContent === "SUCCEEDED");
      await page.locator(".links a").first().click();
      await t.until("the child's page", (child) => decodeURIComponent(location.hash).includes(child), t.fixtures.child);
      await page.locator(".links", { hasText: "Started by" }).waitFor();
      await page.locator(".links a").first().click();
      await t.until("back at the parent", (parent) => decodeURIComponent(location.hash).includes(parent), t.fixtures.parent);
    },
  },

  map_runs: {
    async run(t) {
      const { page } = t;
      const run = await mapRunsOf(t, t.fixtures.execution);
      const count = (row, k) => run.locator(`tr[data-counts="${row}"] td[data-count="${k}"]`).innerText();
      await t.until("one running child of four", () => document.querySelector('tr[data-counts="items"] td[data-count="running"]')?.textContent === "1");
      t.check((await run.locator(".badge").first().innerText()) === "RUNNING", "the Map Run is running");
      t.check((await count("items", "total")) === "4" && (await count("items", "pending")) === "3", "four items, three pending");
      t.check((await run.locator('[data-field="maxConcurrency"]').innerText()) === "1", "its concurrency is 1");
      await t.shot("map-run.png");
      await page.getByLabel("Max concurrency", { exact: true }).fill("3");
      await page.getByRole("button", { name: "Update Map Run" }).click();
      await t.until("the new concurrency", () => document.querySelector('[data-field="maxConcurrency"]')?.textContent === "3");
      await t.until("three running at once", () => document.querySelector('tr[data-counts="items"] td[data-count="running"]')?.textContent === "3");
      // Each item is a child execution of its own, listed with a link to its page.
      await t.until("three children listed", () => document.querySelectorAll("tr[data-child]").length === 3);
      t.check((await run.locator("tr[data-child] .badge").first().innerText()) === "RUNNING", "a child runs");
      // Out of range: the form says so and sends nothing (the Rust side checks).
      await page.getByLabel("Tolerated failure %", { exact: true }).fill("101");
      await page.getByRole("button", { name: "Update Map Run" }).click();
      t.check(await page.locator("#mr-percent:invalid").count() === 1, "101% is refused by the form");
      await run.locator("tr[data-child] a").first().click();
      await t.until("a child's page", () => decodeURIComponent(location.hash).includes(":execution:fan/fan:"));
      await page.locator(".links", { hasText: "Started by" }).waitFor();
      await page.locator("nav.crumbs", { hasText: "Map Run fan child" }).waitFor();
      t.check((await page.getByRole("button", { name: "Start again" }).count()) === 0, "a child has no machine to start again");
      await t.shot("map-run-child.png");
      // The breadcrumb leads back to the parent's Map Runs.
      await page.locator("nav.crumbs a", { hasText: "fan-1" }).click();
      await run.waitFor();
    },
  },

  express_map_run: {
    async run(t) {
      const { page } = t;
      const run = await mapRunsOf(t, t.fixtures.execution);
      // EXPRESS children ran inside the parent, yet each is listed with its status.
      await t.until("three children listed", () => document.querySelectorAll("tr[data-child]").length === 3);
      const statuses = await run.locator("tr[data-child] .badge").allInnerTexts();
      t.check(statuses.filter((s) => s === "FAILED").length === 1 && statuses.filter((s) => s === "SUCCEEDED").length === 2, `one failed, two succeeded: ${statuses}`);
      t.check((await run.locator('thead th', { hasText: "Not redrivable" }).count()) === 1, "the counts show failures that cannot be redriven");
      await t.shot("map-run-express.png");
      await run.locator("tr[data-child] a").first().click();
      await page.locator("[data-express-child]").waitFor();
      const child = await page.locator("[data-express-child]").innerText();
      t.check(child.includes("EXPRESS child of a Map Run"), "an Express child's page says why it has no history");
      // DescribeExecution describes it, as AWS does a Map Run's EXPRESS children.
      t.check(/SUCCEEDED|FAILED/.test(child) && child.includes("Started"), `its status and dates are shown: ${child}`);
      await t.shot("map-run-express-child.png");
      // Its breadcrumb leads to the parent execution, and to the state machine whose Map ran it.
      t.check((await page.locator("nav.crumbs a", { hasText: "quick-1" }).count()) === 1, "the parent is linked");
      await page.locator("nav.crumbs a", { hasText: "quick" }).first().click();
      await t.until("the machine's page", () => decodeURIComponent(location.hash).includes(":stateMachine:quick"));
    },
  },

  activities: {
    async run(t) {
      const { page } = t;
      await page.goto(`${t.endpoint}/#/activities`);
      const row = page.locator("tr", { hasText: "approve" });
      // Two tasks wait; the count is of queued messages, so a duplicate delivery may show too.
      await t.until("the waiting tasks and their poller", () => {
        const cells = [...document.querySelectorAll("tbody tr td")].map((c) => c.textContent);
        return Number(cells[1]) >= 2 && cells.includes("clerk-7");
      });
      t.check((await row.count()) === 1, "the activity is listed");
      await t.shot("activities.png");
    },
  },

  code_workflow: {
    async run(t) {
      const { page } = t;
      await page.goto(at(t.endpoint, "execution", { arn: t.fixtures.execution }));
      await t.sees("Code workflow");
      // It waits on its approval timeout: the table of what it waits on says so.
      await page.locator("table.pending").getByText(/^timer #/).waitFor();
      await page.getByRole("form", { name: "Query" }).getByRole("textbox").first().fill("status");
      await page.getByRole("form", { name: "Query" }).getByRole("button").click();
      await t.sees('"waiting"');
      await page.getByRole("form", { name: "Signal" }).getByRole("textbox").first().fill("approve");
      await page.getByRole("form", { name: "Signal" }).locator("textarea").fill('"ada"');
      await page.getByRole("form", { name: "Signal" }).getByRole("button").click();
      await t.until("the run ends", () => document.querySelector("h1 + span .badge")?.textContent === "SUCCEEDED");
      await page.getByRole("tab", { name: "Input and output" }).click();
      await t.sees('"approved_by": "ada"');
      await page.getByRole("tab", { name: "Events" }).click();
      await t.shot("code-workflow.png");
    },
  },
};
