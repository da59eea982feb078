// Admin screens. Each calls the REST API directly and shows the API's own error when a call fails, so a
// screen whose endpoint is missing on a server says so instead of breaking the console.
import { api } from "./api.js";
import { apiForm, describe, errorBox, h, since, table, toast } from "./dom.js";
import { formatDate, languages, t } from "./i18n.js";

async function section(main, title, loader) {
  const box = h("section", { class: "card", "aria-label": title }, h("h2", {}, title));
  main.append(box);
  try { await loader(box); } catch (error) { box.append(errorBox(error)); }
  return box;
}

const csv = (text) => (text || "").split(",").map((s) => s.trim()).filter(Boolean);
const rerender = () => window.dispatchEvent(new HashChangeEvent("hashchange"));

// ---- inboxes ----
export async function inboxesScreen(main) {
  main.append(h("h1", {}, t("nav.inboxes")));
  await section(main, t("inbox.create"), async (box) => {
    const channelFields = {
      slack: [["team_id", "inbox.slack_team_id"], ["channel_id", "inbox.slack_channel_id"], ["bot_token", "inbox.slack_bot_token", "password"], ["bot_user_id", "inbox.slack_bot_user_id"]],
      messenger: [["page_id", "inbox.messenger_page_id"], ["page_access_token", "inbox.messenger_page_token", "password"]],
      api: [["callback_url", "inbox.callback_url", "url"]],
    };
    const form = apiForm({
      fields: [
        { name: "name", label: t("inbox.name"), required: true, maxlength: 200, hint: t("inbox.name_hint") },
        { name: "channel", label: t("inbox.channel"), type: "select", options: ["web", "slack", "messenger", "api"].map((c) => [c, t(`channel.${c}`)]) },
        ...Object.entries(channelFields).flatMap(([channel, fields]) =>
          fields.map(([name, label, type]) => ({ name: `${channel}.${name}`, label: t(label), type, hidden: true, required: channel !== "api" }))),
        { name: "pass_through", label: t("inbox.pass_through"), type: "checkbox" },
      ],
      submitLabel: t("inbox.create"),
      submit: async (values) => {
        const settings = { pass_through: values.pass_through };
        for (const [key, value] of Object.entries(values)) {
          const [channel, name] = key.split(".");
          if (name && channel === values.channel && value !== undefined) settings[name] = value;
        }
        await api("POST", "/api/v1/inboxes", { name: values.name, channel: values.channel, settings });
        toast(t("common.saved"));
        rerender();
      },
    });
    const channel = form.querySelector("[name=channel]");
    const sync = () => {
      for (const control of form.querySelectorAll("[name*='.']")) control.closest("label").hidden = !control.name.startsWith(`${channel.value}.`);
    };
    channel.addEventListener("change", sync);
    sync();
    box.append(form);
  });
  const inboxes = await api("GET", "/api/v1/inboxes").catch((error) => { main.append(errorBox(error)); return []; });
  for (const inbox of inboxes) await section(main, `${inbox.name} (${t(`channel.${inbox.channel}`)})`, async (box) => inboxCard(box, inbox));
}

