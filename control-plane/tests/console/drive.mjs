// Drives the console in Debian's Chromium for one scenario:
//   node drive.mjs SCENARIO   with ENDPOINT, FIXTURES (JSON), SCREENSHOTS (a folder)
// Exits 0 when the scenario passes. A page error (an uncaught exception in
// the console) fails every scenario; so does a console error the scenario
// did not expect.

import { chromium } from "playwright-core";
import { scenarios } from "./scenarios.mjs";

/** How long one expectation waits for the page before failing (a scenario may ask for longer). */
const EXPECT_TIMEOUT_MS_DEFAULT = 15000;
/** Without these, Chromium reaches for Google's hosts, which this network refuses. */
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

const name = process.argv[2];
const scenario = scenarios[name];
if (!scenario) {
  console.error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(", ")}`);
  process.exit(2);
}
const EXPECT_TIMEOUT_MS = scenario.expectTimeoutMs || EXPECT_TIMEOUT_MS_DEFAULT;
const endpoint = process.env.ENDPOINT;
const fixtures = JSON.parse(process.env.FIXTURES || "{}");
const shots = process.env.SCREENSHOTS;

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: CHROMIUM_ARGS });
const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: process.env.COLOR_SCHEME || "light" });
context.setDefaultTimeout(EXPECT_TIMEOUT_MS);
const page = await context.newPage();
const problems = [];
const allowed = scenario.allowedConsoleErrors || [];
page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
page.on("console", (m) => {
  if (m.type() === "error" && !allowed.some((re) => re.test(m.text()))) problems.push(`console error: ${m.text()}`);
});

const t = {
  page,
  endpoint,
  fixtures,
  async shot(file) {
    if (!shots) return;
    await page.screenshot({ path: `${shots}/${file}`, fullPage: false });
    console.log(`screenshot ${shots}/${file}`);
  },
  /** Waits until `f()` (run in the page) is truthy. */
  async until(what, f, arg) {
    try {
      await page.waitForFunction(f, arg, { timeout: EXPECT_TIMEOUT_MS, polling: 100 });
    } catch (e) {
      throw new Error(`${what}: not seen within ${EXPECT_TIMEOUT_MS} ms (${e.message.split("\n")[0]})`);
    }
  },
  /** Waits until the page shows `text` somewhere. */
  async sees(text) {
    await t.until(`the text ${JSON.stringify(text)}`, (s) => document.body.innerText.includes(s), text);
  },
  check(ok, what) {
    if (!ok) throw new Error(what);
  },
};

let failed = false;
try {
  await scenario.run(t);
} catch (e) {
  failed = true;
  console.error(`scenario ${name} failed: ${e.stack || e}`);
  if (shots) await page.screenshot({ path: `${shots}/failed-${name}.png` }).catch(() => {});
}
if (problems.length) {
  failed = true;
  console.error(`scenario ${name}: the page reported errors:\n  ${problems.join("\n  ")}`);
}
await browser.close();
console.log(failed ? `scenario ${name}: FAILED` : `scenario ${name}: passed`);
process.exit(failed ? 1 : 0);
