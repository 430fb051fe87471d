// The console's script: it reads /admin/console/state every few seconds and draws it, and
// drives the scenario and traffic admin APIs, with the admin token when the frontend asks for
// one (kept in this tab's sessionStorage). Plain DOM, no framework, no build step.
"use strict";

(() => {
  const refreshMs = 3000;
  const tokenKey = "pillars-admin-token";
  const $ = (id) => document.getElementById(id);

  let library = null; // the scenarios, once read
  let state = null; // the last state read
  let timer = 0;
  let formFilled = false;

  class NeedsToken extends Error {}

  // api calls an admin endpoint of this frontend and returns its JSON answer.
  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    const token = sessionStorage.getItem(tokenKey);
    if (token) headers.Authorization = "Bearer " + token;
    const init = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const resp = await fetch(path, init);
    let data = null;
    try {
      data = await resp.json();
    } catch (_) {
      // not JSON: the status says enough
    }
    if (resp.status === 401) throw new NeedsToken(data && data.error);
    if (!resp.ok) throw new Error((data && data.error) || `${method} ${path} answered ${resp.status}`);
    return data;
  }

  // el builds an element: el("td", {className: "num"}, "12", child...).
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    for (const c of children) {
      if (c !== null && c !== undefined) node.append(c);
    }
    return node;
  }

  function say(text, kind) {
    const m = $("message");
    m.textContent = text;
    m.className = "message " + (kind || "");
  }

  // Go durations as the admin APIs write them ("1m30.5s", "250ms") to seconds.
  function seconds(d) {
    if (typeof d !== "string") return 0;
    const units = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, "µs": 1e-6, ns: 1e-9 };
    let total = 0;
    for (const [, n, u] of d.matchAll(/([0-9.]+)(h|ms|m|s|us|µs|ns)/g)) total += parseFloat(n) * units[u];
    return total;
  }

  function timeOfDay(at) {
    return new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  }

  function clock(s) {
    s = Math.max(0, Math.round(s));
    const m = Math.floor(s / 60);
    return m + ":" + String(s % 60).padStart(2, "0");
  }

  function number(v, digits) {
    return v === null || v === undefined ? "—" : v.toFixed(digits);
  }

  function duration(sec) {
    if (sec === null || sec === undefined) return "—";
    return sec < 1 ? Math.round(sec * 1000) + " ms" : sec.toFixed(2) + " s";
  }

  // ---- the scenario -------------------------------------------------------------------

  function drawScenario(sc) {
    const box = $("scenario-status");
    box.replaceChildren();
    if (!sc) {
      box.append(el("p", { className: "muted" }, "This frontend offers no scenarios."));
      $("scenario-blind").disabled = true;
      $("scenario-stop").disabled = true;
      return;
    }
    if (sc.active) {
      const elapsed = seconds(sc.elapsed);
      const remaining = seconds(sc.remaining);
      const last = (sc.events || []).filter((e) => e.say).pop();
      box.append(
        el("p", {},
          el("span", { className: "pill active" }, "running"), " ",
          el("span", { className: "name", id: "scenario-active" }, sc.scenario),
          sc.title ? el("span", { className: "muted" }, " · " + sc.title) : null),
        el("progress", { max: Math.max(elapsed + remaining, 1), value: elapsed, ariaLabel: "time into the scenario" }),
        el("p", { className: "muted small" },
          `${clock(elapsed)} in, ${clock(remaining)} to go · step ${sc.steps_done} of ${sc.steps}` +
          (sc.timescale > 1 ? ` · ${sc.timescale}× speed` : "")),
        last ? el("p", { className: "say" }, "“" + last.say + "”") : null);
    } else {
      const p = el("p", {}, el("span", { className: "pill idle", id: "scenario-none" }, "no scenario"), " ");
      if (sc.scenario) p.append(el("span", { className: "muted" }, `last: ${sc.scenario} (${sc.outcome})`));
      box.append(p);
    }
    $("scenario-reveal").hidden = !(sc.blind && sc.scenario === "hidden");
    $("scenario-stop").disabled = !sc.active;
    $("scenario-blind").disabled = sc.active;
    for (const b of document.querySelectorAll("#scenario-list button")) b.disabled = sc.active;
    for (const row of document.querySelectorAll("#scenario-list tbody tr")) {
      row.classList.toggle("running", sc.active && row.dataset.scenario === sc.scenario);
    }
  }

  function drawLibrary(list) {
    const body = $("scenario-list").querySelector("tbody");
    body.replaceChildren();
    for (const sc of list) {
      const start = el("button", { type: "button", className: "secondary" }, "Start");
      start.dataset.scenario = sc.name;
      start.setAttribute("aria-label", "Start " + sc.name);
      start.addEventListener("click", () =>
        control(`Starting ${sc.name}…`, () => api("PUT", "/admin/scenario", { name: sc.name }), `${sc.name} started.`));
      const row = el("tr", {},
        el("td", { title: sc.story || "" }, el("strong", {}, sc.name)),
        el("td", { className: "num" }, clock(seconds(sc.duration))),
        el("td", {}, start));
      row.dataset.scenario = sc.name;
      body.append(row);
    }
  }

  // ---- traffic, faults, figures, requests --------------------------------------------

  function drawTraffic(t) {
    const p = $("traffic-status");
    p.replaceChildren(
      el("span", { className: "pill " + (t.paused ? "temp" : "idle") }, t.paused ? "paused" : t.running ? "sending" : "stopped"), " ",
      el("strong", { id: "traffic-rate-now" }, number(t.target_rate, 1) + " req/s"), " now · ",
      t.shape === "steady" ? `steady at ${t.rate}` : `${t.shape}: ${t.rate} to ${t.peak || t.rate} req/s every ${t.period}`);
    if (t.until) p.append(el("span", { className: "pill temp" }, "until " + timeOfDay(t.until)));
    $("traffic-pause").textContent = t.paused ? "Resume" : "Pause";
    if (!formFilled) {
      $("traffic-rate").value = t.rate;
      $("traffic-shape").value = t.shape;
      $("traffic-peak").value = t.peak || "";
      $("traffic-period").value = t.period && t.period !== "0s" ? t.period : "";
      formFilled = true;
    }
  }

  function drawFaults(list, drill) {
    const dl = $("faults-list");
    dl.replaceChildren();
    if (drill) { // a drill runs: the faults are found from their symptoms, not read here
      dl.append(el("dt", {}, "drill"), el("dd", {}, el("span", { className: "muted" }, "hidden while a drill runs")));
      return;
    }
    for (const f of list) {
      const dd = el("dd", {});
      if (f.error) dd.append(el("span", { className: "bad" }, f.error));
      else if (f.active.length === 0) dd.append(el("span", { className: "muted" }, "none"));
      else for (const k of f.active) dd.append(el("span", { className: "knob" }, `${k.knob}=${k.value}`));
      dl.append(el("dt", {}, f.service), dd);
    }
  }

  function drawFigures(list) {
    const body = $("figures").querySelector("tbody");
    body.replaceChildren();
    let window = 0;
    for (const f of list) {
      window = Math.max(window, f.window_seconds || 0);
      const errors = f.error_ratio === null ? "—" : (f.error_ratio * 100).toFixed(1) + " %";
      const row = el("tr", {},
        el("th", { scope: "row" }, f.service),
        el("td", { className: "num" }, number(f.request_rate, 1)),
        el("td", { className: "num" + (f.error_ratio > 0.01 ? " bad" : "") }, errors),
        el("td", { className: "num" }, duration(f.p99_seconds)));
      if (f.error) row.append(el("td", { className: "bad small" }, f.error));
      body.append(row);
    }
    $("figures-note").textContent = window > 0
      ? `From each service's own /metrics, over the last ${Math.round(window)} s; admin endpoints left out.`
      : "From each service's own /metrics: the figures appear with the second reading.";
  }

  function statusBadge(r) {
    if (!r.status) return el("span", { className: "code failed" }, "none");
    const kind = r.status < 400 ? "ok" : r.status < 500 ? "client" : "server";
    return el("span", { className: "code " + kind }, String(r.status));
  }

  function drawRecent(list) {
    const body = $("recent").querySelector("tbody");
    body.replaceChildren();
    if (list.length === 0) {
      body.append(el("tr", {}, el("td", { colSpan: 5, className: "muted" }, "No requests yet: the traffic is idle at 0 req/s.")));
      return;
    }
    for (const r of list.slice(0, 15)) {
      let trace = el("span", { className: "muted" }, "—");
      if (r.trace_url) trace = el("a", { href: r.trace_url, className: "trace-link" }, r.trace_id);
      else if (r.trace_id) trace = el("code", { className: "copy", title: "Run it to see the trace" }, r.trace_command);
      body.append(el("tr", {},
        el("td", {}, timeOfDay(r.at)),
        el("td", {}, r.path),
        el("td", {}, statusBadge(r)),
        el("td", { className: "num" }, r.duration_ms < 1000 ? r.duration_ms.toFixed(1) + " ms" : (r.duration_ms / 1000).toFixed(2) + " s"),
        el("td", {}, trace)));
    }
  }

  // ---- the loop and the controls ------------------------------------------------------

  // refresh reads the state and draws it, then again in refreshMs. A refresh asked for while
  // one is under way (a click during a poll) runs right after it, so that one loop goes on.
  let refreshing = false;
  let again = false;
  async function refresh() {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = true;
    clearTimeout(timer);
    let next = true;
    try {
      if (library === null) {
        library = await api("GET", "/admin/scenarios").catch((e) => {
          if (e instanceof NeedsToken) throw e;
          return []; // a frontend without scenarios
        });
        drawLibrary(library);
      }
      state = await api("GET", "/admin/console/state");
      $("token-form").hidden = true;
      $("panels").hidden = false;
      drawScenario(state.scenario);
      drawTraffic(state.traffic);
      drawFaults(state.faults, state.drill);
      drawFigures(state.figures);
      drawRecent(state.recent);
      document.body.dataset.loaded = "true";
    } catch (e) {
      if (e instanceof NeedsToken) {
        askForToken(e.message);
        next = false; // no polling until there is a token
      } else {
        say("Could not read the state: " + e.message, "error");
      }
    } finally {
      refreshing = false;
    }
    if (again) {
      again = false;
      refresh();
    } else if (next) {
      timer = setTimeout(refresh, refreshMs);
    }
  }

  function askForToken(why) {
    $("panels").hidden = true;
    $("token-form").hidden = false;
    say(sessionStorage.getItem(tokenKey) ? "That token was refused: " + why : "The admin API needs its token.", "error");
    $("token-input").focus();
  }

  // control runs one action, says how it went (done: a message, or one made from the answer)
  // and refreshes at once.
  async function control(doing, action, done) {
    say(doing);
    try {
      const answer = await action();
      say(typeof done === "function" ? done(answer) : done || "Done.", "ok");
    } catch (e) {
      if (e instanceof NeedsToken) return askForToken(e.message);
      say(e.message, "error");
    }
    refresh();
  }

  function trafficChange() {
    const change = { rate: parseFloat($("traffic-rate").value), shape: $("traffic-shape").value };
    const peak = $("traffic-peak").value;
    const period = $("traffic-period").value.trim();
    const lasting = $("traffic-duration").value.trim();
    if (peak !== "") change.peak = parseFloat(peak);
    if (period !== "") change.period = period;
    if (lasting !== "") change.duration = lasting;
    return change;
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("token-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      sessionStorage.setItem(tokenKey, $("token-input").value.trim());
      $("token-input").value = "";
      say("");
      library = null;
      refresh();
    });
    $("scenario-stop").addEventListener("click", () =>
      control("Stopping the scenario…", () => api("DELETE", "/admin/scenario"), "Stopped: each service has its own faults back, the traffic is as it was."));
    $("scenario-blind").addEventListener("click", () =>
      control("Starting a blind scenario…", () => api("PUT", "/admin/scenario", { blind: true }), "A blind scenario runs: find out what it is."));
    $("scenario-reveal").addEventListener("click", () =>
      control("Revealing…", () => api("GET", "/admin/scenario/reveal"), (r) => `It is ${r.scenario}: ${r.title}.`));
    $("traffic-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      control("Changing the traffic…", async () => {
        await api("PATCH", "/admin/traffic", trafficChange());
        formFilled = false;
      }, "Traffic changed.");
    });
    $("traffic-pause").addEventListener("click", () => {
      const paused = state && state.traffic.paused;
      control(paused ? "Resuming…" : "Pausing…", () => api("PATCH", "/admin/traffic", { paused: !paused }), paused ? "Resumed." : "Paused.");
    });
    $("clear-faults").addEventListener("click", () =>
      control("Clearing every service's faults…", () => api("POST", "/admin/console/clear-faults", {}), "Every fault is off."));
    refresh();
  });
})();