function inboxCard(box, inbox) {
  box.dataset.inboxId = inbox.id;
  const s = inbox.settings || {};
  if (inbox.channel === "web") {
    const snippet = `<script src="${location.origin}/widget.js" data-widget-token="${inbox.widget_token}" async></script>`;
    box.append(
      h("p", {}, t("inbox.snippet")),
      h("pre", { class: "snippet" }, snippet),
      h("p", {}, h("a", { class: "button demo-link", href: `/demo?widget_token=${encodeURIComponent(inbox.widget_token)}`, target: "_blank", rel: "noopener" }, t("inbox.open_demo"))),
      h("h3", {}, t("inbox.settings")),
      apiForm({
        fields: [
          { name: "display_name", label: t("inbox.display_name"), value: s.display_name, maxlength: 100, placeholder: t("widget.title"), hint: t("inbox.display_name_hint") },
          { name: "language", label: t("inbox.language"), type: "select", value: s.language || "", options: [["", t("inbox.language_auto")], ...languages.map((c) => [c, t(`lang.${c}`)])] },
          { name: "greeting", label: t("inbox.greeting"), value: s.greeting, maxlength: 500 },
          { name: "consent_required", label: t("inbox.consent_required"), type: "checkbox", value: s.consent_required },
          { name: "consent_text", label: t("inbox.consent_text"), type: "textarea", value: s.consent_text, maxlength: 2000 },
          { name: "translations", label: t("inbox.translations"), type: "textarea", rows: 4, value: JSON.stringify(s.translations || {}, null, 1), placeholder: '{"el": {"greeting": "…", "consent_text": "…"}}' },
          { name: "allowed_origins", label: t("inbox.allowed_origins"), value: (s.allowed_origins || []).join(", ") },
          { name: "pass_through", label: t("inbox.pass_through"), type: "checkbox", value: s.pass_through },
        ],
        submitLabel: t("common.save"),
        submit: async (v) => {
          let translations;
          try { translations = JSON.parse(v.translations || "{}"); } catch { throw { code: "invalid_json", message: t("inbox.translations_invalid") }; }
          await api("PATCH", `/api/v1/inboxes/${inbox.id}`, { settings: {
            display_name: v.display_name || null,
            language: v.language || null, greeting: v.greeting || null, consent_required: v.consent_required,
            consent_text: v.consent_text || null, translations, allowed_origins: csv(v.allowed_origins), pass_through: v.pass_through,
          } });
          toast(t("common.saved"));
        },
      }),
    );
  } else {
    box.append(h("h3", {}, t("inbox.settings")), describe(s, "setting"), apiForm({
      fields: [{ name: "pass_through", label: t("inbox.pass_through"), type: "checkbox", value: s.pass_through }],
      submitLabel: t("common.save"), inline: true,
      submit: async (v) => { await api("PATCH", `/api/v1/inboxes/${inbox.id}`, { settings: { pass_through: v.pass_through } }); toast(t("common.saved")); },
    }));
  }
  box.append(h("h3", {}, t("inbox.bot")), apiForm({
    fields: [
      { name: "project_id", label: t("inbox.bot_project"), required: true },
      { name: "language_code", label: t("inbox.bot_language"), value: "en" },
      { name: "client_id", label: t("inbox.bot_client_id"), required: true },
      { name: "client_secret", label: t("inbox.bot_client_secret"), type: "password", required: true },
      { name: "refresh_token", label: t("inbox.bot_refresh_token"), type: "password", required: true },
      { name: "handoff_intents", label: t("inbox.handoff_intents") },
      { name: "confidence_threshold", label: t("inbox.confidence"), type: "number", step: "0.05", min: "0", max: "1", value: "0.5" },
    ],
    submitLabel: t("inbox.bot_save"),
    submit: async (v) => {
      await api("PUT", `/api/v1/inboxes/${inbox.id}/bot`, { provider: "dialogflow", ...v, handoff_intents: csv(v.handoff_intents) });
      toast(t("common.saved"));
    },
  }));
}

// ---- agents ----
const sameList = (a, b) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());

