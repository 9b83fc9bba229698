// Console speed on a running server: first contentful paint of each main
// screen (median of RUNS fresh page loads) and the largest response each
// screen fetched. Usage: ENDPOINT=… EXECUTION=… MACHINE=… RUNS=7 node bench.mjs
// (scripts/bench-console.sh makes the server and the data).

import { chromium } from "playwright-core";

const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const runs = Number(process.env.RUNS || 7);
const endpoint = process.env.ENDPOINT;
const enc = encodeURIComponent;
const screens = {
  machines: ["#/machines", "td.num:not(:empty)"],
  executions: [`#/executions?machine=${enc(process.env.MACHINE)}`, "tbody tr td a"],
  execution: [`#/execution?arn=${enc(process.env.EXECUTION)}`, "g.node"],
};

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: CHROMIUM_ARGS });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [name, [hash, ready]] of Object.entries(screens)) {
  const paints = [];
  const readies = [];
  let largest = 0;
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    page.on("response", async (r) => {
      const body = await r.body().catch(() => Buffer.alloc(0));
      largest = Math.max(largest, body.length);
    });
    const start = Date.now();
    await page.goto(`${endpoint}/${hash}`);
    await page.waitForSelector(ready);
    readies.push(Date.now() - start);
    const fcp = await page.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? -1);
    paints.push(fcp);
    await context.close();
  }
  console.log(`${name}: first contentful paint median ${median(paints).toFixed(0)} ms; content ready median ${median(readies)} ms; largest response ${(largest / 1024).toFixed(1)} KiB (${runs} loads)`);
}
await browser.close();
