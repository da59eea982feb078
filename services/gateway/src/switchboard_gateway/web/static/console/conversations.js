// Conversations: the live list (who waits first), the thread with full history and notes, actions, contact panel.
// Everything on screen follows the agent socket: messages, assignee and status changes (also a colleague's),
// presence of the other agents, delivery receipts, unread counts.
import { api } from "./api.js";
import { sendFrame } from "./app.js";
import { apiForm, errorBox, fieldMessage, h, setFieldError, since, toast } from "./dom.js";
import { formatDate, formatTime, t } from "./i18n.js";
import { alerts } from "./notify.js";
import { slaBadge } from "./reports.js";
import { contactExtras, labelChips, labelsForm, renderSearch, suggestions } from "./workspace.js";

const STATUSES = ["open", "queued", "pending", "snoozed", "bot", "resolved", "all"];
// The API's limit for one message (conversations/schemas.py ReplyCreate): checked here before sending, so
// nothing is ever cut silently.
const MAX_REPLY = 10000;
const CHANNEL_ICONS = {
  web: "M3 4h18v12H8l-5 4z",
  slack: "M9 3a2 2 0 0 1 2 2v5H6a2 2 0 1 1 0-4h3V5a2 2 0 0 1 0-2zm6 0a2 2 0 0 1 2 2v5h-4V5a2 2 0 0 1 2-2zM6 14h5v5a2 2 0 1 1-4 0v-1H6a2 2 0 1 1 0-4zm7 0h5a2 2 0 1 1 0 4h-1v1a2 2 0 1 1-4 0z",
  messenger: "M12 2C6.5 2 2 6.1 2 11.2c0 2.9 1.4 5.5 3.7 7.2V22l3.4-1.9c.9.3 1.9.4 2.9.4 5.5 0 10-4.1 10-9.2S17.5 2 12 2zm1 12.4-2.6-2.7-5 2.7 5.5-5.8 2.6 2.7 4.9-2.7z",
  api: "M8 6 2 12l6 6 1.4-1.4L4.8 12l4.6-4.6zm8 0-1.4 1.4 4.6 4.6-4.6 4.6L16 18l6-6z",
};

export function channelIcon(channel) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "16");
  svg.setAttribute("height", "16");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", `channel-icon channel-${channel}`);
  const path = document.createElementNS(ns, "path");
  path.setAttribute("fill", "currentColor");
  path.setAttribute("d", CHANNEL_ICONS[channel] || CHANNEL_ICONS.api);
  svg.append(path);
  return svg;
}

const isQueued = (c) => c.status === "open" && !c.assignee_id;
const shownStatus = (c) => (isQueued(c) ? "queued" : c.status);