export async function agentsScreen(main, session) {
  main.append(h("h1", {}, t("nav.agents")));
  const isAdmin = ["owner", "admin"].includes(session.me.role);
  const teams = await api("GET", "/api/v1/teams").catch(() => []);
  const teamName = (id) => (teams.find((tm) => tm.id === id) || {}).name || t("conv.someone");
  await section(main, t("agents.list"), async (box) => {
    const agents = await api("GET", "/api/v1/agents");
    box.append(table(agents, [
      { label: t("agents.name"), render: (a) => a.name },
      { label: t("login.email"), render: (a) => a.email },
      { label: t("agents.role"), render: (a) => t(`role.${a.role}`) },
      { label: t("presence.label"), render: (a) => h("span", { class: "presence-label", "data-agent-id": a.id }, t(`presence.${a.status}`)) },
      { label: t("agents.capacity"), render: (a) => String(a.max_conversations ?? t("agents.capacity_default")) },
      { label: t("agents.skills"), render: (a) => (a.skills || []).join(", ") || "—" },
      { label: t("agents.teams"), render: (a) => (a.teams || []).map(teamName).join(", ") || "—" },
      { label: t("common.edit"), render: (a) => isAdmin ? h("details", { class: "edit-agent", "data-agent-id": a.id }, h("summary", {}, t("common.edit")), apiForm({
        fields: [
          { name: "max_conversations", label: t("agents.capacity"), type: "number", min: "0", max: "1000", value: a.max_conversations },
          { name: "skills", label: t("agents.skills_csv"), value: (a.skills || []).join(", ") },
          { name: "teams", label: t("agents.teams"), type: "checkboxes", value: a.teams || [], options: teams.map((tm) => [tm.id, tm.name]), empty: t("agents.no_teams") },
        ],
        submitLabel: t("common.save"),
        submit: async (v) => {
          // Only what changed: a save never overwrites fields the admin did not touch.
          const body = {};
          if ((v.max_conversations ?? null) !== (a.max_conversations ?? null)) body.max_conversations = v.max_conversations ?? null;
          const skills = csv(v.skills);
          if (!sameList(skills, a.skills || [])) body.skills = skills;
          if (!sameList(v.teams || [], a.teams || [])) body.teams = v.teams || [];
          if (!Object.keys(body).length) { toast(t("common.nothing_changed")); return; }
          const saved = await api("PATCH", `/api/v1/agents/${a.id}`, body);
          Object.assign(a, saved);
          toast(t("common.saved"));
          rerender();
        },
      })) : "" },
    ]));
  });
  if (isAdmin) {
    await section(main, t("agents.create"), async (box) => box.append(apiForm({
      fields: [
        { name: "name", label: t("agents.name"), required: true, maxlength: 200 },
        { name: "email", label: t("login.email"), type: "email", required: true, maxlength: 320 },
        { name: "password", label: t("signup.password"), type: "password", required: true, autocomplete: "new-password", minlength: 8, maxlength: 256 },
        { name: "role", label: t("agents.role"), type: "select", options: ["agent", "admin", "owner"].map((r) => [r, t(`role.${r}`)]) },
        { name: "max_conversations", label: t("agents.capacity"), type: "number", min: "0", max: "1000" },
      ],
      submitLabel: t("agents.create"),
      submit: async (v) => { await api("POST", "/api/v1/agents", v); toast(t("common.saved")); rerender(); },
    })));
  }
}

// ---- teams and skills ----
const TEAM_STRATEGIES = ["least_busy", "round_robin", "sticky", "manual"];

export async function teamsScreen(main) {
  main.append(h("h1", {}, t("nav.teams")));
  const agents = await api("GET", "/api/v1/agents").catch(() => []);
  const agentOptions = agents.map((a) => [a.id, a.name]);
  const agentName = (id) => (agents.find((a) => a.id === id) || {}).name || t("conv.someone");
  const strategyOptions = [["", t("teams.strategy_inbox")], ...TEAM_STRATEGIES.map((x) => [x, t(`strategy.${x}`)])];
  await section(main, t("teams.list"), async (box) => {
    const teams = await api("GET", "/api/v1/teams");
    box.append(table(teams, [
      { label: t("teams.name"), render: (team) => team.name },
      { label: t("routing.strategy"), render: (team) => team.strategy ? t(`strategy.${team.strategy}`) : t("teams.strategy_inbox") },
      { label: t("teams.members"), render: (team) => (team.members || []).map(agentName).join(", ") || "—" },
      { label: t("common.edit"), render: (team) => h("details", { class: "edit-team", "data-team-id": team.id }, h("summary", {}, t("common.edit")), apiForm({
        fields: [
          { name: "name", label: t("teams.name"), required: true, maxlength: 200, value: team.name },
          { name: "strategy", label: t("routing.strategy"), type: "select", value: team.strategy || "", options: strategyOptions },
          { name: "members", label: t("teams.members"), type: "checkboxes", value: team.members || [], options: agentOptions },
        ],
        submitLabel: t("common.save"),
        submit: async (v) => {
          const changes = {};
          if (v.name !== team.name) changes.name = v.name;
          if ((v.strategy || null) !== (team.strategy || null)) changes.strategy = v.strategy || null;
          if (Object.keys(changes).length) await api("PATCH", `/api/v1/teams/${team.id}`, changes);
          const before = new Set(team.members || []);
          const after = new Set(v.members || []);
          for (const id of after) if (!before.has(id)) await api("PUT", `/api/v1/teams/${team.id}/members/${id}`);
          for (const id of before) if (!after.has(id)) await api("DELETE", `/api/v1/teams/${team.id}/members/${id}`);
          toast(t("common.saved"));
          rerender();
        },
      })) },
    ]));
  });
  await section(main, t("teams.create"), async (box) => box.append(apiForm({
    fields: [
      { name: "name", label: t("teams.name"), required: true, maxlength: 200 },
      { name: "strategy", label: t("routing.strategy"), type: "select", options: strategyOptions },
      { name: "members", label: t("teams.members"), type: "checkboxes", options: agentOptions },
    ],
    submitLabel: t("teams.create"),
    submit: async (v) => {
      await api("POST", "/api/v1/teams", { name: v.name, strategy: v.strategy || null, members: v.members || [] });
      toast(t("common.saved"));
      rerender();
    },
  })));
  main.append(h("p", { class: "muted" }, t("teams.hint")));
}

