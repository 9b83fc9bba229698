// Restate's side of scripts/bench-peers.sh: a 3-step durable handler, each
// step a `ctx.run` (journaled before the handler goes on), the shape of
// Stepwise's code-bench workflow. Usage: node service.mjs PORT
import "./polyfill.mjs";
import * as restate from "@restatedev/restate-sdk";

const bench = restate.service({
  name: "bench",
  handlers: {
    run: async (ctx, n) => {
      const a = await ctx.run("add", async () => n + 1);
      const b = await ctx.run("add", async () => a + 1);
      return await ctx.run("add", async () => b + 1);
    },
  },
});

restate.endpoint().bind(bench).listen(Number(process.argv[2] || 9080));
