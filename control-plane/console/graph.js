// A definition drawn as a graph: states in rows by their distance from
// StartAt, transitions as arrows, Parallel branches and Map processors drawn
// inside their state. Each state can show a status (from the history) and is
// a button that selects it.

import { svg } from "./dom.js";

const NODE_W = 170;
const NODE_H = 40;
const GAP_X = 28;
const GAP_Y = 36;
const PAD = 14;
const HEADER_H = 30;
/** Graphs past this many states are drawn without their nested processors. */
const STATES_DRAWN_MAX = 400;

/** The processor graphs inside a state: Parallel branches, a Map's processor. */
function inner(state) {
  if (state.Type === "Parallel") return state.Branches || [];
  if (state.Type === "Map") return [state.ItemProcessor || state.Iterator].filter(Boolean);
  return [];
}

function targets(state) {
  const t = [];
  if (state.Next) t.push(state.Next);
  if (state.Default) t.push(state.Default);
  for (const c of state.Choices || []) if (c.Next) t.push(c.Next);
  for (const c of state.Catch || []) if (c.Next) t.push(c.Next);
  return t;
}

/** Lays out one graph (a machine, a branch or a processor): sizes and positions. */
function layout(def, budget) {
  const states = def.States || {};
  const names = Object.keys(states);
  const rank = new Map();
  const queue = [def.StartAt];
  if (def.StartAt in states) rank.set(def.StartAt, 0);
  while (queue.length) {
    const n = queue.shift();
    for (const t of targets(states[n])) {
      if (t in states && !rank.has(t)) {
        rank.set(t, rank.get(n) + 1);
        queue.push(t);
      }
    }
  }
  let last = Math.max(-1, ...rank.values());
  for (const n of names) if (!rank.has(n)) rank.set(n, ++last);
  const nodes = new Map();
  for (const n of names) {
    budget.left -= 1;
    const subs = budget.left > 0 ? inner(states[n]).map((g) => layout(g, budget)) : [];
    const w = subs.length ? Math.max(NODE_W, subs.reduce((s, g) => s + g.w, 0) + GAP_X * (subs.length - 1) + 2 * PAD) : NODE_W;
    const hgt = subs.length ? HEADER_H + Math.max(...subs.map((g) => g.h)) + PAD : NODE_H;
    nodes.set(n, { name: n, state: states[n], rank: rank.get(n), w, h: hgt, subs });
  }
  const rows = [];
  for (const node of nodes.values()) (rows[node.rank] ||= []).push(node);
  const rowW = rows.map((r) => (r ? r.reduce((s, n) => s + n.w, 0) + GAP_X * (r.length - 1) : 0));
  const width = Math.max(NODE_W, ...rowW);
  let y = 0;
  rows.forEach((row, i) => {
    if (!row) return;
    let x = (width - rowW[i]) / 2;
    const rowH = Math.max(...row.map((n) => n.h));
    for (const n of row) {
      n.x = x;
      n.y = y;
      x += n.w + GAP_X;
    }
    y += rowH + GAP_Y;
  });
  return { nodes, w: width, h: Math.max(NODE_H, y - GAP_Y) };
}

function draw(g, ox, oy, group, statuses, onSelect, selected) {
  for (const n of g.nodes.values()) {
    for (const t of targets(n.state)) {
      const m = g.nodes.get(t);
      if (!m) continue;
      const x1 = ox + n.x + n.w / 2;
      const y1 = oy + n.y + n.h;
      const x2 = ox + m.x + m.w / 2;
      const y2 = oy + m.y;
      const back = m.rank <= n.rank;
      const caught = (n.state.Catch || []).some((c) => c.Next === t);
      const d = back
        ? `M${ox + n.x + n.w} ${oy + n.y + n.h / 2} C ${ox + n.x + n.w + 60} ${oy + n.y + n.h / 2}, ${ox + m.x + m.w + 60} ${oy + m.y + m.h / 2}, ${ox + m.x + m.w} ${oy + m.y + m.h / 2}`
        : `M${x1} ${y1} C ${x1} ${y1 + GAP_Y / 2}, ${x2} ${y2 - GAP_Y / 2}, ${x2} ${y2}`;
      group.append(svg("path", { d, class: caught ? "edge caught" : "edge", "marker-end": "url(#arrow)" }));
    }
  }
  for (const n of g.nodes.values()) {
    const st = statuses.get(n.name);
    const status = st ? st.status : "not-run";
    const x = ox + n.x;
    const y = oy + n.y;
    const node = svg("g", {
      class: `node gs-${status}${selected === n.name ? " selected" : ""}`,
      tabindex: 0,
      role: "button",
      "data-state": n.name,
      "aria-label": `${n.name}: ${n.state.Type}, ${status.replace("-", " ")}`,
    });
    node.append(svg("rect", { x, y, width: n.w, height: n.h, rx: 8 }));
    const label = n.name.length > 22 ? n.name.slice(0, 21) + "…" : n.name;
    const ty = n.subs.length ? y + 19 : y + 17;
    node.append(svg("text", { x: x + 10, y: ty, class: "name" }, label));
    const extra = st && st.iterations > 1 ? ` · ${st.iterations}×` : "";
    node.append(svg("text", { x: x + 10, y: n.subs.length ? y + 19 : y + 32, class: "kind", "text-anchor": n.subs.length ? "end" : "start", dx: n.subs.length ? n.w - 20 : 0 }, `${n.state.Type}${extra}`));
    node.append(svg("title", {}, `${n.name} (${n.state.Type}): ${status.replace("-", " ")}`));
    const pick = () => onSelect(n.name);
    node.addEventListener("click", (ev) => {
      ev.stopPropagation();
      pick();
    });
    node.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") {
        ev.preventDefault();
        ev.stopPropagation();
        pick();
      }
    });
    group.append(node);
    let sx = x + PAD;
    for (const sub of n.subs) {
      const box = svg("g", { class: "branch" });
      box.append(svg("rect", { x: sx - 6, y: y + HEADER_H - 6, width: sub.w + 12, height: sub.h + 12, rx: 6 }));
      group.append(box);
      draw(sub, sx, y + HEADER_H, group, statuses, onSelect, selected);
      sx += sub.w + GAP_X;
    }
  }
}

/** The graph of `definition` as an SVG element; `statuses` maps state names to `{status, iterations}`. */
export function graph(definition, statuses, onSelect, selected) {
  const budget = { left: STATES_DRAWN_MAX };
  const g = layout(definition, budget);
  const margin = 20;
  const width = g.w + 2 * margin + 70;
  const height = g.h + 2 * margin;
  const root = svg("svg", { class: "graph", viewBox: `0 0 ${width} ${height}`, width, height, role: "group", "aria-label": "State machine graph" });
  root.append(
    svg("defs", {}, svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, svg("path", { d: "M0 0 L10 5 L0 10 z", class: "arrowhead" }))),
  );
  const group = svg("g", {});
  draw(g, margin, margin, group, statuses, onSelect, selected);
  root.append(group);
  return root;
}

/** Finds a state's definition anywhere in the machine (names are unique machine-wide). */
export function findState(definition, name) {
  const states = definition.States || {};
  if (name in states) return states[name];
  for (const s of Object.values(states)) {
    for (const g of inner(s)) {
      const found = findState(g, name);
      if (found) return found;
    }
  }
  return null;
}