// ---- routing: strategy per inbox and the live queue ----
export async function routingScreen(main) {
  main.append(h("h1", {}, t("nav.routing")));
  const [inboxes, teams] = await Promise.all([api("GET", "/api/v1/inboxes").catch(() => []), api("GET", "/api/v1/teams").catch(() => [])]);
  await section(main, t("routing.strategy"), async (box) => {
    for (const inbox of inboxes) {
      const routing = inbox.routing || (inbox.settings || {}).routing || {};
      box.append(h("h3", {}, inbox.name), apiForm({
        fields: [
          { name: "strategy", label: t("routing.strategy"), type: "select", value: routing.strategy || "least_busy",
            options: TEAM_STRATEGIES.map((x) => [x, t(`strategy.${x}`)]) },
          { name: "team_id", label: t("routing.team"), type: "select", value: routing.team_id || "", options: [["", "—"], ...teams.map((tm) => [tm.id, tm.name])] },
          { name: "required_skills", label: t("routing.skills"), value: (routing.required_skills || []).join(", ") },
          { name: "offer_timeout_seconds", label: t("routing.offer_timeout"), type: "number", min: "0", value: routing.offer_timeout_seconds },
          { name: "labels", label: t("routing.labels"), value: (routing.labels || []).join(", "), hint: t("routing.labels_hint") },
        ],
        inline: true, submitLabel: t("common.save"),
        submit: async (v) => {
          await api("PUT", `/api/v1/inboxes/${inbox.id}/routing`, { ...v, team_id: v.team_id || null, required_skills: csv(v.required_skills), labels: csv(v.labels) });
          toast(t("common.saved"));
        },
      }));
    }
  });
  await section(main, t("routing.queue"), async (box) => {
    const queue = await api("GET", "/api/v1/queue");
    const rows = Array.isArray(queue) ? queue : queue.items || [];
    const inboxName = (id) => (inboxes.find((i) => i.id === id) || {}).name || "";
    box.append(table(rows, [
      { label: "#", render: (q) => String(q.position ?? q.queue_position ?? "") },
      { label: t("routing.conversation"), render: (q) => h("a", { href: `#/conversations/${q.conversation_id || q.id}` }, `${t(`channel.${q.channel}`)} · ${inboxName(q.inbox_id)}`) },
      { label: t("routing.priority"), render: (q) => String(q.priority ?? "") },
      { label: t("routing.waiting_since"), render: (q) => `${formatDate(q.waiting_since || q.queued_at || q.created_at)} (${since(q.waiting_since || q.queued_at || q.created_at)})` },
    ]));
  });
}

// ---- retention ----
const CATEGORIES = ["messages", "attachments", "closed_conversations", "inactive_contacts", "logs"];
export async function retentionScreen(main) {
  main.append(h("h1", {}, t("nav.retention")));
  await section(main, t("retention.policies"), async (box) => {
    let current = {};
    try {
      current = (await api("GET", "/api/v1/privacy/retention")) || {};
    } catch (error) { box.append(errorBox(error)); }
    box.append(apiForm({
      fields: CATEGORIES.map((c) => ({ name: c, label: t(`retention.${c}`), type: "number", min: "1", value: current[c] })),
      submitLabel: t("common.save"),
      submit: async (v) => {
        // Days per category; an empty field removes that policy (null = keep).
        const policies = Object.fromEntries(CATEGORIES.map((c) => [c, v[c] === undefined || v[c] === "" ? null : Number(v[c])]));
        current = await api("PUT", "/api/v1/privacy/retention", policies);
        toast(t("common.saved"));
      },
    }), h("p", { class: "muted" }, t("retention.hint")));
  });
}

