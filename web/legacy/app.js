// EstateFlow staff app: a thin client of the REST API. Every action is an API call with the user's token,
// so the server's rules and authorisation apply unchanged; the app only hides what a role may not do.
import { MESSAGES, reasonText, t, getLang, setLang, serverMessage } from "./i18n.js";

const STAFF = ["frontdesk", "sales", "manager", "finance", "legal", "marketing", "citygm", "hqrisk", "ops"];
const ACCESS = {
  intake: ["frontdesk", "sales", "manager", "citygm"],
  cases: STAFF, board: STAFF,
  warnings: ["sales", "manager", "citygm", "hqrisk", "ops"],
  stats: ["manager", "marketing", "finance", "citygm", "hqrisk", "ops", "sales"],
  refunds: ["finance", "manager", "citygm", "hqrisk", "ops"],
  qr: ["frontdesk", "manager"],
  evidence: ["frontdesk", "sales", "manager", "finance", "legal", "marketing", "citygm"],
  temporal: ["ops", "hqrisk", "manager"],
};
const NAV = [["home", "nav_home"], ["intake", "nav_intake"], ["cases", "nav_cases"], ["board", "nav_board"], ["warnings", "nav_warnings"],
  ["stats", "nav_stats"], ["refunds", "nav_refunds"], ["qr", "nav_qr"], ["policy", "nav_policy"]];
const MAX_UPLOAD_MB = 10;
const UPLOAD_TYPES = ["application/pdf", "image/jpeg", "image/png", "image/webp"];

// The access token lives minutes; the refresh token gets the next one (each works once: the answer
// carries its successor). Sign-out ends the session on the server.
const session = {
  get token() { return sessionStorage.getItem("ef.token"); },
  get refreshToken() { return sessionStorage.getItem("ef.refresh"); },
  get user() { try { return JSON.parse(sessionStorage.getItem("ef.user")); } catch { return null; } },
  set(tok) {
    sessionStorage.setItem("ef.token", tok.access_token); sessionStorage.setItem("ef.refresh", tok.refresh_token);
    sessionStorage.setItem("ef.user", JSON.stringify({ username: tok.username, role: tok.role, name: tok.display_name }));
  },
  clear() { for (const k of ["ef.token", "ef.refresh", "ef.user"]) sessionStorage.removeItem(k); },
};
let refreshing = null; // one refresh at a time: concurrent 401s wait for the same one
function refreshSession() {
  const token = session.refreshToken;
  if (!token) return Promise.resolve(false);
  refreshing ??= fetch("/api/auth/refresh", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: token }) })
    .then(async (res) => { if (!res.ok) return false; session.set(await res.json()); return true; })
    .catch(() => false)
    .finally(() => { refreshing = null; });
  return refreshing;
}
function signOut() {
  const token = session.refreshToken;
  session.clear();
  if (token) fetch("/api/auth/sign-out", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: token }) }).catch(() => {});
}
const may = (what) => !!session.user && (ACCESS[what] || STAFF).includes(session.user.role);

// ------------------------------------------------------------------ helpers

export const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
/** Only http(s) addresses go into an href. */
const safeUrl = (u) => { try { return ["http:", "https:"].includes(new URL(u, location.href).protocol) ? u : "#"; } catch { return "#"; } };
const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
const main = () => $("#main");

/** Money arrives as a decimal string; it is formatted as text, never turned into a float. */
export function fmtMoney(s) {
  if (s === null || s === undefined || s === "") return "—";
  const str = String(s);
  if (!/^-?\d+(\.\d+)?$/.test(str)) return esc(str); const neg = str.startsWith("-"); const [i, f = ""] = str.replace("-", "").split(".");
  const frac = (f + "00").slice(0, 2);
  return `${neg ? "-" : ""}¥${i.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}.${frac}`;
}
const fmtShare = (s) => (s === null || s === undefined ? "—" : `${(Number(s) * 100).toFixed(2).replace(/\.?0+$/, "")}%`);
function fmtTime(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(getLang() === "zh" ? "zh-CN" : "en-GB", { timeZone: "Asia/Shanghai", hour12: false });
}
/** A translated name from a nested dictionary (events.intake), or the raw value when there is none. */
function label(group, key) {
  const out = t(`${group}.${key}`);
  return out === `${group}.${key}` ? key : out;
}
const MONEY_RE = /^\d{1,10}(\.\d{1,2})?$/;
const SHARE_RE = /^(0(\.\d{1,4})?|1(\.0{1,4})?)$/;

// A render that the user has navigated away from must not write over the new screen: every API call
// remembers the render it started in, and one that returns into a later render throws Stale, which
// render() and showError() ignore.
let renderGen = 0;
class Stale extends Error {}

class ApiError extends Error {
  constructor(status, detail, errors = []) { super(detail); this.status = status; this.detail = detail; this.errors = errors; }
}

async function api(path, { method = "GET", body, form, raw } = {}) {
  const gen = renderGen;
  let payload;
  const headers = {};
  if (form) payload = form;
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  const send = () => {
    if (session.token) headers.Authorization = `Bearer ${session.token}`;
    return fetch(path, { method, headers, body: payload });
  };
  let res = await send();
  if (res.status === 401 && session.token && !path.startsWith("/api/auth/")) {
    // the access token expired (or the session ended): refresh once and send again, else sign in again
    if (await refreshSession()) res = await send();
    if (res.status === 401) {
      session.clear(); go("login", { next: location.hash.slice(1), expired: 1 }); throw new ApiError(401, t("session_expired"));
    }
  }
  if (gen !== renderGen && method === "GET") throw new Stale(path);
  if (!res.ok) {
    let data = {};
    try { data = await res.json(); } catch { /* not JSON */ }
    const detail = typeof data.detail === "string" ? data.detail : res.statusText;
    throw new ApiError(res.status, detail, data.errors || []);
  }
  if (raw) return res;
  const data = res.status === 204 ? null : await res.json();
  if (gen !== renderGen && method === "GET") throw new Stale(path);
  return data;
}

function errorTitle(status) {
  return { 403: t("refused"), 404: t("not_found"), 409: t("conflict"), 413: t("invalid"), 422: t("invalid") }[status] || t("error");
}
function banner(kind, text, title = "") {
  return `<div class="banner ${kind}" role="${kind === "error" ? "alert" : "status"}">${title ? `<strong>${esc(title)}：</strong>` : ""}${esc(text)}</div>`;
}
function showError(where, err) {
  const el = typeof where === "string" ? $(where) : where;
  if (!el || err instanceof Stale) return;
  el.innerHTML = err instanceof ApiError ? banner("error", serverMessage(err.detail), errorTitle(err.status)) : banner("error", String(err.message || err), t("error"));
  el.scrollIntoView?.({ block: "nearest" });
}

// Which field a server message is about, so the message can sit next to it.
const FIELD_HINTS = [["ID number", "id_number"], ["mobile", "mobile"], ["main reason", "reasons"], ["alternatives", "willing_to_consider"],
  ["commission", "commission_accrued"], ["share", "proposed_share"], ["options", "options"], ["option", "option"],
  ["replacement buyer", "new_customer_id"], ["summary", "summary"], ["file", "file"]];

