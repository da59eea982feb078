// Reports (owners and admins): the summary of the hourly rollups as a table and bar charts, the same figures
// over time (per day, or per hour for one day), the live floor redrawn from `reports.live` frames, and the SLA
// badge with its countdown that the conversation screen shows.
import { api, auth } from "./api.js";
import { apiForm, errorBox, errorText, h, table, toast } from "./dom.js";
import { formatTime, lang, t } from "./i18n.js";

const GROUPS = ["agent", "team", "inbox", "channel", "label"];
// The most buckets the over-time charts ask for (one summary call each, all from the rollups).
const MAX_DAYS = 31;

/** Seconds as h:mm:ss (or m:ss): the same in every language. */
export function duration(value) {
  if (value === null || value === undefined) return "—";
  const total = Math.max(0, Math.round(value));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

const number = (value, digits = 0) => (value === null || value === undefined ? "—"
  : new Intl.NumberFormat(lang, { maximumFractionDigits: digits }).format(value));
const percent = (value) => (value === null || value === undefined ? "—" : `${number(value, 1)} %`);

function localDay(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function groupName(group, groupBy) {
  if (group.key === null || group.key === undefined) return t(`reports.none_${groupBy}`);
  if (groupBy === "channel") return t(`channel.${group.key}`);
  return group.label || String(group.key);
}

/** Horizontal bars, one per row: readable as a list (label and value) by screen readers. */
function barChart(title, rows, format) {
  const values = rows.map((r) => r.value).filter((v) => v !== null && v !== undefined);
  const max = Math.max(...values, 0);
  return h("figure", { class: "chart", "data-chart": title },
    h("figcaption", {}, title),
    rows.length && values.length ? h("ul", { class: "bars" }, rows.map((r) => {
      const width = max > 0 && r.value ? Math.max(1, (100 * r.value) / max) : 0;
      return h("li", {},
        h("span", { class: "bar-label" }, r.label),
        h("span", { class: "bar-track", "aria-hidden": "true" },
          h("span", { class: `bar${r.series ? ` series-${r.series}` : ""}`, style: `width: ${width.toFixed(1)}%` })),
        h("span", { class: "bar-value" }, format(r.value)));
    })) : h("p", { class: "muted" }, t("reports.no_data")));
}

/** Stacked bars per bucket (e.g. conversations per day, split by channel). */
function stackedChart(title, buckets, series) {
  const totals = buckets.map((b) => series.reduce((sum, s) => sum + (b.values[s] || 0), 0));
  const max = Math.max(...totals, 0);
  return h("figure", { class: "chart stacked", "data-chart": title },
    h("figcaption", {}, title),
    max > 0 ? h("ul", { class: "bars" }, buckets.map((b, i) => h("li", {},
      h("span", { class: "bar-label" }, b.label),
      h("span", { class: "bar-track", "aria-hidden": "true" }, series.filter((s) => b.values[s]).map((s) =>
        h("span", { class: `bar series-${s}`, title: `${t(`channel.${s}`)}: ${b.values[s]}`, style: `width: ${((100 * b.values[s]) / max).toFixed(1)}%` }))),
      h("span", { class: "bar-value" }, series.filter((s) => b.values[s]).map((s) => `${t(`channel.${s}`)} ${b.values[s]}`).join(", ") || "0"),
      h("span", { class: "sr-only" }, String(totals[i]))))) : h("p", { class: "muted" }, t("reports.no_data")),
    max > 0 ? h("p", { class: "legend" }, series.map((s) => h("span", { class: `legend-item series-${s}` }, t(`channel.${s}`)))) : null);
}

function summaryTable(groups, groupBy) {
  return table(groups, [
    { label: t(`reports.group_${groupBy}`), render: (g) => groupName(g, groupBy) },
    { label: t("reports.opened"), render: (g) => number(g.conversations_opened) },
    { label: t("reports.resolved"), render: (g) => number(g.conversations_resolved) },
    { label: t("reports.messages_in"), render: (g) => number(g.messages_in) },
    { label: t("reports.messages_out"), render: (g) => number(g.messages_out) },
    { label: t("reports.first_response"), render: (g) => `${duration(g.first_response_seconds.median)} / ${duration(g.first_response_seconds.p90)}` },
    { label: t("reports.resolution"), render: (g) => `${duration(g.resolution_seconds.median)} / ${duration(g.resolution_seconds.p90)}` },
    { label: t("reports.queue_wait"), render: (g) => `${duration(g.queue_wait_seconds.median)} / ${duration(g.queue_wait_seconds.p90)}` },
    { label: t("reports.sla"), render: (g) => percent(g.sla_attainment) },
    { label: t("reports.csat"), render: (g) => (g.csat_responses ? `${number(g.csat_average, 2)} (${g.csat_responses})` : "—") },
  ]);
}

/** The buckets of the over-time charts: each day of the range, or each hour when it is one day. */
function buckets(from, to) {
  const out = [];
  if (from === to) {
    for (let hour = 0; hour < 24; hour += 1) {
      const pad = (n) => String(n).padStart(2, "0");
      const end = hour === 23 ? `${localDay(new Date(new Date(`${from}T12:00`).getTime() + 86400000))}T00:00` : `${from}T${pad(hour + 1)}:00`;
      out.push({ label: `${pad(hour)}:00`, from: `${from}T${pad(hour)}:00`, to: end });
    }
    return { unit: "hour", list: out };
  }
  const start = new Date(`${from}T12:00`);
  const end = new Date(`${to}T12:00`);
  for (let day = new Date(end); day >= start && out.length < MAX_DAYS; day = new Date(day.getTime() - 86400000)) {
    const name = localDay(day);
    out.unshift({ label: name, from: name, to: name });
  }
  return { unit: "day", list: out };
}

async function downloadCsv(query) {
  // The report needs the bearer token, so it is fetched and handed to the browser as a file.
  const response = await fetch(`/api/v1/reports/summary?${query}&format=csv`, { headers: { authorization: `Bearer ${auth.token}` } });
  if (!response.ok) { toast(t("reports.csv_failed")); return; }
  const link = h("a", { href: URL.createObjectURL(await response.blob()), download: `report-${new URLSearchParams(query).get("group_by")}.csv` });
  document.body.append(link);
  link.click();
  link.remove();
}

export async function reportsScreen(main, session) {
  main.append(h("h1", {}, t("nav.reports")));
  const today = new Date();
  const fromInput = h("input", { type: "date", name: "from", required: true, value: localDay(new Date(today.getTime() - 6 * 86400000)) });
  const toInput = h("input", { type: "date", name: "to", required: true, value: localDay(today) });
  const groupSelect = h("select", { name: "group_by" }, GROUPS.map((g) => h("option", { value: g }, t(`reports.group_${g}`))));
  const status = h("p", { class: "muted", "aria-live": "polite" });
  const summaryBox = h("div", { class: "report-summary" });
  const chartsBox = h("div", { class: "report-charts" });
  const trendBox = h("div", { class: "report-charts" });
  const query = () => new URLSearchParams({ from: fromInput.value, to: toInput.value, group_by: groupSelect.value }).toString();

  async function load() {
    status.textContent = t("common.loading");
    const groupBy = groupSelect.value;
    try {
      const report = await api("GET", `/api/v1/reports/summary?${query()}`);
      summaryBox.replaceChildren(summaryTable(report.groups, groupBy));
      const rows = (pick) => report.groups.map((g) => ({ label: groupName(g, groupBy), value: pick(g) }));
      chartsBox.replaceChildren(
        barChart(t("reports.chart_volume"), rows((g) => g.conversations_opened), number),
        barChart(t("reports.chart_first_response"), rows((g) => g.first_response_seconds.median), duration),
        barChart(t("reports.chart_resolution"), rows((g) => g.resolution_seconds.median), duration),
        barChart(t("reports.sla"), rows((g) => g.sla_attainment), percent),
        barChart(t("reports.chart_csat"), rows((g) => (g.csat_responses ? g.csat_average : null)), (v) => number(v, 2)));
      await loadTrend();
      status.textContent = t("reports.updated", { time: formatTime(new Date()) });
    } catch (error) {
      status.textContent = "";
      summaryBox.replaceChildren(errorBox(error));
      chartsBox.replaceChildren();
      trendBox.replaceChildren();
    }
  }

  async function loadTrend() {
    const { unit, list } = buckets(fromInput.value, toInput.value);
    const reports = await Promise.all(list.map((b) =>
      api("GET", `/api/v1/reports/summary?${new URLSearchParams({ from: b.from, to: b.to, group_by: "channel" })}`)));
    const channels = [...new Set(reports.flatMap((r) => r.groups.map((g) => g.key)))].sort();
    const per = (pick) => list.map((b, i) => ({ label: b.label, values: Object.fromEntries(reports[i].groups.map((g) => [g.key, pick(g)])) }));
    const times = (title, pick) => barChart(title, list.flatMap((b, i) => reports[i].groups
      .filter((g) => pick(g) !== null)
      .map((g) => ({ label: `${b.label} · ${t(`channel.${g.key}`)}`, value: pick(g), series: g.key }))), duration);
    trendBox.replaceChildren(
      stackedChart(t(`reports.trend_volume_${unit}`), per((g) => g.conversations_opened), channels),
      times(t("reports.trend_first_response"), (g) => g.first_response_seconds.median),
      times(t("reports.trend_resolution"), (g) => g.resolution_seconds.median));
  }

  const form = h("form", { class: "inline report-filter", "aria-label": t("reports.filter"), onsubmit: (event) => { event.preventDefault(); load(); } },
    h("label", {}, t("reports.from"), " ", fromInput),
    h("label", {}, t("reports.to"), " ", toInput),
    h("label", {}, t("reports.group_by"), " ", groupSelect),
    h("button", { type: "submit" }, t("reports.show")),
    h("button", { type: "button", class: "secondary", onclick: () => downloadCsv(query()) }, t("reports.csv")));
  const live = h("div", { class: "live-floor" });
  main.append(
    h("section", { class: "card", "aria-label": t("reports.summary") }, h("h2", {}, t("reports.summary")), form, status, summaryBox),
    h("section", { class: "card", "aria-label": t("reports.charts") }, h("h2", {}, t("reports.charts")), chartsBox),
    h("section", { class: "card", "aria-label": t("reports.trend") }, h("h2", {}, t("reports.trend")), trendBox),
    h("section", { class: "card", "aria-label": t("reports.live") }, h("h2", {}, t("reports.live")), live));
  groupSelect.addEventListener("change", load);

  // The live floor: the current state now, then every `reports.live` frame the gateway pushes when it changes.
  const drawLive = (floor) => {
    const wait = (row) => (row.oldest_waiting_since ? duration((Date.now() - new Date(row.oldest_waiting_since).getTime()) / 1000) : "—");
    live.replaceChildren(
      h("p", { class: "queue-summary" }, t("reports.queue_length", { count: floor.queue.length, wait: duration(floor.queue.longest_wait_seconds) })),
      table(floor.inboxes, [
        { label: t("reports.group_inbox"), render: (r) => r.name },
        { label: t("reports.queued"), render: (r) => String(r.queued) },
        { label: t("reports.longest_wait"), render: wait },
      ]),
      table(floor.teams.filter((r) => r.team_id || r.queued), [
        { label: t("reports.group_team"), render: (r) => r.name || t("reports.none_team") },
        { label: t("reports.queued"), render: (r) => String(r.queued) },
        { label: t("reports.longest_wait"), render: wait },
      ]),
      table(floor.agents, [
        { label: t("reports.group_agent"), render: (r) => r.name },
        { label: t("reports.status"), render: (r) => h("span", { class: `presence-dot ${r.status}` }, t(`presence.${r.status}`)) },
        { label: t("reports.load"), render: (r) => number(r.load, 2) },
        { label: t("reports.held"), render: (r) => `${r.conversations} / ${r.capacity ?? "—"}` },
      ]),
      h("p", { class: "muted" }, t("reports.updated", { time: formatTime(floor.generated_at) })));
  };
  try { drawLive(await api("GET", "/api/v1/reports/live")); } catch (error) { live.replaceChildren(errorBox(error)); }
  session.listeners.add((frame) => { if (frame.type === "reports.live" && document.body.contains(live)) drawLive(frame); });
  await load();
}

// ---- the SLA badge on a conversation ----
const TARGETS = ["first_response", "next_response", "resolution"];

/** The conversation's SLA state: the next due clock counting down (red when overdue), breaches, or paused. */
export function slaBadge(sla) {
  if (!sla || !sla.policy_id) return null;
  const breached = [...new Set((sla.breached || []).map((b) => t(`sla.target_${b.target}`)))];
  const due = TARGETS.filter((target) => sla[`${target}_due_at`])
    .map((target) => ({ target, at: new Date(sla[`${target}_due_at`]).getTime() }))
    .sort((a, b) => a.at - b.at)[0];
  const parts = [];
  if (sla.paused) parts.push(h("span", { class: "badge sla paused" }, t("sla.paused")));
  else if (due) parts.push(h("span", { class: "badge sla countdown", "data-due": String(due.at), "data-target": due.target }, countdownText(due.target, due.at)));
  if (breached.length) parts.push(h("span", { class: "badge sla breached", role: "status" }, t("sla.breached", { targets: breached.join(", ") })));
  return parts.length ? h("span", { class: "sla-badges" }, parts) : null;
}

function countdownText(target, at) {
  const left = (at - Date.now()) / 1000;
  const name = t(`sla.target_${target}`);
  return left >= 0 ? t("sla.due_in", { target: name, time: duration(left) }) : t("sla.overdue", { target: name, time: duration(-left) });
}

// One ticker for every countdown on the page.
setInterval(() => {
  for (const badge of document.querySelectorAll(".badge.sla.countdown[data-due]")) {
    const at = Number(badge.dataset.due);
    badge.textContent = countdownText(badge.dataset.target, at);
    badge.classList.toggle("overdue", at < Date.now());
  }
}, 1000);

// ---- service levels: SLA policies and satisfaction surveys (owners and admins) ----
// Targets are edited in minutes (decimals allowed, so a policy of a few seconds survives an edit unchanged).
const minutes = (seconds) => (seconds ? String(Number((seconds / 60).toFixed(2))) : "");
const toSeconds = (value) => (value === undefined || value === null || value === "" ? null : Math.round(Number(value) * 60));
const PAUSE_STATUSES = ["pending", "snoozed"];

export async function serviceLevelsScreen(main) {
  main.append(h("h1", {}, t("nav.service_levels")));
  const [inboxes, teams, labels] = await Promise.all([
    api("GET", "/api/v1/inboxes"), api("GET", "/api/v1/teams"), api("GET", "/api/v1/labels")]);
  const inboxName = (id) => (inboxes.find((i) => i.id === id) || {}).name || id;
  const teamName = (id) => (teams.find((x) => x.id === id) || {}).name || id;
  const list = h("div", { class: "sla-policies" });
  const editor = h("div", { class: "sla-editor" });

  /** The policy's fields, filled with `p` (a stored policy when editing, defaults when adding). */
  const policyFields = (p) => [
    { name: "name", label: t("sla.name"), required: true, maxlength: 200, value: p.name },
    { name: "first_response", label: t("sla.first_response_minutes"), type: "number", min: "0.01", step: "any", value: minutes(p.first_response_seconds) },
    { name: "next_response", label: t("sla.next_response_minutes"), type: "number", min: "0.01", step: "any", value: minutes(p.next_response_seconds) },
    { name: "resolution", label: t("sla.resolution_minutes"), type: "number", min: "0.01", step: "any", value: minutes(p.resolution_seconds) },
    { name: "business_hours_only", label: t("sla.business_hours_only"), type: "checkbox", value: Boolean(p.business_hours_only) },
    { name: "pause_statuses", label: t("sla.pause_statuses"), type: "checkboxes", value: p.pause_statuses ?? PAUSE_STATUSES, options: PAUSE_STATUSES.map((s) => [s, t(`status.${s}`)]) },
    { name: "raise_priority", label: t("sla.raise_priority"), type: "number", min: "0", max: "100", value: String(p.raise_priority ?? 1) },
    { name: "inbox_ids", label: t("reports.group_inbox"), type: "checkboxes", value: p.inbox_ids, options: inboxes.map((i) => [i.id, i.name]) },
    { name: "team_ids", label: t("reports.group_team"), type: "checkboxes", value: p.team_ids, options: teams.map((x) => [x.id, x.name]) },
    { name: "labels", label: t("reports.group_label"), type: "checkboxes", value: p.labels, options: labels.map((l) => [l.name, l.name]), empty: t("labels.none_defined") },
  ];

  /** The API body from the form (every field: an emptied time clears that target). */
  function policyBody(v) {
    const body = {
      name: v.name,
      first_response_seconds: toSeconds(v.first_response),
      next_response_seconds: toSeconds(v.next_response),
      resolution_seconds: toSeconds(v.resolution),
      business_hours_only: Boolean(v.business_hours_only),
      pause_statuses: v.pause_statuses || [],
      raise_priority: v.raise_priority ?? 0,
      inbox_ids: v.inbox_ids || [],
      team_ids: v.team_ids || [],
      labels: v.labels || [],
    };
    if (!(body.first_response_seconds || body.next_response_seconds || body.resolution_seconds)) {
      throw { code: "no_target", message: t("errcode.no_target") };
    }
    return body;
  }

  function edit(p) {
    const form = apiForm({
      fields: policyFields(p),
      submitLabel: t("common.save"),
      submit: async (v) => {
        await api("PATCH", `/api/v1/sla-policies/${p.id}`, policyBody(v));
        toast(t("common.saved"));
        editor.replaceChildren();
        await drawPolicies();
      },
    });
    const cancel = h("button", { type: "button", class: "secondary", onclick: () => editor.replaceChildren() }, t("common.cancel"));
    form.querySelector("button[type=submit]").after(" ", cancel);
    editor.replaceChildren(h("section", { class: "card", "aria-label": t("sla.editing", { name: p.name }) },
      h("h3", {}, t("sla.editing", { name: p.name })), form));
    form.querySelector("input[name=name]").focus();
  }

  async function drawPolicies() {
    const policies = await api("GET", "/api/v1/sla-policies");
    list.replaceChildren(table(policies, [
      { label: t("sla.name"), render: (p) => p.name },
      { label: t("sla.target_first_response"), render: (p) => duration(p.first_response_seconds) },
      { label: t("sla.target_next_response"), render: (p) => duration(p.next_response_seconds) },
      { label: t("sla.target_resolution"), render: (p) => duration(p.resolution_seconds) },
      { label: t("sla.business_hours_only"), render: (p) => (p.business_hours_only ? t("common.yes") : t("common.no")) },
      { label: t("sla.pause_statuses"), render: (p) => p.pause_statuses.map((s) => t(`status.${s}`)).join(", ") || "—" },
      { label: t("sla.raise_priority"), render: (p) => String(p.raise_priority) },
      { label: t("sla.applies_to"), render: (p) => [...p.inbox_ids.map(inboxName), ...p.team_ids.map(teamName), ...p.labels].join(", ") || t("sla.everything") },
      { label: "", render: (p) => h("span", { class: "row-actions" },
        h("button", { type: "button", class: "secondary", "aria-label": t("sla.edit", { name: p.name }), onclick: () => edit(p) }, t("common.edit")),
        " ",
        h("button", { type: "button", class: "secondary", "aria-label": t("sla.delete", { name: p.name }), onclick: async () => {
          try { await api("DELETE", `/api/v1/sla-policies/${p.id}`); toast(t("common.saved")); editor.replaceChildren(); await drawPolicies(); } catch (error) { toast(errorText(error)); }
        } }, t("common.delete"))) },
    ]));
  }

  // Built anew after each policy added (a form's reset would not restore the defaults set as properties).
  const create = h("div", {});
  const drawCreate = () => create.replaceChildren(apiForm({
    fields: policyFields({}),
    submitLabel: t("sla.create"),
    submit: async (v) => {
      await api("POST", "/api/v1/sla-policies", policyBody(v));
      toast(t("common.saved"));
      drawCreate();
      await drawPolicies();
    },
  }));
  drawCreate();
  main.append(h("section", { class: "card", "aria-label": t("sla.policies") }, h("h2", {}, t("sla.policies")),
    h("p", { class: "muted" }, t("sla.hint")), list, editor, h("h3", {}, t("sla.create")), create));
  await drawPolicies();

  // One survey setting per inbox.
  const csatBox = h("div", {});
  const pick = h("select", { name: "inbox", "aria-label": t("reports.group_inbox") }, inboxes.map((i) => h("option", { value: i.id }, i.name)));
  async function drawCsat() {
    if (!pick.value) { csatBox.replaceChildren(h("p", { class: "muted" }, t("common.empty"))); return; }
    const current = await api("GET", `/api/v1/inboxes/${pick.value}/csat`);
    csatBox.replaceChildren(apiForm({
      fields: [
        { name: "enabled", label: t("csat.enabled"), type: "checkbox", value: current.enabled },
        { name: "language", label: t("csat.language"), type: "select", value: current.language, options: ["en", "el", "hu", "sq"].map((code) => [code, t(`lang.${code}`)]) },
        { name: "question", label: t("csat.question"), type: "textarea", value: current.question || "", placeholder: current.effective_question, maxlength: 500 },
        { name: "delay_minutes", label: t("csat.delay_minutes"), type: "number", min: "0", value: String(current.delay_minutes) },
      ],
      submitLabel: t("common.save"),
      submit: async (v) => {
        await api("PUT", `/api/v1/inboxes/${pick.value}/csat`, {
          enabled: Boolean(v.enabled), language: v.language, question: v.question ?? null, delay_minutes: v.delay_minutes ?? 0,
        });
        toast(t("common.saved"));
      },
    }));
  }
  pick.addEventListener("change", drawCsat);
  main.append(h("section", { class: "card", "aria-label": t("csat.title") }, h("h2", {}, t("csat.title")),
    h("label", {}, h("span", {}, t("reports.group_inbox")), " ", pick), csatBox));
  await drawCsat();
}
