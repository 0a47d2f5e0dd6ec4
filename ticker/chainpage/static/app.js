// The option-chain page: it reads the handler's event stream ("events",
// relative to the page) and keeps the chain table, the smile chart and the
// status strip up to date. No library, no build step.
"use strict";

const $ = (id) => document.getElementById(id);

const state = {
  ins: new Map(),      // token -> instrument
  ticks: new Map(),    // token -> latest tick
  underlying: "",
  expiry: "",
  rows: [],            // [{strike, call, put, tr}] of the table shown
  cells: new Map(),    // token -> {field: td}
  spot: 0,
  lastHealth: null,    // {at, produced}
  tps: null,
  smilePending: false,
};

const CALL_FIELDS = ["oi", "volume", "iv", "delta", "bid", "ask", "change", "last"];
const PUT_FIELDS = ["last", "change", "bid", "ask", "delta", "iv", "volume", "oi"];

// ---- formatting

function compact(n) {
  if (n >= 1e7) return (n / 1e6).toFixed(1) + "M";
  if (n >= 1e5) return (n / 1e3).toFixed(0) + "K";
  return n.toLocaleString("en-US");
}

function fmt(field, v) {
  switch (field) {
    case "last": case "bid": case "ask": return v ? v.toFixed(2) : "–";
    case "change": return (v >= 0 ? "+" : "") + v.toFixed(2);
    case "iv": return v ? (v * 100).toFixed(1) : "–";
    case "delta": return v.toFixed(2);
    case "oi": case "volume": return compact(v);
  }
  return String(v);
}

function num(n) { return n.toLocaleString("en-US"); }

function price(v) { return v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }); }

function ago(iso) {
  const t = Date.parse(iso);
  if (!t || t < 0) return "never";
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  if (s < 60) return s + "s ago";
  if (s < 3600) return Math.floor(s / 60) + "m ago";
  return Math.floor(s / 3600) + "h ago";
}

function expiryLabel(d) {
  const t = new Date(d + "T00:00:00Z");
  return t.toLocaleDateString("en-GB", { day: "2-digit", month: "short", year: "numeric", timeZone: "UTC" });
}

// ---- selection

function underlyings() {
  const set = new Set();
  for (const i of state.ins.values()) if (i.kind === "call" || i.kind === "put") set.add(i.underlying);
  return [...set]; // in the engine's order
}

function expiries(u) {
  const set = new Set();
  for (const i of state.ins.values()) if (i.underlying === u && i.expiry && (i.kind === "call" || i.kind === "put")) set.add(i.expiry);
  return [...set].sort();
}

function fillSelect(sel, values, current, label) {
  const want = values.join("|");
  if (sel.dataset.values !== want) {
    sel.textContent = "";
    for (const v of values) {
      const o = document.createElement("option");
      o.value = v;
      o.textContent = label ? label(v) : v;
      sel.appendChild(o);
    }
    sel.dataset.values = want;
  }
  const v = values.includes(current) ? current : (values[0] || "");
  sel.value = v;
  return v;
}

function indexToken(u) {
  for (const i of state.ins.values()) if (i.kind === "index" && i.underlying === u) return i.token;
  return 0;
}

// ---- the chain table

function buildTable() {
  state.underlying = fillSelect($("underlying"), underlyings(), state.underlying);
  state.expiry = fillSelect($("expiry"), expiries(state.underlying), state.expiry, expiryLabel);
  const byStrike = new Map();
  for (const i of state.ins.values()) {
    if (i.underlying !== state.underlying || i.expiry !== state.expiry) continue;
    if (i.kind !== "call" && i.kind !== "put") continue;
    const r = byStrike.get(i.strike) || { strike: i.strike, call: 0, put: 0 };
    r[i.kind] = i.token;
    byStrike.set(i.strike, r);
  }
  state.rows = [...byStrike.values()].sort((a, b) => a.strike - b.strike);
  state.cells = new Map();
  const body = document.querySelector("#chain tbody");
  body.textContent = "";
  for (const r of state.rows) {
    const tr = document.createElement("tr");
    r.tr = tr;
    const side = (token, fields) => {
      const cells = {};
      for (const f of fields) {
        const td = document.createElement("td");
        td.className = f;
        cells[f] = td;
        tr.appendChild(td);
      }
      if (token) state.cells.set(token, cells);
      return cells;
    };
    r.callCells = side(r.call, CALL_FIELDS);
    const st = document.createElement("td");
    st.className = "strike";
    st.textContent = r.strike.toLocaleString("en-US");
    tr.appendChild(st);
    r.putCells = side(r.put, PUT_FIELDS);
    body.appendChild(tr);
  }
  const table = $("chain");
  table.dataset.underlying = state.underlying;
  table.dataset.expiry = state.expiry;
  $("empty").style.display = state.rows.length ? "none" : "";
  for (const [token, cells] of state.cells) {
    const t = state.ticks.get(token);
    if (t) paint(cells, null, t);
  }
  updateSpot();
  scheduleSmile();
}