export async function conversationsScreen(main, session, { spam }) {
  main.className = "fill";
  const filters = { status: spam ? "spam" : "open", assignee: "any", inbox_id: "", label: "" };
  let selectedId = null;
  let rows = [];
  let agents = [];
  let inboxes = [];
  let teams = [];
  let labels = [];
  const listBox = h("ul", { class: "conv-list", "aria-label": t("conv.list") });
  const listStatus = h("div", { "aria-live": "polite" });
  const announcer = h("div", { class: "sr", role: "status", "aria-live": "polite" });
  const threadBox = h("section", { class: "thread", "aria-label": t("conv.thread") },
    h("p", { class: "muted pad" }, t("conv.pick")));
  const contactBox = h("aside", { class: "card contact", "aria-label": t("contact.title") });
  // Frames that arrive while the screen loads (the socket connects meanwhile) are kept and handled after.
  let onFrame = null;
  const early = [];
  session.listeners.add((frame) => (onFrame ? onFrame(frame) : early.push(frame)));

  [agents, inboxes, teams, labels] = await Promise.all([
    api("GET", "/api/v1/agents").catch(() => []),
    api("GET", "/api/v1/inboxes").catch(() => []),
    api("GET", "/api/v1/teams").catch(() => []),
    api("GET", "/api/v1/labels").catch(() => []),
  ]);
  const agentName = (id) => (agents.find((a) => a.id === id) || {}).name || (id ? t("conv.someone") : "—");
  const inboxName = (id) => (inboxes.find((i) => i.id === id) || {}).name || "";
  const contactName = (c) => c.contact_name || t("contact.visitor");
  const agentLabel = (a) => `${a.name} (${t(`presence.${a.status}`)})`;

  function filterSelect(name, options, label) {
    const select = h("select", { name, "aria-label": label },
      options.map(([value, text]) => h("option", { value, selected: filters[name] === value }, text)));
    select.addEventListener("change", () => { filters[name] = select.value; loadList(); });
    return h("label", {}, h("span", {}, label), select);
  }

  async function loadList() {
    const params = new URLSearchParams({ status: filters.status, limit: "200", sort: "needs_answer" });
    if (filters.assignee !== "any") params.set("assignee", filters.assignee);
    if (filters.inbox_id) params.set("inbox_id", filters.inbox_id);
    if (filters.label) params.set("label", filters.label);
    try {
      rows = await api("GET", `/api/v1/conversations?${params}`);
      listStatus.replaceChildren();
      renderList();
    } catch (error) {
      listBox.replaceChildren();
      listStatus.replaceChildren(errorBox(error));
    }
  }

  function renderList() {
    const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest(".conv-list button");
    const focusedId = focused ? focused.dataset.conversationId : null;
    listBox.replaceChildren(...rows.map(listItem));
    if (!rows.length) listBox.append(h("li", { class: "muted pad" }, filters.status === "open" ? t("conv.none_open") : t("common.empty")));
    if (focusedId) {
      const again = listBox.querySelector(`[data-conversation-id="${focusedId}"]`);
      if (again) again.focus();
    }
    alerts.setUnread(rows.reduce((sum, c) => sum + (c.id === selectedId ? 0 : c.unread_count || 0), 0));
  }

  function listItem(c) {
    const unread = c.id === selectedId ? 0 : c.unread_count || 0;
    const state = shownStatus(c);
    const waitingFrom = state === "queued" ? c.queued_at || c.created_at : c.waiting_since;
    const preview = c.last_message ? (c.last_message.direction === "outbound" ? `${t("conv.you_prefix")} ` : "") + (c.last_message.text ?? t("msg.not_stored")) : "";
    const labelParts = [contactName(c), t(`channel.${c.channel}`), t(`status.${state}`)];
    if (waitingFrom) labelParts.push(t("conv.waiting", { time: since(waitingFrom) }));
    if (unread) labelParts.push(t("conv.unread", { count: unread }));
    if (c.labels && c.labels.length) labelParts.push(t("labels.on", { labels: c.labels.join(", ") }));
    const breached = c.sla && c.sla.breached && c.sla.breached.length ? [...new Set(c.sla.breached.map((b) => t(`sla.target_${b.target}`)))] : [];
    if (breached.length) labelParts.push(t("sla.breached", { targets: breached.join(", ") }));
    if (preview) labelParts.push(preview);
    const button = h("button", {
      type: "button", "aria-current": c.id === selectedId ? "true" : null, class: unread ? "unread" : null,
      "data-conversation-id": c.id, "aria-label": labelParts.join(", "), onclick: () => openConversation(c.id, { focusReply: true }),
    },
    h("span", { class: "row1" },
      channelIcon(c.channel),
      h("span", { class: "name" }, contactName(c)),
      unread ? h("span", { class: "count", "aria-hidden": "true" }, String(unread)) : null,
      h("span", { class: `badge ${state}` }, t(`status.${state}`)),
      breached.length ? h("span", { class: "badge sla breached", title: t("sla.breached", { targets: breached.join(", ") }) }, "SLA") : null),
    h("span", { class: "preview" }, preview || "\u00a0"),
    labelChips(c.labels, labels),
    h("span", { class: "row3 muted" },
      waitingFrom ? h("span", { class: "wait" }, t("conv.waiting", { time: since(waitingFrom) })) : null,
      h("span", {}, [isQueued(c) ? (c.queue_position ? t("conv.queue_position", { position: c.queue_position }) : "") : agentName(c.assignee_id), inboxName(c.inbox_id)].filter(Boolean).join(" · "))));
    return h("li", {}, button);
  }

  function noteOrMessage(m) {
    if (m.private) {
      return h("li", { class: "note", "data-message-id": m.id },
        h("span", { class: "badge note" }, t("msg.note_badge")),
        h("span", { class: "sr" }, `${t("msg.note_by", { name: agentName(m.sender_id) })}: `),
        h("span", { class: "text" }, m.text ?? ""),
        h("span", { class: "meta" }, `${t("msg.note_by", { name: agentName(m.sender_id) })} · ${formatTime(m.created_at)}`));
    }
    const who = m.direction === "inbound" ? t("msg.customer") : m.sender_type === "bot" ? t("msg.bot") : m.sender_type === "agent" ? agentName(m.sender_id) : t(`msg.${m.sender_type}`);
    const meta = [who, formatTime(m.created_at)];
    if (m.direction === "outbound" && m.delivery_status) meta.push(t(`delivery.${m.delivery_status}`));
    if (m.delivery_error) meta.push(m.delivery_error);
    return h("li", { class: `${m.direction} ${m.sender_type}`, "data-message-id": m.id, "data-delivery": m.delivery_status || null },
      m.sender_type === "bot" ? h("span", { class: "badge bot" }, t("msg.bot_badge")) : null,
      h("span", { class: "sr" }, `${who}: `),
      h("span", { class: "text" }, m.text ?? t("msg.not_stored")),
      h("span", { class: "meta" }, meta.join(" · ")));
  }

  let thread = null;
  async function markRead(id) {
    try { await api("POST", `/api/v1/conversations/${id}/read`); } catch { /* an older server: counts stay */ }
    const row = rows.find((r) => r.id === id);
    if (row) { row.unread_count = 0; renderList(); }
  }

  async function openConversation(id, { focusReply = false } = {}) {
    selectedId = id;
    if (location.hash !== `#/${spam ? "spam" : "conversations"}/${id}`) history.replaceState(null, "", `#/${spam ? "spam" : "conversations"}/${id}`);
    renderList();
    threadBox.replaceChildren(h("p", { class: "muted pad" }, t("common.loading")));
    let conversation;
    let messages;
    try {
      [conversation, messages] = await Promise.all([
        api("GET", `/api/v1/conversations/${id}`),
        api("GET", `/api/v1/conversations/${id}/messages?limit=500`),
      ]);
    } catch (error) {
      threadBox.replaceChildren(errorBox(error));
      return;
    }
    if (selectedId !== id) return;
    const log = h("ol", { class: "messages", role: "log", "aria-live": "polite", "aria-label": t("conv.messages") }, messages.map(noteOrMessage));
    const typing = h("div", { class: "typing", "aria-live": "polite" });
    const input = h("textarea", { id: "reply-text", name: "text", rows: 2, "aria-label": t("conv.reply_label"), placeholder: t("conv.reply_placeholder"), "data-maxlength": String(MAX_REPLY) });
    const counter = h("span", { class: "counter muted", "aria-live": "polite" });
    const replyStatus = h("div", { "aria-live": "polite" });
    const send = h("button", { type: "submit" }, t("conv.send"));
    // Reply to the customer, or a private note for colleagues (never sent to the customer; "@name" mentions).
    let noteMode = false;
    const modeButtons = ["reply", "note"].map((mode) => h("button", {
      type: "button", class: `mode mode-${mode}`, "aria-pressed": mode === "reply" ? "true" : "false",
      onclick: () => setMode(mode === "note"),
    }, t(`conv.mode_${mode}`)));
    const modes = h("div", { class: "reply-modes", role: "group", "aria-label": t("conv.mode_label") }, modeButtons);
    const suggest = suggestions(input, { conversationId: id, agents, noteMode: () => noteMode });
    const reply = h("form", { class: "reply", novalidate: true }, modes, h("label", { class: "grow" }, input, suggest.box), h("div", { class: "send" }, send, counter));
    function setMode(note) {
      noteMode = note;
      reply.classList.toggle("note-mode", note);
      modeButtons[0].setAttribute("aria-pressed", note ? "false" : "true");
      modeButtons[1].setAttribute("aria-pressed", note ? "true" : "false");
      input.placeholder = note ? t("conv.note_placeholder") : t("conv.reply_placeholder");
      input.setAttribute("aria-label", note ? t("conv.note_label") : t("conv.reply_label"));
      send.textContent = note ? t("conv.add_note") : t("conv.send");
      input.focus();
    }
    let lastTyping = 0;
    input.addEventListener("input", () => {
      const length = input.value.length;
      counter.textContent = length > MAX_REPLY * 0.9 ? `${length.toLocaleString()} / ${MAX_REPLY.toLocaleString()}` : "";
      counter.classList.toggle("over", length > MAX_REPLY);
      if (length <= MAX_REPLY) setFieldError(input, null);
      if (!noteMode && Date.now() - lastTyping > 2000) { lastTyping = Date.now(); sendFrame({ type: "typing", conversation_id: id }); }
      suggest.refresh();
    });
    input.addEventListener("keydown", (event) => {
      if (suggest.handleKey(event)) return;
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); reply.requestSubmit(); }
      if (event.key === "Escape") { event.preventDefault(); focusListItem(id); }
    });
    reply.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = input.value.trim();
      replyStatus.replaceChildren();
      if (!text) return;
      if (text.length > MAX_REPLY) {
        setFieldError(input, t("err.message_too_long", { count: text.length.toLocaleString(), max: MAX_REPLY.toLocaleString() }));
        input.focus();
        return;
      }
      send.disabled = true;
      try {
        const message = await api("POST", `/api/v1/conversations/${id}/messages`, noteMode ? { text, private: true } : { text });
        input.value = "";
        counter.textContent = "";
        appendMessage(message);
      } catch (error) {
        const detail = (error.details || []).find((d) => (d.loc || []).includes("text"));
        if (detail) setFieldError(input, fieldMessage(detail.type, input));
        else replyStatus.replaceChildren(errorBox(error));
      } finally { send.disabled = false; }
    });
    const header = h("header", { class: "thread-head" });
    const actions = h("div", { class: "actions" });
    threadBox.replaceChildren(header, actions, log, typing, replyStatus, reply);
    thread = { id, conversation, log, typing, header, actions, input };
    renderHead();
    log.scrollTop = log.scrollHeight;
    if (focusReply) input.focus();
    markRead(id);
    loadContact(conversation);
  }

  function renderHead() {
    if (!thread) return;
    const c = thread.conversation;
    const state = shownStatus(c);
    const waitingFrom = state === "queued" ? c.queued_at || c.created_at : null;
    thread.header.replaceChildren(
      h("h2", {}, channelIcon(c.channel), " ", h("span", { class: "contact-name" }, contactName(c)),
        h("span", { class: `badge ${state} status-badge`, "data-status": state }, t(`status.${state}`)),
        state === "resolved" ? null : slaBadge(c.sla)),
      h("p", { class: "muted head-meta" },
        h("span", {}, `${t(`channel.${c.channel}`)} · ${inboxName(c.inbox_id)}`),
        " · ",
        h("span", { class: "assignee" }, `${t("conv.assignee")}: `, h("strong", { "data-assignee-id": c.assignee_id || "" }, c.assignee_id ? agentName(c.assignee_id) : (state === "queued" ? t("conv.in_queue") : "—"))),
        waitingFrom ? h("span", { class: "wait" }, ` · ${t("conv.waiting", { time: since(waitingFrom) })}`) : null,
        c.previous_conversation_id ? h("span", {}, " · ", h("a", { href: `#/conversations/${c.previous_conversation_id}`, class: "previous-link" }, t("conv.follows_previous"))) : null),
      h("p", { class: "head-labels" }, labelChips(c.labels, labels) || h("span", { class: "muted" }, t("labels.no_labels"))));
    redrawKeepingMenu(thread.actions, () => thread.actions.replaceChildren(...actionsBar(c)));
  }

  function redrawKeepingMenu(box, draw) {
    // Live frames redraw the actions: a menu the agent has open stays open, with what they chose and typed.
    const open = box.querySelector("details.menu[open]");
    const kind = open && [...open.classList].find((name) => name.endsWith("-menu"));
    const values = open ? [...open.querySelectorAll("[name]")].map((field) => [field.name, field.value]) : [];
    const focused = open && open.contains(document.activeElement) ? document.activeElement.getAttribute("name") : null;
    draw();
    const again = kind && box.querySelector(`details.${kind}`);
    if (!again) return;
    for (const [name, value] of values) {
      const field = again.querySelector(`[name="${name}"]`);
      if (field) field.value = value;
    }
    again.dataset.restored = "1";
    again.open = true;
    const refocus = focused && again.querySelector(`[name="${focused}"]`);
    if (refocus) refocus.focus();
  }

  async function refreshOpen() {
    if (!thread) return;
    try {
      const fresh = await api("GET", `/api/v1/conversations/${thread.id}`);
      if (thread && thread.id === fresh.id) { thread.conversation = fresh; renderHead(); }
    } catch { /* a conversation that went away (erasure): the list refresh says so */ }
  }

  function appendMessage(message) {
    if (!thread || thread.log.querySelector(`[data-message-id="${message.id}"]`)) return;
    const atBottom = thread.log.scrollHeight - thread.log.scrollTop - thread.log.clientHeight < 40;
    thread.log.append(noteOrMessage(message));
    if (atBottom || message.direction === "outbound") thread.log.scrollTop = thread.log.scrollHeight;
    thread.typing.textContent = "";
  }

  function focusListItem(id) {
    const button = listBox.querySelector(`[data-conversation-id="${id}"]`) || listBox.querySelector("button");
    if (button) button.focus();
  }

  function menu(label, form, className) {
    // A small disclosure: the form opens under its button and keeps the thread tall.
    const details = h("details", { class: `menu ${className}` }, h("summary", { class: "button secondary" }, label), h("div", { class: "menu-body" }, form));
    details.addEventListener("toggle", () => {
      if (!details.open) return;
      for (const other of document.querySelectorAll("details.menu[open]")) if (other !== details) other.open = false;
      if (details.dataset.restored) { delete details.dataset.restored; return; }  // reopened by a redraw: focus stays put
      const first = details.querySelector("select, input, textarea");
      if (first) first.focus();
    });
    details.addEventListener("keydown", (event) => { if (event.key === "Escape") { details.open = false; details.querySelector("summary").focus(); } });
    return details;
  }

  function actionsBar(c) {
    const act = (path, body) => async () => {
      const updated = await api("POST", `/api/v1/conversations/${c.id}/${path}`, body);
      toast(t("conv.done"));
      if (thread && thread.id === c.id && updated && updated.id) { thread.conversation = { ...thread.conversation, ...updated }; renderHead(); }
      await loadList();
      if (path === "transfer" || path === "assign") await openConversation(c.id);
    };
    // The menus list every agent with their presence (kept live by agent.presence frames), the current
    // assignee chosen by default.
    const agentOptions = agents.map((a) => [a.id, agentLabel(a)]);
    const teamOptions = [["", "—"], ...teams.map((team) => [team.id, team.name])];
    const simple = (label, path, cls) => apiForm({ fields: [], submitLabel: label, inline: true, className: cls, submit: act(path, {}) });
    const isAdmin = ["owner", "admin"].includes(session.me.role);
    const assignOptions = isAdmin ? agentOptions : agentOptions.filter(([id]) => id === session.me.id);
    return [
      menu(t("conv.assign"), apiForm({
        fields: [{ name: "agent_id", label: t("conv.assign_to"), type: "select", options: assignOptions, value: c.assignee_id || session.me.id, agentOptions: true }],
        inline: true, submitLabel: t("conv.assign"), submit: (v) => act("assign", { agent_id: v.agent_id })(),
      }), "assign-menu"),
      menu(t("conv.transfer"), apiForm({
        fields: [
          { name: "agent_id", label: t("conv.transfer_agent"), type: "select", options: [["", "—"], ...agentOptions.filter(([id]) => id !== c.assignee_id)], agentOptions: true },
          { name: "team_id", label: t("conv.transfer_team"), type: "select", options: teamOptions },
          { name: "note", label: t("conv.note"), type: "textarea", rows: 2, maxlength: 2000, placeholder: t("conv.note_hint") },
        ],
        submitLabel: t("conv.transfer"),
        submit: (v) => {
          if (!v.agent_id === !v.team_id) throw { code: "transfer_target", message: t("conv.transfer_pick_one") };
          const body = v.agent_id ? { agent_id: v.agent_id } : { team_id: v.team_id };
          if (v.note) body.note = v.note;
          return act("transfer", body)();
        },
      }), "transfer-menu"),
      menu(t("labels.menu"), labelsForm(c, labels, (names) => {
        if (thread && thread.id === c.id) { thread.conversation = { ...thread.conversation, labels: names }; renderHead(); }
        loadList();
      }), "labels-menu"),
      menu(t("conv.snooze"), apiForm({ fields: [{ name: "until", label: t("conv.snooze_until"), type: "datetime-local", required: true }], inline: true,
        submitLabel: t("conv.snooze"), submit: (v) => act("snooze", { until: new Date(v.until).toISOString() })() }), "snooze-menu"),
      c.status === "resolved" ? simple(t("conv.reopen"), "reopen", "reopen") : simple(t("conv.resolve"), "resolve", "resolve"),
      isQueued(c) ? simple(t("conv.claim"), "claim", "claim") : null,
      apiForm({ fields: [], inline: true, className: "spam", buttonClass: "secondary", submitLabel: c.status === "spam" ? t("conv.not_spam") : t("conv.mark_spam"),
        submit: () => act("spam", { spam: c.status !== "spam" })() }),
    ].filter(Boolean);
  }

  async function loadContact(conversation) {
    const contactId = conversation.contact_id;
    contactBox.replaceChildren(h("h2", {}, t("contact.title")));
    try {
      const [contact, history] = await Promise.all([
        api("GET", `/api/v1/contacts/${contactId}`),
        api("GET", `/api/v1/conversations?status=all&contact_id=${contactId}&limit=20`).catch(() => []),
      ]);
      const channels = [...new Set((contact.identities || []).map((i) => i.channel))];
      const previous = history.filter((c) => c.id !== conversation.id);
      contactBox.append(
        h("p", { class: "contact-heading" }, h("strong", {}, contact.name || t("contact.visitor"))),
        h("dl", {},
          h("dt", {}, t("contact.email")), h("dd", {}, contact.email || "—"),
          h("dt", {}, t("contact.phone")), h("dd", {}, contact.phone || "—"),
          h("dt", {}, t("contact.channels")), h("dd", { class: "channels" }, channels.length ? channels.map((ch) => h("span", { class: "chip" }, channelIcon(ch), " ", t(`channel.${ch}`))) : "—"),
          h("dt", {}, t("contact.since")), h("dd", {}, formatDate(contact.created_at))),
        h("h3", {}, t("contact.previous")),
        previous.length
          ? h("ul", { class: "previous" }, previous.map((c) => h("li", {},
            h("a", { href: `#/conversations/${c.id}`, "data-conversation-id": c.id }, formatDate(c.created_at)),
            " ", h("span", { class: `badge ${shownStatus(c)}` }, t(`status.${shownStatus(c)}`)),
            c.last_message && c.last_message.text ? h("small", { class: "muted preview" }, c.last_message.text) : null)))
          : h("p", { class: "muted" }, t("contact.no_previous")),
        contactExtras(contact, { agentName, me: session.me }),
      );
    } catch (error) { contactBox.append(errorBox(error)); }
  }

  // ---- live ----
  let refreshTimer = null;
  const refreshSoon = () => { clearTimeout(refreshTimer); refreshTimer = setTimeout(loadList, 250); };
  const handleFrame = (frame) => {
    if (frame.type === "agent.presence") {
      const agent = agents.find((a) => a.id === frame.agent_id);
      if (!agent) return;
      agent.status = frame.status;
      for (const select of document.querySelectorAll("select[data-agent-options]")) {
        for (const option of select.options) if (option.value === agent.id) option.textContent = agentLabel(agent);
      }
      return;
    }
    if (!frame.conversation_id) return;
    const open = thread && frame.conversation_id === thread.id;
    if (frame.type === "typing") {
      if (!open) return;
      thread.typing.textContent = t("conv.customer_typing");
      clearTimeout(thread.typingTimer);
      thread.typingTimer = setTimeout(() => { if (thread) thread.typing.textContent = ""; }, 4000);
      return;
    }
    if (frame.type === "note.created" && open) {
      appendMessage({ ...frame.message, conversation_id: frame.conversation_id });
    }
    if (frame.type === "conversation.sla") {
      const row = rows.find((r) => r.id === frame.conversation_id);
      if (row) row.sla = frame.sla;
      if (open) { thread.conversation = { ...thread.conversation, sla: frame.sla }; renderHead(); }
    }
    if (frame.type === "conversation.sla_breached") {
      const row = rows.find((r) => r.id === frame.conversation_id) || (open ? thread.conversation : null);
      const text = t("sla.breach_toast", { contact: row ? contactName(row) : t("contact.visitor") });
      toast(text);
      announcer.textContent = text;
      if (open) refreshOpen();
    }
    if (frame.type === "note.mention") {
      const row = rows.find((r) => r.id === frame.conversation_id);
      const text = t("notify.mentioned", { name: agentName(frame.author_id), contact: row ? contactName(row) : t("contact.visitor") });
      toast(text);
      announcer.textContent = text;
    }
    if (frame.type === "message.created" && open) {
      appendMessage({ ...frame.message, conversation_id: frame.conversation_id });
      if (!document.hidden) markRead(frame.conversation_id);
    } else if (frame.type === "message.created" && frame.message && frame.message.direction === "inbound") {
      const row = rows.find((r) => r.id === frame.conversation_id);
      announcer.textContent = t("conv.new_message_from", { name: row ? contactName(row) : t("contact.visitor") });
    }
    if (frame.type === "message.delivery_updated" && open) {
      const item = thread.log.querySelector(`[data-message-id="${frame.message_id}"]`);
      if (item) {
        item.dataset.delivery = frame.status;
        const meta = item.querySelector(".meta");
        meta.textContent = `${meta.textContent.split(" · ").slice(0, 2).join(" · ")} · ${t(`delivery.${frame.status}`)}`;
      }
    }
    if (open && ["conversation.updated", "conversation.assigned", "conversation.unassigned", "conversation.status_changed"].includes(frame.type)) {
      if (frame.type === "conversation.updated") {
        thread.conversation = { ...thread.conversation, status: frame.status, assignee_id: frame.assignee_id || null };
        renderHead();
      }
      refreshOpen();
    }
    refreshSoon();
  };

  // ---- keyboard: j/k next and previous, r reply, e resolve, a assign, t transfer, ? help ----
  function move(step) {
    if (!rows.length) return;
    const index = rows.findIndex((r) => r.id === selectedId);
    const next = rows[Math.min(rows.length - 1, Math.max(0, index < 0 ? 0 : index + step))];
    openConversation(next.id).then(() => focusListItem(next.id));
  }
  const onKey = (event) => {
    if (!document.body.contains(main) || !main.querySelector(".workspace")) { document.removeEventListener("keydown", onKey); return; }
    const target = event.target;
    const typingInField = target && (["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName) || target.isContentEditable);
    if (event.altKey && (event.key === "ArrowDown" || event.key === "ArrowUp")) { event.preventDefault(); move(event.key === "ArrowDown" ? 1 : -1); return; }
    if (typingInField || event.ctrlKey || event.metaKey || event.altKey) return;
    const open = (selector) => { const d = threadBox.querySelector(selector); if (d) { d.open = true; } };
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "r": if (thread) thread.input.focus(); break;
      case "e": { const b = threadBox.querySelector("form.resolve button"); if (b) b.click(); break; }
      case "a": open("details.assign-menu"); break;
      case "t": open("details.transfer-menu"); break;
      case "?": help.open = !help.open; break;
      case "/": searchInput.focus(); break;
      default: return;
    }
    event.preventDefault();
  };
  document.addEventListener("keydown", onKey);
  const help = h("details", { class: "shortcuts" }, h("summary", {}, t("keys.title")),
    h("ul", {}, ["next", "previous", "reply", "resolve", "assign", "transfer", "search", "back"].map((k) => h("li", {}, t(`keys.${k}`)))));

  session.onRoute = (id) => { if (id && id !== selectedId) openConversation(id, { focusReply: true }); };
  window.addEventListener("focus", () => { if (thread && document.body.contains(threadBox)) markRead(thread.id); });
  // Waiting times move on.
  const ticker = setInterval(() => { if (!document.body.contains(listBox)) { clearInterval(ticker); return; } renderList(); if (thread) renderHead(); }, 60000);

  // Search over messages and contacts: results take the thread's place; a hit opens its conversation.
  const searchInput = h("input", { type: "search", name: "q", maxlength: 200, "aria-label": t("search.label"), placeholder: t("search.placeholder") });
  const searchForm = h("form", { class: "inline search", role: "search", onsubmit: (event) => {
    event.preventDefault();
    const query = searchInput.value.trim();
    if (!query) return;
    thread = null;
    selectedId = null;
    renderSearch(threadBox, query, { filters: { inbox_id: filters.inbox_id, label: filters.label }, agentName, onOpen: (cid) => openConversation(cid, { focusReply: true }) });
  } }, searchInput, h("button", { type: "submit", class: "secondary" }, t("search.submit")));
  const statusOptions = spam ? [["spam", t("status.spam")]] : STATUSES.map((s) => [s, t(`status.${s}`)]);
  main.replaceChildren(
    h("div", { class: "screen-head" },
      h("h1", {}, spam ? t("nav.spam") : t("nav.conversations")),
      h("form", { class: "inline filters", onsubmit: (e) => e.preventDefault() },
        filterSelect("status", statusOptions, t("conv.filter_status")),
        filterSelect("assignee", [["any", t("conv.assignee_any")], ["me", t("conv.assignee_me")], ["unassigned", t("conv.assignee_none")]], t("conv.filter_assignee")),
        filterSelect("inbox_id", [["", t("conv.all_inboxes")], ...inboxes.map((i) => [i.id, i.name])], t("conv.filter_inbox")),
        filterSelect("label", [["", t("labels.all")], ...labels.map((l) => [l.name, l.name])], t("labels.filter"))),
      searchForm,
      help),
    listStatus, announcer,
    h("div", { class: "workspace" }, listBox, threadBox, contactBox),
  );
  contactBox.replaceChildren(h("h2", {}, t("contact.title")), h("p", { class: "muted" }, t("conv.pick")));
  await loadList();
  onFrame = handleFrame;
  for (const frame of early.splice(0)) handleFrame(frame);
  const wanted = location.hash.replace(/^#\/?/, "").split("/")[1];
  if (wanted) await openConversation(wanted, { focusReply: true });
}