function clearFieldErrors(form) {
  $$(".field-error", form).forEach((e) => e.remove());
  $$("[aria-invalid]", form).forEach((e) => e.removeAttribute("aria-invalid"));
}
function fieldError(form, name, message) {
  const input = form.querySelector(`[name="${CSS.escape(name)}"]`);
  const holder = input ? input.closest(".field, fieldset") : null;
  if (!holder) return false;
  if (input) { input.setAttribute("aria-invalid", "true"); input.setAttribute("aria-describedby", `err-${name}`); }
  holder.insertAdjacentHTML("beforeend", `<div class="field-error" id="err-${esc(name)}">${esc(message)}</div>`);
  return true;
}
function serverErrorsToFields(form, err) {
  let placed = false;
  for (const e of err.errors || []) {
    const parts = String(e.field || "").split(".").filter((p) => !["body", "query", "path"].includes(p));
    const name = parts[0] === "options" && parts[2] === "compensation" ? "compensation" : parts[0] === "options" ? "offer" : parts[0];
    if (name) placed = fieldError(form, name, `${t("invalid")}：${e.message}`) || placed;
  }
  if (!placed && err.status === 422) {
    const hit = FIELD_HINTS.find(([needle]) => err.detail.includes(needle));
    if (hit) placed = fieldError(form, hit[1], serverMessage(err.detail));
  }
  return placed;
}

// Live countdowns: every element with data-due is rewritten each second.
function fmtLeft(ms) {
  const s = Math.floor(Math.abs(ms) / 1000); const hh = Math.floor(s / 3600); const mm = Math.floor((s % 3600) / 60); const ss = s % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return hh ? `${hh}:${pad(mm)}:${pad(ss)}` : `${pad(mm)}:${pad(ss)}`;
}
function tick() {
  const now = Date.now();
  for (const el of $$("[data-due]")) {
    const left = new Date(el.dataset.due).getTime() - now;
    el.textContent = left >= 0 ? `${t("remaining")} ${fmtLeft(left)}` : `${t("overdue_by")} ${fmtLeft(left)}`;
    el.classList.toggle("overdue", left < 0);
    el.closest("li")?.classList.toggle("is-overdue", left < 0);
  }
}
const countdown = (iso, big = false) => (iso ? `<span class="countdown${big ? " clock-big" : ""}" data-due="${esc(iso)}" role="timer"></span>` : `<span class="muted">${t("no_deadline")}</span>`);

async function download(path, fallbackName, where = "#main") {
  let res;
  try { res = await api(path, { raw: true }); } catch (err) { showError($(where)?.querySelector(".dl-msg") || $(where), err); return; }
  const cd = res.headers.get("Content-Disposition") || "";
  const m = cd.match(/filename\*=UTF-8''([^;]+)/);
  const name = m ? decodeURIComponent(m[1]) : fallbackName;
  const url = URL.createObjectURL(await res.blob());
  const a = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(a); a.click(); a.remove(); setTimeout(() => URL.revokeObjectURL(url), 5000);
}

let projectsCache = null;
async function projects() {
  if (!projectsCache) projectsCache = await api("/api/projects");
  return projectsCache;
}

// ------------------------------------------------------------------ router