// paint writes a tick into its cells; with prev, the cells whose shown
// value changed flash green (up) or red (down).
function paint(cells, prev, t) {
  for (const f in cells) {
    const v = t[f];
    const td = cells[f];
    const text = fmt(f, v);
    if (td.textContent === text) continue;
    td.textContent = text;
    if (f === "change") {
      td.classList.toggle("pos", v > 0);
      td.classList.toggle("neg", v < 0);
    }
    if (prev) flash(td, v > prev[f] ? "up" : "down");
  }
}

// flash marks a changed cell green (up) or red (down) for FLASH_MS.
const FLASH_MS = 400;
function flash(td, cls) {
  td.classList.remove("up", "down");
  td.classList.add(cls);
  clearTimeout(td.flashTimer);
  td.flashTimer = setTimeout(() => td.classList.remove("up", "down"), FLASH_MS);
}

function updateSpot() {
  const tok = indexToken(state.underlying);
  const t = tok && state.ticks.get(tok);
  $("spot-name").textContent = state.underlying || "–";
  if (!t) {
    $("spot-price").textContent = "–";
    $("spot-change").textContent = "";
    state.spot = 0;
  } else {
    state.spot = t.last;
    $("spot-price").textContent = price(t.last);
    const c = $("spot-change");
    c.textContent = (t.change >= 0 ? "+" : "") + t.change.toFixed(2) + "%";
    c.className = t.change >= 0 ? "pos" : "neg";
    c.style.color = t.change >= 0 ? "var(--up)" : "var(--down)";
  }
  markMoney();
}

// markMoney marks the at-the-money row and shades the in-the-money cells.
function markMoney() {
  let atm = null;
  for (const r of state.rows) {
    if (state.spot && (!atm || Math.abs(r.strike - state.spot) < Math.abs(atm.strike - state.spot))) atm = r;
  }
  for (const r of state.rows) {
    r.tr.classList.toggle("atm", r === atm);
    const callITM = state.spot > 0 && r.strike < state.spot;
    const putITM = state.spot > 0 && r.strike > state.spot;
    for (const td of Object.values(r.callCells)) td.classList.toggle("itm", callITM);
    for (const td of Object.values(r.putCells)) td.classList.toggle("itm", putITM);
  }
}

// ---- the smile chart

function scheduleSmile() {
  if (state.smilePending) return;
  state.smilePending = true;
  requestAnimationFrame(() => { state.smilePending = false; drawSmile(); });
}

function svg(tag, attrs, text) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}

function drawSmile() {
  const root = $("smile");
  root.textContent = "";
  const W = 420, H = 300, L = 44, R = 24, T = 16, B = 30;
  const pts = { call: [], put: [] };
  for (const r of state.rows) {
    for (const kind of ["call", "put"]) {
      const t = r[kind] && state.ticks.get(r[kind]);
      if (t && t.iv > 0) pts[kind].push([r.strike, t.iv * 100]);
    }
  }
  const all = pts.call.concat(pts.put);
  if (!all.length) {
    root.appendChild(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "no IV yet"));
    return;
  }
  let x0 = Math.min(...all.map((p) => p[0])), x1 = Math.max(...all.map((p) => p[0]));
  let y0 = Math.min(...all.map((p) => p[1])), y1 = Math.max(...all.map((p) => p[1]));
  if (x1 === x0) { x0 -= 1; x1 += 1; }
  const pad = Math.max((y1 - y0) * 0.1, 0.5);
  y0 -= pad; y1 += pad;
  const sx = (x) => L + (x - x0) / (x1 - x0) * (W - L - R);
  const sy = (y) => H - B - (y - y0) / (y1 - y0) * (H - T - B);
  root.appendChild(svg("line", { class: "axis", x1: L, y1: H - B, x2: W - R, y2: H - B }));
  root.appendChild(svg("line", { class: "axis", x1: L, y1: T, x2: L, y2: H - B }));
  for (let i = 0; i <= 4; i++) {
    const y = y0 + (y1 - y0) * i / 4;
    root.appendChild(svg("text", { x: L - 6, y: sy(y) + 3, "text-anchor": "end" }, y.toFixed(1)));
    root.appendChild(svg("line", { class: "axis", x1: L - 3, y1: sy(y), x2: L, y2: sy(y) }));
  }
  for (let i = 0; i <= 4; i++) {
    const x = x0 + (x1 - x0) * i / 4;
    root.appendChild(svg("text", { x: sx(x), y: H - B + 14, "text-anchor": "middle" }, Math.round(x).toLocaleString("en-US")));
  }
  root.appendChild(svg("text", { x: W - R, y: H - 3, "text-anchor": "end" }, "strike"));
  root.appendChild(svg("text", { x: L + 6, y: T - 4, "text-anchor": "start" }, "IV %"));
  if (state.spot >= x0 && state.spot <= x1) {
    root.appendChild(svg("line", { class: "spot", x1: sx(state.spot), y1: T, x2: sx(state.spot), y2: H - B }));
  }
  for (const kind of ["call", "put"]) {
    const p = pts[kind];
    if (!p.length) continue;
    // Calls: a solid line and large dots; puts: a dashed line and small
    // dots on top, so both show where their IVs coincide.
    root.appendChild(svg("polyline", { class: kind, points: p.map((q) => sx(q[0]).toFixed(1) + "," + sy(q[1]).toFixed(1)).join(" ") }));
    for (const q of p) root.appendChild(svg("circle", { class: kind, cx: sx(q[0]).toFixed(1), cy: sy(q[1]).toFixed(1), r: kind === "call" ? 3.6 : 1.9 }));
  }
}

