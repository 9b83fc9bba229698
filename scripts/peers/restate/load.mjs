// The load on Restate's ingress: EXECUTIONS invocations of bench/run,
// CONCURRENCY in flight; prints code-bench's JSON report (latency is the
// client's: the invocation's request to its answer, which Restate gives
// when the handler ends). Usage: node load.mjs INGRESS EXECUTIONS CONCURRENCY
const [ingress, executions, concurrency] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
/** One invocation may take this long before the run is called off. */
const INVOCATION_TIMEOUT_MS = 60000;

async function invoke(n) {
  const t0 = performance.now();
  const res = await fetch(`${ingress}/bench/run`, {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": `b${process.pid}-${n}` },
    body: JSON.stringify(n),
    signal: AbortSignal.timeout(INVOCATION_TIMEOUT_MS),
  });
  const out = await res.json();
  if (!res.ok || out !== n + 3) throw new Error(`invocation ${n}: ${res.status} ${JSON.stringify(out)}`);
  return performance.now() - t0;
}

const latencies = [];
let next = 0;
const started = performance.now();
async function lane() {
  while (next < executions) latencies.push(await invoke(next++));
}
await Promise.all(Array.from({ length: concurrency }, lane));
const secs = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))];
console.log(JSON.stringify({ peer: "restate", executions, concurrency, seconds: secs, executions_per_s: executions / secs, p50_ms: at(0.5), p99_ms: at(0.99) }));
