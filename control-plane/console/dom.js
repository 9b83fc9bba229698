// Building the page. Text from executions (names, inputs, causes) only ever
// enters the page as text nodes or attribute values, never as HTML, so
// nothing a workflow carries can run in the console.

/** An element: h("a", {href: "#/x", class: "c"}, "text", child…). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    // Through the CSSOM: the security policy refuses style attributes.
    else if (k === "style") el.style.cssText = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** An SVG element. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  append(el, children);
  return el;
}

/** A link to a screen: the address names what it shows, so it can be shared. */
export function link(route, params, ...children) {
  return h("a", { href: href(route, params) }, ...children);
}

export function href(route, params = {}) {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== ""));
  const s = q.toString();
  return `#/${route}${s ? "?" + s : ""}`;
}

/** A status as a badge: a word and a colour, so colour is never the only sign. */
export function badge(status) {
  const s = String(status || "UNKNOWN");
  return h("span", { class: `badge st-${s.toLowerCase()}` }, s.replaceAll("_", " "));
}

/** Pretty JSON from a JSON string, or the string itself when it is not JSON. */
export function pretty(text) {
  if (text === undefined || text === null) return "";
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return String(text);
  }
}

/** A read-only JSON block with a heading. */
export function jsonBlock(title, text, attrs = {}) {
  return h("section", { class: "json", ...attrs }, h("h3", {}, title), h("pre", { tabindex: 0 }, pretty(text) || "—"));
}

/** The last part of an ARN (after `:`). */
export function arnName(arn) {
  return String(arn || "").split(":").pop();
}

/** A machine's ARN from an execution's (…:execution:machine:name). */
export function machineOf(executionArn) {
  const parts = String(executionArn).split(":");
  const i = parts.indexOf("execution");
  if (i < 0) return "";
  parts[i] = "stateMachine";
  return parts.slice(0, i + 2).join(":");
}

/** A dialog asking to confirm; resolves true or false. */
export function confirmDialog(title, body, action, extra) {
  return new Promise((resolve) => {
    const d = h(
      "dialog",
      { class: "confirm", "aria-labelledby": "dlg-title" },
      h("h2", { id: "dlg-title" }, title),
      h("p", {}, body),
      extra || null,
      h(
        "div",
        { class: "row end" },
        h("button", { type: "button", onclick: () => d.close("no") }, "Cancel"),
        h("button", { type: "button", class: "primary", onclick: () => d.close("yes") }, action),
      ),
    );
    d.addEventListener("close", () => {
      d.remove();
      resolve(d.returnValue === "yes");
    });
    document.body.append(d);
    d.showModal();
  });
}

/** Runs an action; its error is shown as the API gave it, then the page reloads. */
export async function act(f) {
  try {
    await f();
  } catch (e) {
    await confirmDialog(e.type || "Error", e.message, "OK");
  }
  window.dispatchEvent(new HashChangeEvent("hashchange"));
}