// ---- privacy requests ----
export async function privacyScreen(main) {
  main.append(h("h1", {}, t("nav.privacy")));
  const detail = h("section", { class: "card request-detail", "aria-live": "polite", "aria-label": t("privacy.detail") });
  await section(main, t("privacy.create"), async (box) => box.append(apiForm({
    fields: [
      { name: "type", label: t("privacy.type"), type: "select", options: ["erasure", "access", "rectification"].map((x) => [x, t(`privacy.type_${x}`)]) },
      { name: "email", label: t("login.email"), type: "email" },
      { name: "phone", label: t("contact.phone") },
      { name: "contact_id", label: t("privacy.contact_id"), pattern: "[0-9a-fA-F-]{36}" },
    ],
    submitLabel: t("privacy.submit"),
    submit: async (v) => {
      const subject = {};
      for (const key of ["email", "phone", "contact_id"]) if (v[key]) subject[key] = v[key];
      const created = await api("POST", "/api/v1/privacy/requests", { type: v.type, subject });
      toast(t("privacy.filed"));
      await showRequest(detail, created.id);
      await loadList();
    },
  })));
  const listBox = await section(main, t("privacy.list"), async () => {});
  async function loadList() {
    listBox.replaceChildren(h("h2", {}, t("privacy.list")));
    try {
      const data = await api("GET", "/api/v1/privacy/requests");
      const rows = Array.isArray(data) ? data : data.items || [];
      listBox.append(table(rows, [
        { label: t("privacy.type"), render: (r) => t(`privacy.type_${r.type}`) },
        { label: t("privacy.status"), render: (r) => h("span", { class: "request-status" }, t(`privacy.status_${r.status}`)) },
        { label: t("privacy.due"), render: (r) => formatDate(r.due_at) },
        { label: "", render: (r) => h("button", { type: "button", class: "secondary", onclick: () => showRequest(detail, r.id) }, t("privacy.open")) },
      ]));
    } catch (error) { listBox.append(errorBox(error)); }
  }
  main.append(detail);
  window.addEventListener("switchboard:privacy-changed", loadList, { once: true });
  await loadList();
  await processorsSection(main);
}

// Who else receives the account's data (GET /api/v1/account/subprocessors) and the Art. 30 record as a file.
async function processorsSection(main) {
  await section(main, t("processing.subprocessors"), async (box) => {
    const data = await api("GET", "/api/v1/account/subprocessors");
    const uses = (p) => (p.used_by || []).map((u) => u.name || u.id).join(", ") || "—";
    box.append(
      h("p", { class: "muted" }, data.region ? t("processing.region", { region: data.region }) : t("processing.hint")),
      table(data.subprocessors || [], [
        { label: t("processing.name"), render: (p) => h("span", { class: "processor", "data-processor": p.id }, p.name) },
        { label: t("processing.service"), render: (p) => p.service },
        { label: t("processing.purpose"), render: (p) => p.purpose },
        { label: t("processing.location"), render: (p) => p.location },
        { label: t("processing.safeguard"), render: (p) => p.safeguard || "—" },
        { label: t("processing.used_by"), render: uses },
      ]),
      h("button", { type: "button", class: "secondary processing-record", onclick: async () => {
        try {
          const record = await api("GET", "/api/v1/account/processing-record");
          const link = h("a", { href: URL.createObjectURL(new Blob([JSON.stringify(record, null, 2)], { type: "application/json" })), download: "processing-record.json" });
          link.click();
          URL.revokeObjectURL(link.href);
          toast(t("processing.downloaded"));
        } catch (error) { box.append(errorBox(error)); }
      } }, t("processing.download_record")),
    );
  });
}