// ---- the status strip

function applyHealth(h, at) {
  const s = h.stats || {};
  if (state.lastHealth && at > state.lastHealth.at) {
    state.tps = Math.max(0, (s.produced - state.lastHealth.produced) * 1000 / (at - state.lastHealth.at));
  }
  state.lastHealth = { at, produced: s.produced };
  $("st-status").textContent = h.status;
  $("st-breaker").textContent = h.breaker;
  $("st-tps").textContent = state.tps === null ? "–" : num(Math.round(state.tps));
  $("st-published").textContent = num(s.published || 0);
  $("st-conflated").textContent = num(s.conflated || 0);
  const d = s.dropped || {};
  const total = (d.circuit_open || 0) + (d.publish_failed || 0) + (d.unsubscribed || 0) + (d.shutdown || 0);
  $("st-dropped").textContent = num(total) + " (circuit open " + num(d.circuit_open || 0) + " · publish failed " +
    num(d.publish_failed || 0) + " · unsubscribed " + num(d.unsubscribed || 0) + " · shutdown " + num(d.shutdown || 0) + ")";
  $("st-pending").textContent = num(s.pending || 0);
  $("st-reload").textContent = ago(h.last_reload) + (h.reload_error ? " (failed: " + h.reload_error + ")" : "");
  $("st-reasons").textContent = (h.reasons || []).join("; ");
  const reasons = (h.reasons || []).join(" ");
  const bad = h.status === "stopped" || h.breaker === "open" || reasons.includes("gave up");
  const strip = $("status");
  strip.classList.toggle("bad", bad);
  strip.classList.toggle("warn", !bad && h.status !== "ok");
  strip.dataset.status = h.status;
}

function applyMode() {
  let mock = false, any = false;
  for (const t of state.ticks.values()) { any = true; if (t.mock) { mock = true; break; } }
  const m = $("mode");
  m.textContent = any ? (mock ? "mock" : "live") : "–";
  m.className = "badge " + (any ? (mock ? "mock" : "live") : "");
}

// ---- the stream

function onSnapshot(d) {
  state.ins = new Map(d.instruments.map((i) => [i.token, i]));
  state.ticks = new Map(d.ticks.map((t) => [t.token, t]));
  buildTable();
  applyHealth(d.health, d.at);
  applyMode();
}

function onTicks(d) {
  let spot = false, smile = false;
  const idx = indexToken(state.underlying);
  for (const t of d.ticks) {
    const prev = state.ticks.get(t.token);
    state.ticks.set(t.token, t);
    const cells = state.cells.get(t.token);
    if (cells) { paint(cells, prev, t); smile = true; }
    if (t.token === idx) spot = true;
  }
  if (spot) updateSpot();
  if (smile || spot) scheduleSmile();
  if (d.ticks.length && !$("mode").classList.contains("mock") && !$("mode").classList.contains("live")) applyMode();
}

function setConn(text, ok) {
  const c = $("conn");
  c.textContent = text;
  c.className = "badge " + (ok ? "ok" : "lost");
}

let retryDelay = 2000;

function connect() {
  const es = new EventSource("events");
  es.addEventListener("open", () => { retryDelay = 2000; setConn("connected", true); });
  es.addEventListener("snapshot", (e) => onSnapshot(JSON.parse(e.data)));
  es.addEventListener("ticks", (e) => onTicks(JSON.parse(e.data)));
  es.addEventListener("health", (e) => { const d = JSON.parse(e.data); applyHealth(d.health, d.at); });
  es.addEventListener("error", () => {
    if (es.readyState === EventSource.CLOSED) {
      // Refused (e.g. 503: too many streams) or not an event stream:
      // EventSource gives up, so retry with backoff.
      setConn("disconnected; retrying", false);
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    } else {
      setConn("reconnecting", false); // EventSource retries by itself
    }
  });
}

$("underlying").addEventListener("change", (e) => { state.underlying = e.target.value; state.expiry = ""; buildTable(); });
$("expiry").addEventListener("change", (e) => { state.expiry = e.target.value; buildTable(); });
connect();
