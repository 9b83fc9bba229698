// Times as the user chose to see them (local, UTC or relative), remembered.

const KEY = "stepwise.timeFormat";
const FORMATS = ["local", "utc", "relative"];

export function timeFormat() {
  const f = localStorage.getItem(KEY);
  return FORMATS.includes(f) ? f : "local";
}

export function setTimeFormat(f) {
  if (FORMATS.includes(f)) localStorage.setItem(KEY, f);
}

/** Seconds since the epoch (the API's timestamps) to a date. */
export function toDate(t) {
  if (t === undefined || t === null || t === "") return null;
  return new Date(typeof t === "number" ? t * 1000 : t);
}

export function formatTime(t) {
  const d = toDate(t);
  if (!d) return "—";
  const f = timeFormat();
  if (f === "utc") return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  if (f === "relative") return relative(d);
  return d.toLocaleString();
}

function relative(d) {
  const s = Math.round((Date.now() - d.getTime()) / 1000);
  const a = Math.abs(s);
  const [n, unit] = a < 60 ? [a, "s"] : a < 3600 ? [Math.round(a / 60), "min"] : a < 86400 ? [Math.round(a / 3600), "h"] : [Math.round(a / 86400), "d"];
  return s >= 0 ? `${n} ${unit} ago` : `in ${n} ${unit}`;
}

/** A duration between two API timestamps (the end defaults to now). */
export function duration(start, stop) {
  const a = toDate(start);
  if (!a) return "—";
  const b = toDate(stop) || new Date();
  return formatMs(b - a);
}

export function formatMs(ms) {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  const hours = Math.floor(m / 60);
  return hours < 48 ? `${hours} h ${m % 60} min` : `${Math.floor(hours / 24)} d ${hours % 24} h`;
}
