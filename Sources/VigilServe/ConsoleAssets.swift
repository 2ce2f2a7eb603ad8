/// The web console: three files served by the binary itself, no build step. Pages are built
/// with DOM text nodes only (host names, SNI, URLs and user agents come from attackers), and
/// the Content-Security-Policy allows scripts from this server's own files and nothing inline.
enum ConsoleAssets {
    struct Asset { var type: String; var body: String }

    static func file(_ path: String) -> Asset? {
        switch path {
        case "/", "/index.html": Asset(type: "text/html; charset=utf-8", body: index)
        case "/app.js": Asset(type: "text/javascript; charset=utf-8", body: script)
        case "/app.css": Asset(type: "text/css; charset=utf-8", body: style)
        default: nil
        }
    }

    static let index = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vigil</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header>
  <a class="brand" href="#/">Vigil</a>
  <nav>
    <a href="#/">Threats</a>
    <a href="#/breaches">Breaches</a>
    <a href="#/devices">Devices</a>
    <a href="#/agents">Agents</a>
  </nav>
  <form id="search"><input id="q" name="q" placeholder="address, uid or domain" aria-label="search observations"></form>
  <span id="who"></span>
  <span id="live" title="live event stream"></span>
</header>
<main id="view"><p class="muted">Loading…</p></main>
<div id="toast" hidden></div>
</body>
</html>
"""#

    static let style = #"""
:root { --bg:#0f1419; --panel:#161c23; --line:#2a333d; --text:#d8dee6; --muted:#8a96a3; --accent:#5fb3f9; --hot:#ff6b6b; --warm:#ffb454; --ok:#7fd17f; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--text); font:14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
header { display:flex; gap:1.5rem; align-items:center; padding:.6rem 1.2rem; background:var(--panel); border-bottom:1px solid var(--line); }
header nav { display:flex; gap:1rem; flex:1; }
#search input { width:16rem; }
a { color:var(--accent); text-decoration:none; } a:hover { text-decoration:underline; }
.brand { font-weight:700; font-size:1.1rem; color:var(--text); }
main { padding:1rem 1.2rem; max-width:1200px; }
h1 { font-size:1.3rem; margin:.2rem 0 .6rem; } h2 { font-size:1.05rem; margin:1.4rem 0 .5rem; color:var(--muted); text-transform:uppercase; letter-spacing:.04em; }
table { border-collapse:collapse; width:100%; } th, td { text-align:left; padding:.35rem .5rem; border-bottom:1px solid var(--line); vertical-align:top; }
th { color:var(--muted); font-weight:600; }
.score { font-variant-numeric:tabular-nums; font-weight:700; } .hot { color:var(--hot); } .warm { color:var(--warm); } .cool { color:var(--ok); }
.muted { color:var(--muted); } .mono { font-family:ui-monospace, monospace; word-break:break-all; }
.panel { background:var(--panel); border:1px solid var(--line); border-radius:6px; padding:.8rem 1rem; margin:.6rem 0; }
.tags span { display:inline-block; background:#223; border:1px solid var(--line); border-radius:3px; padding:0 .4rem; margin:0 .3rem .3rem 0; font-size:12px; }
.stats { display:flex; gap:1.5rem; flex-wrap:wrap; } .stats div b { display:block; font-size:1.2rem; }
form.inline { display:flex; gap:.5rem; flex-wrap:wrap; align-items:end; } label { display:flex; flex-direction:column; font-size:12px; color:var(--muted); }
input, select, textarea, button { background:#0b0f13; color:var(--text); border:1px solid var(--line); border-radius:4px; padding:.35rem .5rem; font:inherit; }
button { cursor:pointer; background:#1d3b55; } button:hover { background:#255077; }
.tabs { display:flex; gap:.3rem; border-bottom:1px solid var(--line); margin-top:1rem; } .tabs button { border-radius:4px 4px 0 0; border-bottom:none; background:transparent; }
.tabs button[aria-selected="true"] { background:var(--panel); color:var(--accent); }
svg { display:block; width:100%; height:auto; } svg text { fill:var(--muted); font-size:10px; }
.chart-bar { fill:#3b78b0; } .chart-usual { fill:none; stroke:var(--warm); stroke-width:1.5; } .chart-axis { stroke:var(--line); }
.tl-dot { fill:var(--accent); } .tl-dot.alert { fill:var(--warm); } .tl-line { stroke:var(--line); }
#toast { position:fixed; right:1rem; bottom:1rem; background:var(--panel); border:1px solid var(--accent); padding:.6rem .9rem; border-radius:6px; }
#live::before { content:"●"; color:var(--muted); } #live.on::before { color:var(--ok); }
.narrative p { margin:.3rem 0 .6rem; }
"""#

    static let script = #"""
"use strict";
// Vigil console. Every string from the API is attacker-influenced: it only ever reaches the
// page through textContent, attribute setters on safe attributes, or encodeURIComponent.
(function () {
  const view = () => document.getElementById("view");
  let me = null, status = null, liveAbort = null;

  function token() { return sessionStorage.getItem("vigil.token") || ""; }

  function el(tag, attrs, ...kids) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null) continue;
      if (k === "class") n.className = v;
      else if (k === "href") n.setAttribute("href", safeHref(v));
      else if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
      else n.setAttribute(k, String(v));
    }
    for (const c of kids.flat()) {
      if (c === undefined || c === null || c === false) continue;
      n.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return n;
  }
  function safeHref(h) { return typeof h === "string" && h.startsWith("#/") ? h : "#/"; }
  function svg(tag, attrs, ...kids) {
    const n = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, String(v));
    for (const c of kids.flat()) n.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    return n;
  }
  function scoreClass(s) { return s >= 70 ? "score hot" : s >= 40 ? "score warm" : "score cool"; }
  function when(t) { return t ? String(t).replace(/\.\d+Z$/, "Z").replace("T", " ").replace("Z", " UTC") : ""; }
  function bytes(v) { const u = ["B","KB","MB","GB","TB"]; let i = 0; v = Math.max(0, v || 0); while (v >= 1000 && i < 4) { v /= 1000; i++; } return (i ? v.toFixed(v < 10 ? 1 : 0) : Math.round(v)) + " " + u[i]; }
  function link(path, ...parts) { return "#/" + path + "/" + parts.map(encodeURIComponent).join("/"); }
  function show(...nodes) { const v = view(); v.replaceChildren(...nodes); }
  function toast(text) { const t = document.getElementById("toast"); t.textContent = text; t.hidden = false; setTimeout(() => { t.hidden = true; }, 5000); }

  async function api(path, options) {
    const o = Object.assign({ headers: {} }, options || {});
    o.headers = Object.assign({ "Authorization": "Bearer " + token() }, o.headers);
    const r = await fetch(path, o);
    if (r.status === 401) { sessionStorage.removeItem("vigil.token"); login("Your token was refused; enter a valid one."); throw new Error("unauthorized"); }
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.error || ("HTTP " + r.status));
    return body;
  }

  function login(message) {
    me = null;
    document.getElementById("who").textContent = "";
    const input = el("input", { type: "password", id: "token", autocomplete: "off", size: 40, "aria-label": "API token" });
    const form = el("form", { class: "panel inline", id: "login", onsubmit: async (e) => {
      e.preventDefault();
      sessionStorage.setItem("vigil.token", input.value.trim());
      try { await start(); } catch (err) { /* login() shown again by api() */ }
    } }, el("label", {}, "API token", input), el("button", { type: "submit" }, "Sign in"));
    show(el("h1", {}, "Sign in"), message ? el("p", { class: "muted" }, message) : null, form,
      el("p", { class: "muted" }, "Tokens come from the serve configuration (vigil serve token NAME ROLE)."));
  }

  async function start() {
    me = await api("/api/whoami");
    document.getElementById("who").textContent = me.name + " (" + me.role + ")";
    listen();
    await route();
  }

  async function route() {
    if (!token()) return login();
    const h = location.hash || "#/";
    const [path, query] = h.slice(2).split("?");
    const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
    try {
      status = await api("/api/status");
      if (parts[0] === "incident" && parts[1]) return await incidentPage(parts[1]);
      if (parts[0] === "device" && parts[1]) return await devicePage(parts[1]);
      if (parts[0] === "breaches") return await breachesPage(new URLSearchParams(query || ""));
      if (parts[0] === "devices") return await devicesPage();
      if (parts[0] === "agents") return await agentsPage();
      if (parts[0] === "search") return await searchPage(new URLSearchParams(query || "").get("q") || "");
      return await overview();
    } catch (err) {
      if (String(err.message) !== "unauthorized") show(el("h1", {}, "Something went wrong"), el("p", { class: "muted" }, String(err.message)));
    }
  }

  function statsPanel() {
    const drops = status.sources.reduce((a, s) => a + s.dropped + (s.interfaceDropped || 0), 0);
    return el("div", { class: "panel stats" },
      el("div", {}, el("b", {}, String(status.openIncidents)), "open incidents"),
      el("div", {}, el("b", {}, String(status.breaches)), "breaches"),
      el("div", {}, el("b", {}, String(status.devices)), "devices"),
      el("div", {}, el("b", {}, String(status.observations)), "observations"),
      el("div", {}, el("b", { class: drops > 0 ? "hot" : "" }, String(drops)), "capture drops"),
      el("div", {}, el("b", {}, status.observedUpTo ? when(status.observedUpTo) : "—"), status.learning ? "observed up to (still learning)" : "observed up to"));
  }

  async function overview() {
    const list = await api("/api/incidents?limit=200");
    const open = list.items.filter(i => i.status === "open" || i.status === "acknowledged");
    const rows = open.map(i => el("tr", {},
      el("td", { class: scoreClass(i.score) }, i.score.toFixed(0)),
      el("td", {}, el("a", { href: link("incident", i.id) }, i.title), el("div", { class: "muted" }, i.summary)),
      el("td", { class: "mono" }, i.devices.slice(0, 4).map(d => el("div", {}, el("a", { href: link("device", d) }, (i.deviceNames && i.deviceNames[d]) ? d + " (" + i.deviceNames[d] + ")" : d)))),
      el("td", {}, when(i.start)),
      el("td", { class: "tags" }, (i.tactics || []).map(t => el("span", {}, t))),
      el("td", {}, i.status)));
    show(el("h1", {}, "Threats"), statsPanel(),
      open.length ? el("table", { id: "incidents" }, el("tr", {}, ["Score", "Incident", "Devices", "Start", "Tactics", "Status"].map(h => el("th", {}, h))), rows)
                  : el("p", { class: "muted" }, "No open incidents: nothing added up to a story worth a person's time."),
      el("p", { class: "muted" }, list.items.length - open.length + " resolved or dismissed. Reports: ",
        ["incidents.html", "incidents.md", "incidents.json", "incidents.ocsf.jsonl", "incidents.cef"].map(f =>
          el("button", { class: "download", onclick: () => download("/api/reports/" + f, f) }, f))));
  }

  async function download(path, name) {
    const r = await fetch(path, { headers: { "Authorization": "Bearer " + token() } });
    const blob = await r.blob();
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob); a.download = name; a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  function timelineChart(entries) {
    if (!entries.length) return el("p", { class: "muted" }, "No timeline.");
    const times = entries.map(e => Date.parse(e.time));
    const t0 = Math.min(...times), t1 = Math.max(...times), span = Math.max(1, t1 - t0);
    const W = 900, H = 40 + entries.length * 18;
    const g = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "incident timeline", id: "timeline-chart" });
    g.appendChild(svg("line", { x1: 160, y1: 20, x2: W - 20, y2: 20, class: "tl-line" }));
    g.appendChild(svg("text", { x: 160, y: 12 }, when(new Date(t0).toISOString().replace(/\.\d+Z$/, "Z"))));
    g.appendChild(svg("text", { x: W - 20, y: 12, "text-anchor": "end" }, when(new Date(t1).toISOString().replace(/\.\d+Z$/, "Z"))));
    entries.forEach((e, i) => {
      const x = 160 + (W - 180) * (times[i] - t0) / span, y = 36 + i * 18;
      g.appendChild(svg("line", { x1: x, y1: 20, x2: x, y2: y, class: "tl-line" }));
      g.appendChild(svg("circle", { cx: x, cy: y, r: 4, class: e.kind === "breach" ? "tl-dot" : "tl-dot alert" }));
      g.appendChild(svg("text", { x: 4, y: y + 3 }, (e.tactic || e.kind || "").slice(0, 26)));
    });
    return g;
  }

  async function incidentPage(id) {
    const d = await api("/api/incidents/" + encodeURIComponent(id));
    const i = d.incident, st = d.status ? d.status.status : "open";
    const tabs = {};
    const body = el("div", { id: "tab-body" });
    function tab(name, build) { tabs[name] = build; return el("button", { role: "tab", "aria-selected": "false", "data-tab": name, onclick: () => select(name) }, name); }
    function select(name) {
      document.querySelectorAll(".tabs button").forEach(b => b.setAttribute("aria-selected", b.dataset.tab === name ? "true" : "false"));
      body.replaceChildren(tabs[name]());
    }
    const bar = el("div", { class: "tabs", role: "tablist" },
      tab("Story", () => el("div", {},
        el("div", { class: "narrative", id: "narrative" }, (i.narrative || []).map(p => el("p", {}, p))),
        el("h2", {}, "Timeline"), timelineChart(i.timeline || []),
        el("table", { id: "timeline" }, (i.timeline || []).map(e => el("tr", {}, el("td", {}, when(e.time)), el("td", {}, e.tactic || ""), el("td", { class: "mono" }, e.device), el("td", {}, e.text)))),
        el("h2", {}, "Conclusion"), el("p", {}, i.conclusion || ""))),
      tab("Investigation", () => el("table", { id: "steps" }, (i.steps || []).map(s => el("tr", {}, el("td", {}, s.question || ""), el("td", {}, s.finding || ""))))),
      tab("Breaches", () => el("table", {}, el("tr", {}, ["Score", "Model", "Device", "Time", "Reason"].map(h => el("th", {}, h))),
        d.relatedBreaches.map(b => el("tr", {}, el("td", { class: scoreClass(b.score) }, b.score.toFixed(0)), el("td", {}, b.model),
          el("td", { class: "mono" }, el("a", { href: link("device", b.device) }, b.device)), el("td", {}, when(b.time)), el("td", {}, b.reason))))),
      tab("Forensics", () => el("p", { class: "muted" }, "Evidence collection (packets, host triage, signed timeline) is not built yet; this tab will hold it.")),
      tab("Response", () => el("p", { class: "muted" }, "Response actions (time-limited, reversible, audited) are not built yet; this tab will hold them.")));
    const decide = me && (me.role === "analyst" || me.role === "admin") ? (() => {
      const sel = el("select", { id: "status" }, ["open", "acknowledged", "resolved", "false_positive"].map(s => { const o = el("option", { value: s }, s.replace("_", " ")); if (s === st) o.selected = true; return o; }));
      const note = el("input", { id: "note", size: 40, placeholder: "note (optional)", maxlength: 2000 });
      return el("form", { class: "inline", onsubmit: async (e) => {
        e.preventDefault();
        try { await api("/api/incidents/" + encodeURIComponent(id) + "/status", { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ status: sel.value, note: note.value }) }); toast("Saved: " + sel.value); }
        catch (err) { toast("Not saved: " + err.message); }
      } }, el("label", {}, "Status", sel), el("label", {}, "Note", note), el("button", { type: "submit" }, "Save"));
    })() : el("p", { class: "muted" }, "Status: " + st);
    show(el("p", {}, el("a", { href: "#/" }, "← Threats")),
      el("h1", { id: "incident-title" }, i.title),
      el("div", { class: "panel" },
        el("div", { class: "stats" },
          el("div", {}, el("b", { class: scoreClass(i.score) }, i.score.toFixed(0)), "priority"),
          el("div", {}, el("b", {}, when(i.start)), "start"), el("div", {}, el("b", {}, when(i.end)), "end"),
          el("div", {}, el("b", {}, (i.confidence * 100).toFixed(0) + "%"), "confidence")),
        el("p", { id: "summary" }, i.summary),
        el("div", { class: "tags" }, "Devices: ", i.devices.map(x => el("span", {}, el("a", { href: link("device", x) }, i.deviceNames && i.deviceNames[x] ? x + " (" + i.deviceNames[x] + ")" : x)))),
        el("div", { class: "tags" }, "Endpoints: ", i.endpoints.map(x => el("span", { class: "mono" }, x))),
        el("div", { class: "tags" }, "ATT&CK: ", (i.tactics || []).concat(i.techniques).map(x => el("span", {}, x))),
        decide),
      bar, body);
    select("Story");
  }

  function hourOfWeek(t) { const h = Math.floor(Date.parse(t) / 3600000) + (status.utcOffsetHours || 0); return ((h + 72) % 168 + 168) % 168; }

  function deviceChart(device, hours, key, usualKey, label) {
    if (!hours.length) return el("p", { class: "muted" }, "No stored traffic in this period.");
    const W = 900, H = 160, P = 30;
    const t0 = Date.parse(hours[0].hour), t1 = Date.parse(hours[hours.length - 1].hour) + 3600000, span = Math.max(3600000, t1 - t0);
    const usual = device[usualKey] || [];
    const max = Math.max(1, ...hours.map(h => h[key]), ...hours.map(h => usual[hourOfWeek(h.hour)] || 0));
    const g = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": label, class: "device-chart" });
    g.appendChild(svg("line", { x1: P, y1: H - P, x2: W, y2: H - P, class: "chart-axis" }));
    g.appendChild(svg("text", { x: 2, y: 12 }, bytes(max)));
    g.appendChild(svg("text", { x: P, y: H - 8 }, when(hours[0].hour)));
    g.appendChild(svg("text", { x: W, y: H - 8, "text-anchor": "end" }, when(hours[hours.length - 1].hour)));
    const bw = Math.max(1, (W - P) * 3600000 / span - 1);
    let line = "";
    for (const h of hours) {
      const x = P + (W - P) * (Date.parse(h.hour) - t0) / span, v = h[key], y = (H - P) * (1 - v / max);
      const bar = svg("rect", { x: x, y: y, width: bw, height: Math.max(0, H - P - y), class: "chart-bar" });
      bar.appendChild(svg("title", {}, when(h.hour) + ": " + bytes(v) + (usual.length ? " (usual " + bytes(usual[hourOfWeek(h.hour)]) + ")" : "")));
      g.appendChild(bar);
      if (usual.length) line += (line ? " L" : "M") + (x + bw / 2).toFixed(1) + " " + ((H - P) * (1 - (usual[hourOfWeek(h.hour)] || 0) / max)).toFixed(1);
    }
    if (line) g.appendChild(svg("path", { d: line, class: "chart-usual" }));
    return el("div", {}, el("p", { class: "muted" }, label + " — bars: what it did; line: its learned normal for that hour of the week"), g);
  }

  async function devicePage(address) {
    const d = await api("/api/devices/" + encodeURIComponent(address) + "?days=7");
    const v = d.device;
    show(el("p", {}, el("a", { href: "#/devices" }, "← Devices")),
      el("h1", { id: "device-title" }, v.address + (v.name ? " (" + v.name + ")" : "")),
      el("div", { class: "panel stats" },
        el("div", {}, el("b", {}, v.role || (v.servesOthers ? "server" : "client")), "peer group " + v.group),
        el("div", {}, el("b", {}, when(v.firstSeen)), "first seen"), el("div", {}, el("b", {}, when(v.lastSeen)), "last seen"),
        el("div", {}, el("b", {}, bytes(v.bytesOut)), "sent"), el("div", {}, el("b", {}, bytes(v.bytesIn)), "received"),
        v.mac ? el("div", {}, el("b", { class: "mono" }, v.mac), "MAC") : null),
      el("h2", {}, "Pattern of life"),
      deviceChart(v, d.hours, "sent", "usualSent", "Bytes sent per hour"),
      deviceChart(v, d.hours, "received", "usualReceived", "Bytes received per hour"),
      el("h2", {}, "Breaches"), breachTable(d.breaches));
  }

  function breachTable(items) {
    if (!items.length) return el("p", { class: "muted" }, "No breaches.");
    return el("table", { id: "breaches" }, el("tr", {}, ["Score", "Model", "Device", "Time", "Reason"].map(h => el("th", {}, h))),
      items.map(b => el("tr", {}, el("td", { class: scoreClass(b.score) }, b.score.toFixed(0)), el("td", {}, b.model),
        el("td", { class: "mono" }, el("a", { href: link("device", b.device) }, b.deviceName ? b.device + " (" + b.deviceName + ")" : b.device)),
        el("td", {}, when(b.time)), el("td", {}, b.reason))));
  }

  async function breachesPage(q) {
    const models = await api("/api/models");
    const params = new URLSearchParams();
    for (const k of ["device", "model", "min_score", "since", "until"]) if (q.get(k)) params.set(k, q.get(k));
    params.set("limit", "200");
    const list = await api("/api/breaches?" + params.toString());
    const f = {
      device: el("input", { name: "device", value: q.get("device") || "", placeholder: "10.0.0.5" }),
      model: el("select", { name: "model" }, el("option", { value: "" }, "any"), models.items.map(m => { const o = el("option", { value: m.name }, m.name); if (q.get("model") === m.name) o.selected = true; return o; })),
      min_score: el("input", { name: "min_score", type: "number", min: 0, max: 100, value: q.get("min_score") || "" }),
      since: el("input", { name: "since", placeholder: "2026-12-01T00:00:00Z", value: q.get("since") || "" }),
      until: el("input", { name: "until", placeholder: "2026-12-02T00:00:00Z", value: q.get("until") || "" }),
    };
    const form = el("form", { class: "inline panel", id: "breach-filter", onsubmit: (e) => {
      e.preventDefault();
      const p = new URLSearchParams();
      for (const [k, n] of Object.entries(f)) if (n.value) p.set(k, n.value);
      location.hash = "#/breaches?" + p.toString();
    } }, Object.entries(f).map(([k, n]) => el("label", {}, k.replace("_", " "), n)), el("button", { type: "submit" }, "Filter"));
    show(el("h1", {}, "Breaches"), form, breachTable(list.items));
  }

  async function devicesPage() {
    const list = await api("/api/devices?limit=500");
    show(el("h1", {}, "Devices"), el("table", { id: "devices" }, el("tr", {}, ["Device", "Role", "Last seen", "Sent", "Received"].map(h => el("th", {}, h))),
      list.items.map(v => el("tr", {}, el("td", { class: "mono" }, el("a", { href: link("device", v.address) }, v.address + (v.name ? " (" + v.name + ")" : ""))),
        el("td", {}, v.role || ""), el("td", {}, when(v.lastSeen)), el("td", {}, bytes(v.bytesOut)), el("td", {}, bytes(v.bytesIn))))));
  }

  async function agentsPage() {
    const list = await api("/api/agents");
    show(el("h1", {}, "Agents"), el("p", { class: "muted" }, "AI agents behind the MCP gateway whose tool calls strayed from their learned normal."),
      list.items.length ? el("table", { id: "agents" }, el("tr", {}, ["Agent", "Top score", "Breaches", "Models", "Last"].map(h => el("th", {}, h))),
        list.items.map(a => el("tr", {}, el("td", {}, el("a", { href: "#/breaches?device=" + encodeURIComponent("agent:" + a.agent) }, a.agent)),
          el("td", { class: scoreClass(a.topScore) }, a.topScore.toFixed(0)), el("td", {}, String(a.breaches)), el("td", {}, a.models.join(", ")), el("td", {}, when(a.last)))))
        : el("p", { class: "muted" }, "No agent has breached."));
  }

  function observationRow(o) {
    const kind = Object.keys(o)[0] || "?", rec = (o[kind] && o[kind]._0) || {};
    const id = rec.id || {};
    const details = Object.entries(rec).filter(([k, v]) => !["id", "ts", "uid", "uids"].includes(k) && v !== null && typeof v !== "object")
      .map(([k, v]) => el("span", {}, k + ": " + String(v)));
    return el("tr", {}, el("td", {}, when(rec.ts)), el("td", {}, kind),
      el("td", { class: "mono" }, id.origHost ? id.origHost + " → " + id.respHost + ":" + id.respPort : ""), el("td", { class: "tags" }, details));
  }

  async function searchPage(q) {
    document.getElementById("q").value = q;
    if (!q) return show(el("h1", {}, "Search"), el("p", { class: "muted" }, "Type an address, a connection uid or a domain in the box above."));
    const list = await api("/api/search?limit=200&q=" + encodeURIComponent(q));
    show(el("h1", {}, "Observations naming ", el("span", { class: "mono", id: "search-term" }, q)),
      list.items.length ? el("table", { id: "observations" }, el("tr", {}, ["Time", "Kind", "Connection", "Details"].map(h => el("th", {}, h))), list.items.map(observationRow))
                        : el("p", { class: "muted" }, "Nothing stored names it."));
  }

  // The live stream: fetch keeps the token in a header (EventSource cannot send one).
  async function listen() {
    if (liveAbort) liveAbort.abort();
    liveAbort = new AbortController();
    const dot = document.getElementById("live");
    try {
      const r = await fetch("/api/events", { headers: { "Authorization": "Bearer " + token() }, signal: liveAbort.signal });
      if (!r.ok || !r.body) return;
      dot.className = "on";
      const reader = r.body.getReader(), dec = new TextDecoder();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let cut;
        while ((cut = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, cut); buf = buf.slice(cut + 2);
          const ev = (block.match(/^event: (.*)$/m) || [])[1];
          if (ev === "incident") { toast("Incident updated"); if (!location.hash || location.hash === "#/") route(); }
          else if (ev === "breach") { const v = document.getElementById("live"); v.title = "last breach " + new Date().toLocaleTimeString(); }
        }
      }
    } catch (e) { /* aborted or dropped */ }
    dot.className = "";
    setTimeout(() => { if (token()) listen(); }, 5000);
  }

  window.addEventListener("hashchange", () => { if (me) route(); });
  document.addEventListener("submit", (e) => {
    if (e.target && e.target.id === "search") { e.preventDefault(); location.hash = "#/search?q=" + encodeURIComponent(document.getElementById("q").value.trim()); }
  });
  window.addEventListener("DOMContentLoaded", () => { if (token()) start().catch(() => {}); else login(); });
})();
"""#
}
