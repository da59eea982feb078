// Conversations: the live list (by status, inbox, assignee), the thread with full history, actions, contact panel.
import { api } from "./api.js";
import { sendFrame } from "./app.js";
import { apiForm, errorBox, h, table, toast } from "./dom.js";
import { formatDate, formatTime, t } from "./i18n.js";

const STATUSES = ["open", "queued", "pending", "snoozed", "bot", "resolved", "all"];

export async function conversationsScreen(main, session, { spam }) {
  const filters = { status: spam ? "spam" : "open", assignee: "any", inbox_id: "" };
  let selectedId = null;
  let agents = [];
  let inboxes = [];
  let teams = [];
  const unread = new Set();
  const listBox = h("ul", { class: "conv-list", "aria-label": t("conv.list") });
  const listStatus = h("div", { "aria-live": "polite" });
  const threadBox = h("section", { class: "thread", "aria-label": t("conv.thread") },
    h("p", { class: "muted", style: "padding:12px" }, t("conv.pick")));
  const contactBox = h("aside", { class: "card contact", "aria-label": t("contact.title") });

  [agents, inboxes, teams] = await Promise.all([
    api("GET", "/api/v1/agents").catch(() => []),
    api("GET", "/api/v1/inboxes").catch(() => []),
    api("GET", "/api/v1/teams").catch(() => []),
  ]);
  const agentName = (id) => (agents.find((a) => a.id === id) || {}).name || (id ? id.slice(0, 8) : "—");
  const inboxName = (id) => (inboxes.find((i) => i.id === id) || {}).name || "";

  function filterSelect(name, options, label) {
    const select = h("select", { name, "aria-label": label },
      options.map(([value, text]) => h("option", { value, selected: filters[name] === value }, text)));
    select.addEventListener("change", () => { filters[name] = select.value; loadList(); });
    return h("label", {}, h("span", {}, label), select);
  }

  async function loadList() {
    const params = new URLSearchParams({ status: filters.status, limit: "100" });
    if (filters.assignee !== "any") params.set("assignee", filters.assignee);
    if (filters.inbox_id) params.set("inbox_id", filters.inbox_id);
    try {
      const rows = await api("GET", `/api/v1/conversations?${params}`);
      listStatus.replaceChildren();
      listBox.replaceChildren(...rows.map(listItem));
      if (!rows.length) listBox.append(h("li", { class: "muted", style: "padding:10px" }, t("common.empty")));
    } catch (error) {
      listBox.replaceChildren();
      listStatus.replaceChildren(errorBox(error));
    }
  }

  function listItem(c) {
    const button = h("button", {
      type: "button", "aria-current": c.id === selectedId ? "true" : null, class: unread.has(c.id) ? "unread" : null,
      "data-conversation-id": c.id, onclick: () => openConversation(c.id),
    },
    h("span", {}, `${inboxName(c.inbox_id) || c.channel} · ${c.id.slice(0, 8)}`),
    h("span", { class: `badge ${c.status}` }, t(`status.${c.status}`)),
    c.queue_position ? h("span", { class: "badge" }, t("conv.queue_position", { position: c.queue_position })) : null,
    h("br"),
    h("small", { class: "muted" }, `${agentName(c.assignee_id)} · ${formatDate(c.last_message_at || c.created_at)}`));
    return h("li", {}, button);
  }

  function messageItem(m) {
    const who = m.direction === "inbound" ? t("msg.customer") : m.sender_type === "bot" ? t("msg.bot") : m.sender_type === "agent" ? agentName(m.sender_id) : t(`msg.${m.sender_type}`);
    const meta = [who, formatTime(m.created_at)];
    if (m.delivery_status) meta.push(t(`delivery.${m.delivery_status}`));
    if (m.delivery_error) meta.push(m.delivery_error);
    return h("li", { class: `${m.direction} ${m.sender_type}`, "data-message-id": m.id },
      m.sender_type === "bot" ? h("span", { class: "badge bot" }, t("msg.bot_badge")) : null,
      h("span", { class: "sr" }, `${who}: `),
      h("span", { class: "text" }, m.text ?? t("msg.not_stored")),
      h("span", { class: "meta" }, meta.join(" · ")));
  }

  let thread = null;
  async function openConversation(id) {
    selectedId = id;
    unread.delete(id);
    for (const b of listBox.querySelectorAll("button")) b.setAttribute("aria-current", b.dataset.conversationId === id ? "true" : "false");
    threadBox.replaceChildren(h("p", { class: "muted", style: "padding:12px" }, t("common.loading")));
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
    const log = h("ol", { class: "messages", role: "log", "aria-live": "polite", "aria-label": t("conv.messages") }, messages.map(messageItem));
    const typing = h("div", { class: "typing", "aria-live": "polite" });
    const input = h("textarea", { name: "text", rows: 2, "aria-label": t("conv.reply_label"), placeholder: t("conv.reply_placeholder") });
    const replyStatus = h("div", { "aria-live": "polite" });
    const reply = h("form", { class: "reply" }, input, h("button", { type: "submit" }, t("conv.send")));
    let lastTyping = 0;
    input.addEventListener("input", () => {
      if (Date.now() - lastTyping > 2000) { lastTyping = Date.now(); sendFrame({ type: "typing", conversation_id: id }); }
    });
    input.addEventListener("keydown", (event) => { if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); reply.requestSubmit(); } });
    reply.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      replyStatus.replaceChildren();
      try {
        const message = await api("POST", `/api/v1/conversations/${id}/messages`, { text });
        input.value = "";
        appendMessage(message);
      } catch (error) { replyStatus.replaceChildren(errorBox(error)); }
    });
    threadBox.replaceChildren(
      h("h2", { style: "padding:0 12px" }, `${inboxName(conversation.inbox_id) || conversation.channel} · `,
        h("span", { class: `badge ${conversation.status}` }, t(`status.${conversation.status}`)),
        h("span", { class: "muted" }, ` ${t("conv.assignee")}: ${agentName(conversation.assignee_id)}`)),
      actionsBar(conversation), log, typing, replyStatus, reply);
    log.scrollTop = log.scrollHeight;
    thread = { id, log, typing };
    loadContact(conversation.contact_id);
  }

  function appendMessage(message) {
    if (!thread || thread.log.querySelector(`[data-message-id="${message.id}"]`)) return;
    thread.log.append(messageItem(message));
    thread.log.scrollTop = thread.log.scrollHeight;
    thread.typing.textContent = "";
  }

  function actionsBar(c) {
    const act = (path, body) => async () => {
      await api("POST", `/api/v1/conversations/${c.id}/${path}`, body);
      toast(t("conv.done"));
      await loadList();
      await openConversation(c.id);
    };
    const agentOptions = agents.map((a) => [a.id, `${a.name} (${t(`presence.${a.status}`)})`]);
    const teamOptions = [["", "—"], ...teams.map((team) => [team.id, team.name])];
    const simple = (label, path) => apiForm({ fields: [], submitLabel: label, inline: true, submit: act(path, {}) });
    return h("div", { class: "actions" },
      apiForm({ fields: [{ name: "agent_id", label: t("conv.assign_to"), type: "select", options: agentOptions }], inline: true,
        submitLabel: t("conv.assign"), submit: (v) => act("assign", { agent_id: v.agent_id })() }),
      apiForm({
        fields: [
          { name: "agent_id", label: t("conv.transfer_agent"), type: "select", options: [["", "—"], ...agentOptions] },
          { name: "team_id", label: t("conv.transfer_team"), type: "select", options: teamOptions },
          { name: "note", label: t("conv.note") },
        ],
        inline: true, submitLabel: t("conv.transfer"), submit: (v) => act("transfer", v)(),
      }),
      apiForm({ fields: [{ name: "until", label: t("conv.snooze_until"), type: "datetime-local", required: true }], inline: true,
        submitLabel: t("conv.snooze"), submit: (v) => act("snooze", { until: new Date(v.until).toISOString() })() }),
      c.status === "resolved" ? simple(t("conv.reopen"), "reopen") : simple(t("conv.resolve"), "resolve"),
      c.assignee_id ? null : simple(t("conv.claim"), "claim"),
      apiForm({ fields: [], inline: true, submitLabel: c.status === "spam" ? t("conv.not_spam") : t("conv.mark_spam"),
        submit: () => act("spam", { spam: c.status !== "spam" })() }),
    );
  }

  async function loadContact(contactId) {
    contactBox.replaceChildren(h("h2", {}, t("contact.title")));
    try {
      const contact = await api("GET", `/api/v1/contacts/${contactId}`);
      contactBox.append(
        h("dl", {},
          h("dt", {}, t("contact.name")), h("dd", {}, contact.name || "—"),
          h("dt", {}, t("contact.email")), h("dd", {}, contact.email || "—"),
          h("dt", {}, t("contact.phone")), h("dd", {}, contact.phone || "—"),
          h("dt", {}, t("contact.since")), h("dd", {}, formatDate(contact.created_at)),
          h("dt", {}, t("contact.conversations")), h("dd", {}, String(contact.conversation_count ?? "—"))),
        h("h3", {}, t("contact.identities")),
        table(contact.identities || [], [
          { label: t("contact.channel"), render: (i) => i.channel },
          { label: t("contact.external_id"), render: (i) => h("code", {}, i.external_id) },
        ]),
      );
    } catch (error) { contactBox.append(errorBox(error)); }
  }

  // Live: every frame about a conversation refreshes the list; messages of the open one are appended.
  let refreshTimer = null;
  session.listeners.add((frame) => {
    if (!frame.conversation_id && frame.type !== "conversation.assigned") return;
    if (frame.type === "typing" && thread && frame.conversation_id === thread.id) {
      thread.typing.textContent = t("conv.customer_typing");
      clearTimeout(thread.typingTimer);
      thread.typingTimer = setTimeout(() => { if (thread) thread.typing.textContent = ""; }, 4000);
      return;
    }
    if (frame.type === "message.created" && thread && frame.conversation_id === thread.id) {
      appendMessage({ ...frame.message, conversation_id: frame.conversation_id });
    } else if (frame.type === "message.created" || frame.type === "conversation.assigned") {
      unread.add(frame.conversation_id);
    }
    if (frame.type === "message.delivery_updated" && thread && frame.conversation_id === thread.id) {
      const item = thread.log.querySelector(`[data-message-id="${frame.message_id}"] .meta`);
      if (item) item.textContent = `${item.textContent.split(" · ").slice(0, 2).join(" · ")} · ${t(`delivery.${frame.status}`)}`;
    }
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(loadList, 250);
  });

  const statusOptions = spam ? [["spam", t("status.spam")]] : STATUSES.map((s) => [s, t(`status.${s}`)]);
  main.replaceChildren(
    h("h1", {}, spam ? t("nav.spam") : t("nav.conversations")),
    h("form", { class: "inline filters", onsubmit: (e) => e.preventDefault() },
      filterSelect("status", statusOptions, t("conv.filter_status")),
      filterSelect("assignee", [["any", t("conv.assignee_any")], ["me", t("conv.assignee_me")], ["unassigned", t("conv.assignee_none")]], t("conv.filter_assignee")),
      filterSelect("inbox_id", [["", t("conv.all_inboxes")], ...inboxes.map((i) => [i.id, i.name])], t("conv.filter_inbox"))),
    listStatus,
    h("div", { class: "workspace" }, listBox, threadBox, contactBox),
  );
  contactBox.replaceChildren(h("h2", {}, t("contact.title")), h("p", { class: "muted" }, t("conv.pick")));
  await loadList();

}