let timers = [];
const every = (ms, fn) => timers.push(setInterval(fn, ms));
function go(route, params = {}) {
  const q = new URLSearchParams(params).toString();
  location.hash = `#/${route}${q ? `?${q}` : ""}`;
}
function parseHash() {
  const [path, query = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const parts = path.split("/").filter(Boolean);
  return { name: parts[0] || "home", arg: parts[1], params: Object.fromEntries(new URLSearchParams(query)) };
}

const VIEWS = {};
const PUBLIC = new Set(["login", "policy"]);

async function render() {
  timers.forEach(clearInterval); timers = [];
  const gen = ++renderGen;
  const r = parseHash();
  if (!PUBLIC.has(r.name) && !session.token) { go("login", { next: location.hash.slice(1) || "/home" }); return; }
  renderHeader(r.name);
  const view = VIEWS[r.name] || VIEWS.home;
  main().innerHTML = `<p class="muted">${t("loading")}</p>`;
  try {
    await view(r);
  } catch (err) {
    if (err instanceof Stale || gen !== renderGen) return;
    showError(main(), err);
  }
  if (gen !== renderGen) return;
  tick();
  main().focus({ preventScroll: true });
}

function renderHeader(current) {
  const u = session.user;
  const links = u ? NAV.filter(([name]) => name === "home" || name === "policy" || may(name)) : [["policy", "nav_policy"]];
  $("#top").innerHTML = `
    <a class="brand" href="#/home">${t("app")}</a>
    ${u ? `<span class="who" data-testid="who">${esc(u.name || u.username)} · ${esc(t(`roles.${u.role}`))}</span>` : ""}
    <button type="button" id="lang" lang="${getLang() === "zh" ? "en" : "zh-CN"}">${t("lang_switch")}</button>
    ${u ? `<button type="button" id="signout">${t("signout")}</button>` : ""}
    <nav aria-label="${esc(t("nav_label"))}">${links.map(([name, key]) => `<a href="#/${name}" ${name === current ? 'aria-current="page"' : ""}>${t(key)}</a>`).join("")}</nav>`;
  $("#lang").onclick = () => { setLang(getLang() === "zh" ? "en" : "zh"); render(); };
  if ($("#signout")) $("#signout").onclick = () => { signOut(); projectsCache = null; go("login"); };
  document.title = t("app");
}

// ------------------------------------------------------------------ views

VIEWS.login = async ({ params }) => {
  main().innerHTML = `
    <h1>${t("login_title")}</h1>
    <form id="login" class="card" novalidate>
      <div id="login-msg">${params.expired ? banner("info", t("session_expired")) : ""}</div>
      <div class="field"><label for="username">${t("username")}</label><input id="username" name="username" autocomplete="username" required></div>
      <div class="field"><label for="password">${t("password")}</label><input id="password" name="password" type="password" autocomplete="current-password" required></div>
      <button type="submit">${t("login")}</button>
    </form>
    <p><a href="#/policy">${t("nav_policy")}</a></p>`;
  $("#login").onsubmit = async (ev) => {
    ev.preventDefault();
    const form = ev.target; clearFieldErrors(form);
    const fd = new FormData(form);
    let bad = false;
    for (const n of ["username", "password"]) if (!String(fd.get(n) || "").trim()) bad = fieldError(form, n, t("required")) || true;
    if (bad) return;
    try {
      const tok = await api("/api/auth/token", { method: "POST", form: new URLSearchParams(fd) });
      session.set(tok);
      location.hash = `#${params.next && params.next !== "/login" ? params.next : "/home"}`;
    } catch (err) { showError("#login-msg", err); }
  };
};

function homeItems(tasks) {
  if (!tasks.length) return `<li class="muted">${t("no_tasks")}</li>`;
  return tasks.map((tk) => `<li class="${tk.overdue ? "is-overdue" : ""}">
    <span><a href="#/task/${esc(tk.id)}">${esc(t(`kinds.${tk.kind}`))}</a> · ${esc(tk.case_no)}<br><span class="muted">${esc(tk.title)}</span></span>
    ${countdown(tk.due_at)}</li>`).join("");
}

VIEWS.home = async () => {
  const u = session.user;
  const tasks = await api("/api/tasks");
  main().innerHTML = `
    <h1>${t("hello", { name: esc(u.name || u.username) })} <span class="muted">${esc(t(`roles.${u.role}`))}</span></h1>
    ${may("intake") ? `<p><a class="btn" href="#/intake">${t("nav_intake")}</a></p>` : ""}
    <section class="card" aria-labelledby="tasks-h">
      <h2 id="tasks-h">${t("my_tasks")} <span class="pill" data-testid="task-count">${tasks.length}</span></h2>
      <ul class="tasks" data-testid="tasks">${homeItems(tasks)}</ul>
    </section>`;
  if (may("warnings")) {
    const ws = await api("/api/warnings");
    main().insertAdjacentHTML("beforeend", `<section class="card"><h2><a href="#/warnings">${t("open_warnings")}</a> <span class="pill">${ws.length}</span></h2>
      ${ws.slice(0, 5).map((w) => `<p><span class="pill ${esc(w.level)}">${esc(t(`levels.${w.level}`))}</span> ${esc(w.case_ref)} ${countdown(w.response_due)}</p>`).join("")}</section>`);
  }
  every(20000, async () => {
    try {
      const fresh = await api("/api/tasks");
      const list = $("[data-testid=tasks]");
      if (list) list.innerHTML = homeItems(fresh);
      $("[data-testid=task-count]").textContent = fresh.length;
      tick();
    } catch { /* the next refresh tries again */ }
  });
};

// --- front desk: find the unit, register, take the intake -------------------------------

function subscriptionCard(item) {
  const s = item.subscription;
  return `<dl class="kv">
    <dt>${t("unit")}</dt><dd>${esc(item.label)} · ${esc(item.layout || "")} · ${esc(t(`states.${item.state}`))}</dd>
    ${s ? `<dt>${t("customer")}</dt><dd>${esc(s.customer_name)} ${esc(s.customer_mobile)}</dd>
    <dt>${t("subscribed_at")}</dt><dd>${fmtTime(s.subscribed_at)}</dd>
    <dt>${t("sub_stage")}</dt><dd>${esc(t(`tier_stages.${s.stage}`))}</dd>
    <dt>${t("deposit")}</dt><dd>${fmtMoney(s.deposit_amount)} (${esc(s.deposit_kind)})</dd>
    <dt>${t("paid")}</dt><dd>${fmtMoney(s.paid_amount)}</dd>
    <dt>${t("consultant")}</dt><dd>${esc(s.consultant || "")}</dd>` : ""}
  </dl>`;
}

VIEWS.intake = async ({ params }) => {
  const list = await projects();
  const pid = params.project || (list[0] && list[0].id);
  main().innerHTML = `
    <h1>${t("intake_title")}</h1>
    <form id="find" class="card" role="search" novalidate>
      <div class="field"><label for="q">${t("intake_find")}</label>
        <div class="row"><input id="q" name="q" type="search" inputmode="text" placeholder="${esc(t("intake_find_hint"))}" class="grow" value="${esc(params.q || "")}">
        <button type="submit">${t("search")}</button></div></div>
    </form>
    <div id="find-msg"></div>
    <ul id="results" class="tasks" aria-live="polite"></ul>
    <div id="picked"></div>`;
  const pick = (item) => {
    const s = item.subscription;
    $("#picked").innerHTML = `<section class="card">${subscriptionCard(item)}
      <div id="reg-msg"></div>
      ${!s ? banner("info", t("intake_no_sub")) : s.open_case_id ? `${banner("info", t("intake_open_case"))}<a class="btn secondary" href="#/case/${esc(s.open_case_id)}">${t("open")}</a>`
        : may("intake") ? `<button type="button" id="register">${t("intake_register")}</button>` : ""}</section>`;
    const btn = $("#register");
    if (btn) btn.onclick = async () => {
      btn.disabled = true;
      const g = renderGen;
      try {
        const c = await api("/api/refund-cases", { method: "POST", body: { subscription_id: s.id } });
        if (g !== renderGen) return;
        const mine = c.open_tasks.find((tk) => tk.kind === "intake" && tk.role === session.user.role);
        if (mine) go(`task/${mine.id}`, { registered: 1 }); else go(`case/${c.id}`);
      } catch (err) { btn.disabled = false; showError("#reg-msg", err); }
    };
  };
  $("#find").onsubmit = async (ev) => {
    ev.preventDefault();
    const form = ev.target; clearFieldErrors(form); $("#find-msg").innerHTML = "";
    const q = String(new FormData(form).get("q") || "").trim();
    if (!q) { fieldError(form, "q", t("required")); return; }
    try {
      const items = await api(`/api/units/lookup?project_id=${encodeURIComponent(pid)}&q=${encodeURIComponent(q)}`);
      $("#results").innerHTML = items.length ? items.map((it, i) => `<li><button type="button" class="secondary" data-i="${i}">${esc(it.label)}</button>
        <span class="muted">${esc(t(`states.${it.state}`))}${it.subscription ? ` · ${esc(it.subscription.customer_name)}` : ""}</span></li>`).join("")
        : `<li class="muted">${t("not_found")}</li>`;
      $$("#results button").forEach((b) => { b.onclick = () => pick(items[Number(b.dataset.i)]); });
      const exact = items.find((it) => it.label === q);
      if (exact || items.length === 1) pick(exact || items[0]);
    } catch (err) { showError("#find-msg", err); }
  };
  if (params.q) $("#find").requestSubmit();
};

// --- a task: the case summary, the others' opinions, the form for this kind -------------------

function optionLabel(o) {
  const extra = o.kind === "B" ? ` ${fmtMoney(o.refund_amount)} (${fmtShare(o.refund_share)})` : o.kind === "A" && o.compensation ? ` ${fmtMoney(o.compensation)}` : "";
  return `${t(`options.${o.kind}`)}${extra}${o.description ? ` — ${o.description}` : ""}`;
}

function caseSummary(c) {
  const a = c.assessments || {};
  const opinion = (dept) => {
    const x = a[dept];
    if (!x) return `<span class="muted">${t("not_yet")}</span>`;
    const bits = [x.by, x.note];
    if (x.loss) bits.push(`${t("loss_total")} ${fmtMoney(x.loss.total)}`, x.proposed_share ? `${t("share_short")} ${fmtShare(x.proposed_share)}` : "");
    if (x.fault) bits.push(t(`faults.${x.fault}`));
    if (x.opinion_risk) bits.push(`${t("opinion_risk")} ${t(`risks.${x.opinion_risk}`)}`);
    if (x.media_involved) bits.push(t("media"));
    if (x.group_complaint) bits.push(t("group_complaint"));
    return esc(bits.filter(Boolean).join(" · "));
  };
  const p = c.refund_preview;
  return `<section class="card" aria-labelledby="sum-h"><h2 id="sum-h">${t("case_summary")} ${esc(c.case_no)}</h2>
    <dl class="kv">
      <dt>${t("unit")}</dt><dd>${esc(c.unit)}</dd>
      <dt>${t("customer")}</dt><dd>${esc(c.customer_name)} ${esc(c.customer_mobile)}</dd>
      <dt>${t("stage")}</dt><dd data-testid="stage">${esc(t(`stages.${c.stage}`))}</dd>
      <dt>${t("subscribed_at")}</dt><dd data-testid="subscribed-at">${fmtTime(c.subscribed_at)}</dd>
      <dt>${t("deposit")}</dt><dd>${fmtMoney(c.deposit_amount)} ${c.deposit_kind ? `(${esc(c.deposit_kind)})` : ""} · ${t("paid")} ${fmtMoney(c.paid_amount)}</dd>
      <dt>${t("registered_at")}</dt><dd>${fmtTime(c.registered_at)}</dd>
      <dt>${t("loss_total")}</dt><dd>${fmtMoney(c.loss_total)}</dd>
      ${p ? `<dt>${t("refund_preview")}</dt><dd data-testid="refund-preview">${p.amount ? `${fmtMoney(p.amount)} = ${fmtMoney(p.base)} × ${fmtShare(p.share)}` : "—"} <span class="muted">${esc(p.explanation || "")}</span></dd>` : ""}
      ${c.escalation_reasons?.length ? `<dt>${t("escalated_because")}</dt><dd data-testid="escalation-reasons">${c.escalation_reasons.map((r) => esc(reasonText(r))).join("；")}</dd>` : ""}
    </dl>
    <h3>${t("opinions")}</h3>
    <dl class="kv">${["finance", "legal", "marketing"].map((d) => `<dt>${t(`depts.${d}`)}</dt><dd>${opinion(d)}</dd>`).join("")}</dl>
    ${c.options?.length ? `<h3>${t("options_offered")}</h3><ul>${c.options.map((o) => `<li>${esc(optionLabel(o))}</li>`).join("")}</ul>` : ""}
  </section>`;
}

const field = (name, label, input, hint = "") => `<div class="field"><label for="f-${name}">${esc(label)}</label>${input}${hint ? `<div class="muted">${esc(hint)}</div>` : ""}</div>`;
const text = (name, attrs = "") => `<input id="f-${name}" name="${name}" ${attrs}>`;
const area = (name) => `<textarea id="f-${name}" name="${name}"></textarea>`;
const check = (name, label, value = "true") => `<label class="choice"><input type="checkbox" name="${name}" value="${esc(value)}"> ${esc(label)}</label>`;
const radios = (name, legend, pairs) => `<fieldset><legend>${esc(legend)}</legend>${pairs.map(([v, l]) => `<label class="choice"><input type="radio" name="${name}" value="${esc(v)}"> ${esc(l)}</label>`).join("")}</fieldset>`;

function formFor(kind, role, c) {
  switch (kind) {
    case "intake": return `
      ${field("id_number", t("id_number"), text("id_number", 'autocomplete="off" inputmode="text" maxlength="18"'))}
      ${field("mobile", t("mobile"), text("mobile", 'type="tel" autocomplete="off" inputmode="numeric" maxlength="11"'))}
      <fieldset><legend>${t("main_reasons")}</legend>${["family_disagreement", "funds_shortfall", "competitor_comparison", "other"].map((r) => check("reasons", t(`reasons.${r}`), r)).join("")}</fieldset>
      ${field("reason_text", t("reason_text"), area("reason_text"))}
      ${radios("willing_to_consider", t("willing_label"), ["yes", "no", "negotiate"].map((v) => [v, t(`willing.${v}`)]))}
      ${field("recording_ref", t("recording_ref"), text("recording_ref"))}`;
    case "assessment":
      if (role === "finance") return `
        ${field("commission_accrued", t("commission"), text("commission_accrued", 'inputmode="decimal"'))}
        ${field("advertising_allocation", t("advertising"), text("advertising_allocation", 'inputmode="decimal"'))}
        ${field("opportunity_cost", t("opportunity"), text("opportunity_cost", 'inputmode="decimal"'))}
        ${field("proposed_share", t("proposed_share"), text("proposed_share", 'inputmode="decimal"'))}
        <div class="field">${check("contract_confirmed", t("contract_confirmed"))}</div>
        ${field("note", t("note"), area("note"))}`;
      if (role === "legal") return `
        ${radios("fault", t("fault"), ["buyer", "neither", "developer"].map((v) => [v, t(`faults.${v}`)]))}
        ${field("note", t("note"), area("note"))}`;
      return `
        ${radios("opinion_risk", t("opinion_risk"), ["low", "medium", "high"].map((v) => [v, t(`risks.${v}`)]))}
        <div class="field">${check("media_involved", t("media"))}${check("group_complaint", t("group_complaint"))}</div>
        ${field("note", t("note"), area("note"))}`;
    case "gm_approval": return `
      ${radios("approve", t("gm_note"), [["true", t("approve")], ["false", t("reject")]])}
      ${field("note", t("note"), area("note"))}`;
    case "solution": return `<fieldset><legend>${t("offer_options")}</legend>${["A", "B", "C"].map((k) => `
      <div class="card">${check("offer", t(`options.${k}`), k)}
        ${field(`desc_${k}`, t("description"), text(`desc_${k}`))}
        ${k === "A" ? field("compensation", t("compensation"), text("compensation", 'inputmode="decimal"')) : ""}
        ${k === "C" ? check("fee_waiver", t("fee_waiver")) : ""}</div>`).join("")}</fieldset>`;
    case "choice": return `
      ${radios("option", t("buyer_choice"), (c.options || []).map((o) => [o.kind, optionLabel(o)]))}
      ${field("new_customer_id", t("new_customer"), text("new_customer_id", 'inputmode="numeric"'))}
      ${field("note", t("note"), area("note"))}`;
    case "contract_cancellation": return `${field("note", t("note"), area("note"))}`;
    case "archive": return `${field("summary", t("summary"), area("summary"))}${field("lessons", t("lessons"), area("lessons"))}`;
    default: return `${field("note", t("note"), area("note"))}`;
  }
}

/** Client-side checks in the user's language; returns the body, or null after marking the fields. */
function collect(kind, role, form) {
  const fd = new FormData(form); const v = (n) => String(fd.get(n) ?? "").trim(); const errs = [];
  const body = {};
  const note = v("note"); if (note) body.note = note;
  const money = (n, required) => {
    const s = v(n);
    if (!s) { if (required) errs.push([n, t("required")]); return; }
    if (!MONEY_RE.test(s)) errs.push([n, t("invalid_money")]); else body[n] = s;
  };
  if (kind === "intake") {
    const id = v("id_number").toUpperCase(); const mob = v("mobile");
    if (!id) errs.push(["id_number", t("required")]); else if (!/^\d{17}[\dX]$/.test(id)) errs.push(["id_number", t("invalid_id")]);
    if (!mob) errs.push(["mobile", t("required")]); else if (!/^1\d{10}$/.test(mob)) errs.push(["mobile", t("invalid_mobile")]);
    const reasons = fd.getAll("reasons"); if (!reasons.length) errs.push(["reasons", t("choose_one")]);
    if (!v("willing_to_consider")) errs.push(["willing_to_consider", t("required")]);
    Object.assign(body, { id_number: id, mobile: mob, reasons, reason_text: v("reason_text"), willing_to_consider: v("willing_to_consider") || null, recording_ref: v("recording_ref") });
  } else if (kind === "assessment" && role === "finance") {
    money("commission_accrued", true); money("advertising_allocation"); money("opportunity_cost");
    const sh = v("proposed_share"); if (sh) { if (!SHARE_RE.test(sh)) errs.push(["proposed_share", t("invalid_share")]); else body.proposed_share = sh; }
    body.contract_confirmed = fd.get("contract_confirmed") === "true";
  } else if (kind === "assessment" && role === "legal") {
    if (!v("fault")) errs.push(["fault", t("required")]); else body.fault = v("fault");
  } else if (kind === "assessment") {
    if (!v("opinion_risk")) errs.push(["opinion_risk", t("required")]); else body.opinion_risk = v("opinion_risk");
    body.media_involved = fd.get("media_involved") === "true"; body.group_complaint = fd.get("group_complaint") === "true";
  } else if (kind === "gm_approval") {
    if (!v("approve")) errs.push(["approve", t("required")]); else body.approve = v("approve") === "true";
  } else if (kind === "solution") {
    const kinds = fd.getAll("offer");
    if (kinds.length < 2) errs.push(["offer", t("choose_two")]);
    body.options = kinds.map((k) => {
      const o = { kind: k, description: v(`desc_${k}`) };
      if (k === "A") {
        const s = v("compensation");
        if (!s) errs.push(["compensation", t("required")]);
        else if (!MONEY_RE.test(s) || /^0+(\.0+)?$/.test(s)) errs.push(["compensation", t("invalid_money")]);
        else o.compensation = s;
      }
      if (k === "C") o.fee_waiver = fd.get("fee_waiver") === "true";
      return o;
    });
  } else if (kind === "choice") {
    if (!v("option")) errs.push(["option", t("required")]); else body.option = v("option");
    if (v("option") === "C") { if (!/^\d+$/.test(v("new_customer_id"))) errs.push(["new_customer_id", t("required")]); else body.new_customer_id = Number(v("new_customer_id")); }
  } else if (kind === "archive") {
    if (!v("summary")) errs.push(["summary", t("required")]); else body.summary = v("summary");
    body.lessons = v("lessons");
  }
  errs.forEach(([n, m]) => fieldError(form, n, m));
  if (errs.length) form.querySelector("[aria-invalid]")?.focus();
  return errs.length ? null : body;
}

function evidenceBlock(c) {
  const canUpload = may("evidence") && c.stage !== "closed";
  return `<section class="card" aria-labelledby="ev-h"><h2 id="ev-h">${t("evidence")}</h2>
    <ul id="ev-list" data-testid="evidence"><li class="muted">${t("loading")}</li></ul>
    ${canUpload ? `<form id="ev-form" novalidate>
      <div class="field"><label for="f-file">${t("id_scan")} / ${t("evidence")}</label>
        <input id="f-file" name="file" type="file" accept="${UPLOAD_TYPES.join(",")}"></div>
      <div id="ev-msg"></div><button type="submit" class="secondary">${t("upload")}</button></form>` : ""}
  </section>`;
}
async function wireEvidence(c) {
  const load = async () => {
    try {
      const items = await api(`/api/refund-cases/${c.id}/evidence`);
      $("#ev-list").innerHTML = items.length ? items.map((e) => `<li><button type="button" class="linklike" data-ev="${esc(e.id)}" data-name="${esc(e.filename)}">${esc(e.filename)}</button>
        <span class="muted">${Math.ceil(e.size_bytes / 1024)} KB · ${esc(e.uploaded_by_name)} · ${fmtTime(e.uploaded_at)}</span></li>`).join("") : `<li class="muted">${t("no_files")}</li>`;
      $$("#ev-list button[data-ev]").forEach((b) => { b.onclick = () => download(`/api/evidence/${b.dataset.ev}`, b.dataset.name, "#ev-list"); });
    } catch (err) { showError("#ev-list", err); }
  };
  await load();
  const form = $("#ev-form");
  if (!form) return;
  form.onsubmit = async (ev) => {
    ev.preventDefault(); clearFieldErrors(form); $("#ev-msg").innerHTML = "";
    const file = form.file.files[0];
    if (!file) return fieldError(form, "file", t("required"));
    if (!UPLOAD_TYPES.includes(file.type)) return fieldError(form, "file", t("file_type_bad"));
    if (file.size > MAX_UPLOAD_MB * 1024 * 1024) return fieldError(form, "file", t("file_too_big", { mb: MAX_UPLOAD_MB }));
    const fd = new FormData(); fd.append("file", file);
    try {
      await api(`/api/refund-cases/${c.id}/evidence`, { method: "POST", form: fd });
      form.reset(); $("#ev-msg").innerHTML = banner("ok", t("uploaded")); await load();
    } catch (err) {
      if (err instanceof Stale) return;
      if (!fieldError(form, "file", serverMessage(err.detail))) showError("#ev-msg", err);
    }
  };
}

VIEWS.task = async ({ arg, params }) => {
  const role = session.user.role;
  const mine = await api("/api/tasks");
  const task = mine.find((tk) => String(tk.id) === String(arg));
  if (!task) {
    main().innerHTML = `${banner("info", t("no_tasks"))}<p><a href="#/home">${t("back")}</a></p>`;
    return;
  }
  const c = await api(`/api/refund-cases/${task.case_id}`);
  main().innerHTML = `
    <h1>${esc(t(`kinds.${task.kind}`))} <span class="muted">${esc(task.case_no)}</span></h1>
    ${params.registered ? banner("ok", t("intake_registered")) : ""}
    <p>${task.kind === "intake" ? `${t("intake_clock")}：` : `${t("due")}：`}${countdown(task.due_at, task.kind === "intake")}</p>
    <div class="grid2">
      <div>${caseSummary(c)}${evidenceBlock(c)}</div>
      <form id="task-form" class="card" novalidate aria-labelledby="form-h">
        <h2 id="form-h">${esc(task.title)}</h2>
        ${formFor(task.kind, role, c)}
        <div id="task-msg" aria-live="assertive"></div>
        <button type="submit">${task.kind === "intake" ? t("intake_submit") : ["escalation", "review_meeting", "refund_payment"].includes(task.kind) ? t("mark_done") : task.kind === "contract_cancellation" ? t("cancel_confirm") : t("submit")}</button>
        <a class="btn secondary" href="#/case/${esc(c.id)}">${t("case")}</a>
      </form>
    </div>`;
  wireEvidence(c);
  const form = $("#task-form");
  form.onsubmit = async (ev) => {
    ev.preventDefault(); clearFieldErrors(form); $("#task-msg").innerHTML = "";
    const body = collect(task.kind, role, form);
    if (!body) return;
    const btn = form.querySelector("button[type=submit]"); btn.disabled = true;
    const g = renderGen;
    try {
      const out = await api(`/api/tasks/${task.id}/complete`, { method: "POST", body });
      if (g !== renderGen) return;
      main().innerHTML = `${banner("ok", `${t("saved")}：${t(`stages.${out.stage}`)}`)}
        <section class="card"><h2>${t("open_tasks")}</h2>${tasksList(out.open_tasks)}</section>
        <p><a class="btn" href="#/case/${esc(out.case_id)}">${t("case")}</a> <a class="btn secondary" href="#/home">${t("nav_home")}</a></p>`;
      tick();
      $("#main .banner")?.setAttribute("tabindex", "-1");
      $("#main .banner")?.focus();
    } catch (err) {
      if (g !== renderGen) return;
      btn.disabled = false;  // nothing typed is lost: the form stays as it was
      if (!serverErrorsToFields(form, err)) showError("#task-msg", err); else $("#task-msg").innerHTML = banner("error", serverMessage(err.detail), errorTitle(err.status));
    }
  };
};

function tasksList(tasks) {
  const role = session.user.role;
  if (!tasks?.length) return `<p class="muted">${t("no_tasks")}</p>`;
  return `<ul class="tasks">${tasks.map((tk) => `<li>
    <span>${tk.role === role ? `<a href="#/task/${tk.id}">${esc(t(`kinds.${tk.kind}`))}</a>` : esc(t(`kinds.${tk.kind}`))} · ${esc(t(`roles.${tk.role}`))}</span>
    ${countdown(tk.due_at)}</li>`).join("")}</ul>`;
}

// --- case page -----------------------------------------------------------------

VIEWS.case = async ({ arg }) => {
  const c = await api(`/api/refund-cases/${arg}`);
  const order = ["intake", "assessment", "solution", "archive"];
  const dl = Object.entries(c.deadlines || {}).sort(([a], [b]) => order.indexOf(a) - order.indexOf(b));
  const outcome = Object.entries(c.outcome || {}).filter(([, v]) => v !== "" && v !== null && v !== undefined);
  main().innerHTML = `
    <h1>${t("case")} ${esc(c.case_no)} <span class="pill">${esc(t(`stages.${c.stage}`))}</span></h1>
    <div class="grid2"><div>${caseSummary(c)}
      <section class="card"><h2>${t("deadlines")}</h2><dl class="kv">${dl.map(([k, iso]) => `<dt>${esc(t(`stages.${k}`))}</dt><dd>${fmtTime(iso)} ${k === c.stage ? countdown(iso) : ""}</dd>`).join("")}</dl></section>
      <section class="card"><h2>${t("outcome")}</h2><dl class="kv">
        <dt>${t("escalation_level")}</dt><dd>${esc(c.escalation_level)}${c.needs_gm ? ` · ${t("needs_gm")}` : ""}</dd>
        <dt>${t("chosen")}</dt><dd data-testid="chosen">${c.chosen_option ? esc(t(`options.${c.chosen_option}`)) : "—"}</dd>
        <dt>${t("refund_amount")}</dt><dd data-testid="refund-amount">${fmtMoney(c.refund_amount)}</dd>
        <dt>${t("outcome")}</dt><dd>${outcome.length ? outcome.map(([k, v]) => `${esc(k === "path" ? t("path") : k)}: ${esc(typeof v === "object" ? JSON.stringify(v) : v)}`).join("<br>") : "—"}</dd>
        <dt>${t("closed_at")}</dt><dd>${fmtTime(c.closed_at)}</dd>
        <dt>${t("retain_until")}</dt><dd>${fmtTime(c.retain_until)}</dd></dl></section>
      <section class="card"><h2>${t("open_tasks")}</h2>${tasksList(c.open_tasks)}</section>
      ${session.user.role === "finance" && ["gm_approval", "solution", "choice"].includes(c.stage) ? `
      <form id="revise" class="card" novalidate aria-labelledby="rev-h"><h2 id="rev-h">${t("loss_revision")}</h2>
        ${field("commission_accrued", t("commission"), text("commission_accrued", 'inputmode="decimal"'))}
        ${field("advertising_allocation", t("advertising"), text("advertising_allocation", 'inputmode="decimal"'))}
        ${field("opportunity_cost", t("opportunity"), text("opportunity_cost", 'inputmode="decimal"'))}
        ${field("proposed_share", t("proposed_share"), text("proposed_share", 'inputmode="decimal"'))}
        ${field("note", t("note"), area("note"))}
        <div id="rev-msg"></div><button type="submit" class="secondary">${t("submit")}</button></form>` : ""}
    </div><div>
      ${evidenceBlock(c)}
      <section class="card"><h2>${t("timeline")}</h2>
        ${may("temporal") ? `<p><a href="${esc(safeUrl(c.temporal_ui_url))}" target="_blank" rel="noopener" data-testid="temporal-link">${t("temporal_link")}</a></p>` : ""}
        <div id="timeline" class="table-wrap">${t("loading")}</div></section>
    </div></div>`;
  wireEvidence(c);
  const revise = $("#revise");
  if (revise) revise.onsubmit = async (ev) => {
    ev.preventDefault(); clearFieldErrors(revise); $("#rev-msg").innerHTML = "";
    const body = collect("assessment", "finance", revise);
    if (!body) return;
    delete body.contract_confirmed;
    const g = renderGen;
    try {
      await api(`/api/refund-cases/${c.id}/loss-revision`, { method: "POST", body });
      if (g === renderGen) render();
    } catch (err) { if (g === renderGen && !serverErrorsToFields(revise, err)) showError("#rev-msg", err); }
  };
  try {
    const tl = await api(`/api/refund-cases/${arg}/timeline`);
    $("#timeline").innerHTML = `<table><thead><tr><th>${t("at")}</th><th>${t("by")}</th><th>${t("event")}</th></tr></thead><tbody>
      ${tl.entries.filter((e) => e.source === "case").map((e) => `<tr><td>${fmtTime(e.at)}</td><td>${esc(e.actor)}</td><td>${esc(label("events", e.kind))}</td></tr>`).join("")}</tbody></table>`;
  } catch (err) { showError("#timeline", err); }
};

VIEWS.cases = async ({ params }) => {
  const open = params.all ? "" : "&open_only=true";
  const rows = await api(`/api/refund-cases?limit=100${open}`);
  main().innerHTML = `<h1>${t("cases")}</h1>
    <p><a href="#/cases${params.all ? "" : "?all=1"}">${params.all ? t("open_cases") : t("all_cases")}</a></p>
    <div class="table-wrap"><table><thead><tr><th>${t("case")}</th><th>${t("unit")}</th><th>${t("customer")}</th><th>${t("stage")}</th><th>${t("registered_at")}</th><th>${t("escalation")}</th><th>${t("refund_amount")}</th></tr></thead>
    <tbody>${rows.map((c) => `<tr><td><a href="#/case/${c.id}">${esc(c.case_no)}</a></td><td>${esc(c.unit)}</td><td>${esc(c.customer_name)}</td>
      <td>${esc(t(`stages.${c.stage}`))}</td><td>${fmtTime(c.registered_at)}</td><td>${c.escalation_level ? `<span class="pill orange">${c.escalation_level}</span>` : ""}${c.needs_gm ? ` ${t("needs_gm")}` : ""}</td>
      <td>${fmtMoney(c.refund_amount)}</td></tr>`).join("")}</tbody></table></div>`;
};

// --- 销控 board ------------------------------------------------------------------

VIEWS.board = async ({ params }) => {
  const list = await projects();
  const pid = Number(params.project || list[0]?.id);
  const state = params.state || "";
  const buildingId = params.building || "";
  main().innerHTML = `<h1>${t("board_title")} <span class="muted" id="live">● ${t("live")}</span></h1>
    <form id="filters" class="row no-print">
      <label for="b-sel">${t("building")}</label><select id="b-sel" name="building"><option value="">${t("all")}</option>
        ${(list.find((p) => p.id === pid)?.buildings || []).map((b) => `<option value="${b.id}" ${String(b.id) === buildingId ? "selected" : ""}>${esc(b.name)}</option>`).join("")}</select>
      <label for="s-sel">${t("filter_state")}</label><select id="s-sel" name="state"><option value="">${t("all")}</option>
        ${Object.keys(MESSAGES.zh.states).map((s) => `<option value="${s}" ${s === state ? "selected" : ""}>${esc(t(`states.${s}`))}</option>`).join("")}</select>
      <button type="button" id="xlsx" class="secondary">${t("export_xlsx")}</button>
    </form>
    <div id="counts" class="legend"></div><div id="grid" class="board"></div>
    <dialog id="hist" aria-labelledby="hist-h"><h2 id="hist-h">${t("history")}</h2><div id="hist-body"></div><button type="button" id="hist-close">${t("close")}</button></dialog>`;
  const query = () => new URLSearchParams(Object.entries({ building_id: buildingId, state }).filter(([, v]) => v)).toString();
  $("#filters").onchange = () => go("board", Object.fromEntries([["project", pid], ["building", $("#b-sel").value], ["state", $("#s-sel").value]].filter(([, v]) => v)));
  $("#xlsx").onclick = () => download(`/api/projects/${pid}/board.xlsx?${query()}`, "board.xlsx");
  $("#hist-close").onclick = () => $("#hist").close();
  let version = null; let previous = {};
  const draw = async () => {
    const b = await api(`/api/projects/${pid}/board?${query()}`);
    $("#counts").innerHTML = Object.entries(b.counts).map(([s, n]) => `<span class="pill s-${s}">${esc(t(`states.${s}`))} ${n}</span>`).join("");
    const now = {};
    $("#grid").innerHTML = b.buildings.map((bd) => {
      const cols = [...new Set(bd.floors.flatMap((f) => f.units.map((u) => u.code.slice(-2))))].sort();
      return `<h2>${esc(bd.name)}</h2><table aria-label="${esc(bd.name)}"><thead><tr><th>${t("floor")}</th>${cols.map((c) => `<th>${esc(c)}</th>`).join("")}</tr></thead><tbody>
        ${[...bd.floors].sort((x, y) => y.floor - x.floor).map((f) => `<tr><th>${f.floor}</th>${cols.map((col) => {
          const u = f.units.find((x) => x.code.slice(-2) === col);
          if (!u) return "<td></td>";
          now[u.id] = u.state;
          const changed = previous[u.id] && previous[u.id] !== u.state;
          return `<td><button type="button" class="unit s-${esc(u.state)}${changed ? " flash" : ""}" data-unit="${esc(u.id)}" data-state="${esc(u.state)}" data-label="${esc(bd.name)}-${esc(u.code)}"
            aria-label="${esc(bd.name)}-${esc(u.code)} ${esc(t(`states.${u.state}`))}">${esc(u.code)}<small>${esc(t(`states.${u.state}`))}</small></button></td>`;
        }).join("")}</tr>`).join("")}</tbody></table>`;
    }).join("");
    previous = now;
    $$("#grid .unit").forEach((btn) => { btn.onclick = () => showHistory(btn.dataset.unit, btn.dataset.label); });
  };
  const showHistory = async (id, label) => {
    $("#hist-h").textContent = `${t("history")} ${label}`;
    $("#hist-body").innerHTML = t("loading");
    $("#hist").showModal();
    try {
      const rows = await api(`/api/units/${id}/history`);
      $("#hist-body").innerHTML = rows.length ? `<div class="table-wrap"><table><thead><tr><th>${t("at")}</th><th>${t("from_state")}</th><th>${t("to_state")}</th><th>${t("by")}</th><th>${t("reason")}</th></tr></thead><tbody>
        ${rows.map((r) => `<tr><td>${fmtTime(r.at)}</td><td>${esc(t(`states.${r.from_state}`))}</td><td>${esc(t(`states.${r.to_state}`))}</td><td>${esc(r.actor)}</td><td>${esc(r.reason)}</td></tr>`).join("")}</tbody></table></div>` : `<p class="muted">${t("none")}</p>`;
    } catch (err) { showError("#hist-body", err); }
  };
  // The version is read before the board, so a change in between shows on the next poll.
  version = (await api(`/api/projects/${pid}/board/version`)).version;
  await draw();
  let busy = false;
  every(2500, async () => {
    if (busy || document.hidden) return;
    busy = true;
    try {
      const v = (await api(`/api/projects/${pid}/board/version`)).version;
      if (v !== version) {
        const focused = document.activeElement?.dataset?.unit;
        await draw();
        version = v;
        if (focused) $(`#grid .unit[data-unit="${CSS.escape(focused)}"]`)?.focus();
      }
      $("#live").classList.remove("overdue");
      $("#live").textContent = `● ${t("live")}`;
    } catch (err) {
      if (!(err instanceof Stale) && $("#live")) { $("#live").classList.add("overdue"); $("#live").textContent = `● ${t("offline")}`; }
    } finally { busy = false; }
  });
};

// --- warnings ----------------------------------------------------------------------

VIEWS.warnings = async () => {
  const rows = await api("/api/warnings");
  const role = session.user.role;
  const canRespond = (w) => ["manager", "hqrisk"].includes(role) || role === w.respond_role || role === w.escalate_to;
  main().innerHTML = `<h1>${t("warnings_title")}</h1>${rows.length ? `<div class="table-wrap"><table data-testid="warnings">
    <thead><tr><th>${t("level")}</th><th>${t("rule")}</th><th>${t("customer")}</th><th>${t("response_due")}</th><th>${t("respond_role")}</th><th>${t("escalate_to")}</th><th>${t("respond")}</th></tr></thead>
    <tbody>${rows.map((w) => `<tr><td><span class="pill ${esc(w.level)}">${esc(t(`levels.${w.level}`))}</span></td>
      <td>${w.rules.map((r) => `${esc(label("rules", r.rule))}${r.detail ? ` <span class="muted">(${esc(r.detail)})</span>` : ""}`).join("<br>")}</td><td>${esc(w.case_ref)}</td>
      <td>${fmtTime(w.response_due)}<br>${countdown(w.response_due)}</td><td>${esc(t(`roles.${w.respond_role}`))}</td><td>${esc(t(`roles.${w.escalate_to}`))}</td>
      <td>${canRespond(w) ? `<form class="respond" data-id="${w.id}" novalidate><div class="field"><label for="wn-${w.id}">${t("response_note")}</label>
        <input id="wn-${w.id}" name="note" maxlength="2000"></div><div class="msg"></div><button type="submit" class="secondary">${t("respond")}</button></form>` : ""}</td></tr>`).join("")}</tbody></table></div>`
    : `<p class="muted">${t("no_warnings")}</p>`}`;
  $$("form.respond").forEach((form) => {
    form.onsubmit = async (ev) => {
      ev.preventDefault(); clearFieldErrors(form); $(".msg", form).innerHTML = "";
      const note = form.note.value.trim();
      if (!note) { fieldError(form, "note", t("required")); return; }
      try {
        await api(`/api/warnings/${form.dataset.id}/respond`, { method: "POST", body: { note } });
        form.outerHTML = banner("ok", t("responded"));
      } catch (err) { showError($(".msg", form), err); }
    };
  });
};

// --- sales statistics ----------------------------------------------------------------

function barChart(title, items, { money = false, max: fixedMax = null, unit = "" } = {}) {
  const w = 640; const h = 220; const pad = 36; const max = fixedMax ?? Math.max(1, ...items.map((i) => Number(i.value)));
  const bw = Math.max(4, (w - pad * 2) / Math.max(1, items.length) - 4);
  return `<figure><svg class="chart" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(title)}"><title>${esc(title)}</title>
    <line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#4a5360"/>
    ${items.map((it, i) => {
      const bh = ((h - pad * 2) * Number(it.value)) / max; const x = pad + i * (bw + 4);
      return `<rect x="${x}" y="${h - pad - bh}" width="${bw}" height="${bh}" fill="${it.color || "#0b5cab"}"><title>${esc(it.label)}: ${esc(money ? fmtMoney(it.value) : `${it.value}${unit}`)}</title></rect>
        ${items.length <= 12 ? `<text x="${x + bw / 2}" y="${h - pad + 14}" font-size="11" text-anchor="middle">${esc(it.label)}</text>` : ""}`;
    }).join("")}
    <text x="${pad}" y="14" font-size="12">max ${esc(money ? fmtMoney(String(max)) : `${max}${unit}`)}</text></svg><figcaption class="muted">${esc(title)}</figcaption></figure>`;
}

function seriesChart(title, series) {
  const w = 640; const h = 220; const pad = 36; const max = Math.max(1, ...series.flatMap((d) => [d.subscriptions, d.contracts]));
  const x = (i) => pad + (i * (w - pad * 2)) / Math.max(1, series.length - 1); const y = (v) => h - pad - ((h - pad * 2) * v) / max;
  const line = (key, color) => `<polyline fill="none" stroke="${color}" stroke-width="2" points="${series.map((d, i) => `${x(i)},${y(d[key])}`).join(" ")}"/>`
    + series.map((d, i) => `<circle cx="${x(i)}" cy="${y(d[key])}" r="3" fill="${color}"><title>${esc(d.date)} ${esc(d[key])}</title></circle>`).join("");
  return `<figure><svg class="chart" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(title)}"><title>${esc(title)}</title>
    <line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#4a5360"/>
    ${line("subscriptions", "#0b5cab")}${line("contracts", "#b3261e")}
    <text x="${pad}" y="14" font-size="12" fill="#0b5cab">● ${esc(t("subs"))}</text><text x="${pad + 120}" y="14" font-size="12" fill="#b3261e">● ${esc(t("contracts"))}</text>
    ${series.length ? `<text x="${pad}" y="${h - 8}" font-size="11">${esc(series[0].date)}</text><text x="${w - pad}" y="${h - 8}" font-size="11" text-anchor="end">${esc(series[series.length - 1].date)}</text>` : ""}
    </svg><figcaption class="muted">${esc(title)}</figcaption></figure>`;
}

VIEWS.stats = async ({ params }) => {
  const list = await projects();
  const pid = params.project || list[0]?.id;
  const period = params.period || "week";
  const s = await api(`/api/projects/${pid}/stats?period=${period}`);
  const stat = (label, value, id = "") => `<div class="stat"${id ? ` data-testid="${id}"` : ""}><span class="muted">${esc(label)}</span><b>${esc(value)}</b></div>`;
  main().innerHTML = `<h1>${t("stats_title")} <span class="muted">${esc(s.date_from)} – ${esc(s.date_to)}</span></h1>
    <nav class="row no-print" aria-label="${esc(t("period"))}">${["today", "week", "month"].map((p) => `<a class="btn ${p === period ? "" : "secondary"}" ${p === period ? 'aria-current="page"' : ""} href="#/stats?period=${p}&project=${esc(pid)}">${t(p)}</a>`).join("")}
      <button type="button" id="xlsx" class="secondary">${t("export_xlsx")}</button></nav><div class="dl-msg"></div>
    <div class="stat-grid spaced">
      ${stat(t("calls"), s.calls)}${stat(t("visits"), s.visits.groups)}${stat(t("first_visits"), s.visits.first)}${stat(t("repeat_visits"), s.visits.repeat)}
      ${stat(t("effective"), s.effective_customers)}${stat(t("subs"), s.subscriptions.count, "subs")}${stat(t("cancelled"), s.subscriptions.cancelled)}
      ${stat(t("net_count"), s.subscriptions.net_count)}${stat(t("subs_amount"), fmtMoney(s.subscriptions.net_amount))}
      ${stat(t("contracts"), s.contracts.net_count)}${stat(t("contracts_amount"), fmtMoney(s.contracts.net_amount))}
      ${stat(t("collections"), fmtMoney(s.collections.received))}${stat(t("refunds"), fmtMoney(s.collections.refunded))}${stat(t("net"), fmtMoney(s.collections.net))}
      ${stat(t("conversion_vs"), fmtShare(s.conversion.visit_to_subscription))}${stat(t("conversion_sc"), fmtShare(s.conversion.subscription_to_contract))}
      ${stat(t("refund_rate"), fmtShare(s.refund_rate))}
    </div>
    <div class="grid2">
      <section class="card"><h2>${t("sell_through")}</h2>
        ${barChart(t("sell_through"), s.sell_through_by_layout.map((r) => ({ label: r.layout, value: r.rate === null ? 0 : Number(r.rate) * 100 })), { max: 100, unit: "%" })}
        <table><thead><tr><th>${t("layout")}</th><th>${t("released")}</th><th>${t("sold")}</th><th>${t("rate")}</th></tr></thead><tbody>
        ${s.sell_through_by_layout.map((r) => `<tr><td>${esc(r.layout)}</td><td>${r.released}</td><td>${r.sold}</td><td>${fmtShare(r.rate)}</td></tr>`).join("")}</tbody></table></section>
      <section class="card"><h2>${t("over_time")}</h2>${seriesChart(t("over_time"), s.series)}
        <h2>${t("collections_chart")}</h2>${barChart(t("collections_chart"), s.series.map((d) => ({ label: d.date.slice(5), value: d.collections })), { money: true })}</section>
    </div>`;
  $("#xlsx").onclick = () => download(`/api/projects/${pid}/stats.xlsx?period=${period}`, "stats.xlsx");
};

// --- the public refund policy (公示) ---------------------------------------------------

VIEWS.policy = async () => {
  const p = await api("/api/refund-policy");
  main().innerHTML = `<article class="card"><h1>${t("policy_title")}</h1>
    <p class="muted">${t("version")} ${esc(p.version)} · ${t("approved_by")} ${esc(p.approved_by)} · ${t("published_at")} ${fmtTime(p.published_at)}</p>
    <table data-testid="tiers"><thead><tr><th>${t("tier_stage")}</th><th>${t("tier_share")}</th><th>${t("tier_note")}</th></tr></thead><tbody>
      ${p.tiers.map((tier) => `<tr><td>${esc(t(`tier_stages.${tier.stage}`))}</td><td>${fmtShare(tier.min_share)} – ${fmtShare(tier.max_share)}</td><td>${esc(tier.note)}</td></tr>`).join("")}
      <tr><td>${esc(t("tier_stages.loan_disbursed"))}</td><td>—</td><td>${getLang() === "zh" ? "原则上不退，转法务" : "none in principle: legal route"}</td></tr></tbody></table>
    <h2>${t("policy_rules")}</h2><ul>${p.rules.map((r) => `<li>${esc(r)}</li>`).join("")}</ul>
    <h2>${t("sla")}</h2><ul>
      <li>${t("stages.intake")}: ${t("minutes", { n: p.intake_minutes })}</li><li>${t("stages.assessment")}: ${t("minutes", { n: p.assessment_minutes })}</li>
      <li>${t("stages.solution")}: ${t("minutes", { n: p.solution_minutes })}</li><li>${t("stages.archive")}: ${t("minutes", { n: p.archive_minutes })}</li>
      <li>${t("threshold")}: ${fmtMoney(p.escalation_loss_threshold)}</li></ul>
    <button type="button" class="no-print" id="print">${t("print")}</button></article>`;
  $("#print").onclick = () => window.print();
};

// --- refund instructions (finance) --------------------------------------------------------

VIEWS.refunds = async () => {
  const rows = await api("/api/refund-instructions");
  main().innerHTML = `<h1>${t("refunds_title")}</h1><div class="table-wrap"><table data-testid="refunds">
    <thead><tr><th>${t("case")}</th><th>${t("customer")}</th><th>${t("amount")}</th><th>${t("share")}</th><th>${t("route")}</th><th>${t("status")}</th><th>${t("created_at")}</th></tr></thead>
    <tbody>${rows.map((r) => `<tr data-case="${esc(r.case_no)}"><td><a href="#/case/${esc(r.case_id)}">${esc(r.case_no)}</a></td><td>${esc(r.customer_name)}</td><td>${fmtMoney(r.amount)}</td>
      <td>${fmtShare(r.share)}</td><td>${esc(r.route)}</td><td>${esc(r.status)}</td><td>${fmtTime(r.created_at)}</td></tr>`).join("")}</tbody></table></div>`;
};

// --- the sales office's intake QR code ------------------------------------------------------

VIEWS.qr = async ({ params }) => {
  const list = await projects();
  const pid = params.project || list[0]?.id;
  const res = await api(`/api/projects/${pid}/intake-qr.svg`, { raw: true });
  const url = res.headers.get("X-Intake-Url") || "";
  const qrUrl = URL.createObjectURL(await res.blob());
  main().innerHTML = `<article class="card"><h1>${t("qr_title")}</h1><p>${esc(list.find((p) => String(p.id) === String(pid))?.name || "")}</p>
    <div class="qr" data-testid="qr"><img src="${esc(qrUrl)}" alt="${esc(t("qr_title"))}: ${esc(url)}"></div>
    <p class="muted">${t("qr_hint")}</p><p><a href="${esc(safeUrl(url))}">${esc(url)}</a></p>
    <button type="button" class="no-print" id="print">${t("print")}</button></article>`;
  $("#print").onclick = () => window.print();
};

// ------------------------------------------------------------------ start

setLang(getLang());
$(".skip").addEventListener("click", (ev) => { ev.preventDefault(); main().focus(); });
window.addEventListener("hashchange", render);
setInterval(tick, 1000);
render();