let pollTimer = null;
async function showRequest(box, id) {
  clearTimeout(pollTimer);
  let request;
  try { request = await api("GET", `/api/v1/privacy/requests/${id}`); } catch (error) { box.replaceChildren(errorBox(error)); return; }
  const done = ["completed", "failed"].includes(request.status);
  const progress = request.progress || request.stores || {};
  // report.download is {url, expires_at}: the href is its url.
  const download = request.report && request.report.download;
  const exportUrl = download && typeof download.url === "string" ? download.url : null;
  box.replaceChildren(
    ...[h("h2", {}, `${t(`privacy.type_${request.type}`)} · `, h("span", { class: "request-status", "data-status": request.status }, t(`privacy.status_${request.status}`))),
    h("p", {}, `${t("privacy.due")}: ${formatDate(request.due_at)}`),
    request.status === "received" ? h("button", { type: "button", class: "approve", onclick: async () => {
      try { await api("POST", `/api/v1/privacy/requests/${id}/approve`, {}); toast(t("privacy.approved")); await showRequest(box, id); }
      catch (error) { box.append(errorBox(error)); }
    } }, t("privacy.approve")) : null,
    h("h3", {}, t("privacy.progress")), describe(progress, "store"),
    exportUrl ? h("p", {}, h("a", { class: "button", href: exportUrl, download: "" }, t("privacy.download"))) : null,
    request.status === "completed" ? h("button", { type: "button", class: "secondary certificate", onclick: async () => {
      try { box.append(h("h3", {}, t("privacy.certificate")), describe(await api("GET", `/api/v1/privacy/requests/${id}/certificate`))); }
      catch (error) { box.append(errorBox(error)); }
    } }, t("privacy.show_certificate")) : null].filter(Boolean),
  );
  if (done) window.dispatchEvent(new Event("switchboard:privacy-changed"));
  if (!done && document.body.contains(box)) pollTimer = setTimeout(() => showRequest(box, id), 1500);
}

// ---- security: two-factor login and API tokens ----
export async function securityScreen(main) {
  main.append(h("h1", {}, t("nav.security")));
  await section(main, t("security.totp"), async (box) => {
    const out = h("div", { "aria-live": "polite" });
    box.append(apiForm({ fields: [], submitLabel: t("security.enroll"), inline: true, submit: async () => {
      const enrolled = await api("POST", "/api/v1/auth/2fa/enroll", {});
      out.replaceChildren(h("p", {}, t("security.scan")), h("pre", {}, enrolled.otpauth_uri), h("p", {}, `${t("security.secret")}: ${enrolled.secret}`),
        apiForm({ fields: [{ name: "code", label: t("login.totp"), required: true, autocomplete: "one-time-code" }], inline: true,
          submitLabel: t("security.confirm"), submit: async (v) => {
            const confirmed = await api("POST", "/api/v1/auth/2fa/confirm", v);
            out.replaceChildren(h("p", {}, t("security.recovery")), h("pre", {}, (confirmed.recovery_codes || []).join("\n")));
          } }));
    } }), out);
  });
  await section(main, t("security.tokens"), async (box) => {
    const out = h("div", { "aria-live": "polite" });
    box.append(apiForm({
      fields: [
        { name: "name", label: t("teams.name"), required: true, maxlength: 200 },
        { name: "scopes", label: t("security.scopes"), value: "read" },
      ],
      inline: true, submitLabel: t("security.create_token"),
      submit: async (v) => {
        const created = await api("POST", "/api/v1/api-tokens", { name: v.name, scopes: csv(v.scopes) });
        out.replaceChildren(h("p", {}, t("security.token_once")), h("pre", {}, created.token));
      },
    }), out);
    try {
      const tokens = await api("GET", "/api/v1/api-tokens");
      box.append(table(tokens, [
        { label: t("teams.name"), render: (x) => x.name },
        { label: t("security.scopes"), render: (x) => (x.scopes || []).join(", ") },
        { label: t("security.last_used"), render: (x) => formatDate(x.last_used_at) },
        { label: "", render: (x) => h("button", { type: "button", class: "secondary", onclick: async () => {
          try { await api("DELETE", `/api/v1/api-tokens/${x.id}`); rerender(); } catch (error) { box.append(errorBox(error)); }
        } }, t("security.revoke")) },
      ]));
    } catch (error) { box.append(errorBox(error)); }
  });
}
