// The agent's workspace: label chips and the labels menu, the reply box's suggestions ("/" canned responses,
// "@" mentions in notes), search results, the contact panel's attributes and notes, and the screen where
// an account keeps its labels, canned responses and who sees which conversations.
import { api } from "./api.js";
import { apiForm, errorBox, h, table, toast } from "./dom.js";
import { formatDate, t } from "./i18n.js";

// ---- labels ----
export function labelChips(names, labels) {
  if (!names || !names.length) return null;
  return h("span", { class: "labels" }, names.map((name) => {
    const known = labels.find((l) => l.name === name);
    return h("span", { class: "label-chip", "data-label": name, style: known ? `--label-color: ${known.color}` : null }, name);
  }));
}

/** A form of checkboxes over the account's labels; saving sets exactly the checked ones on the conversation. */
export function labelsForm(conversation, labels, onSaved) {
  return apiForm({
    fields: [{ name: "labels", label: t("labels.pick"), type: "checkboxes", value: conversation.labels || [],
      options: labels.map((l) => [l.name, l.name]), empty: t("labels.none_defined") }],
    submitLabel: t("common.save"),
    submit: async (values) => {
      const updated = await api("PUT", `/api/v1/conversations/${conversation.id}/labels`, { labels: values.labels || [] });
      toast(t("common.saved"));
      onSaved(updated.labels || []);
    },
  });
}

// ---- suggestions in the reply box ----
/** The word the caret is in, if it starts with `/` or `@`: {trigger, query, start, end}. */
export function tokenAtCaret(input) {
  const caret = input.selectionStart ?? input.value.length;
  const before = input.value.slice(0, caret);
  const match = /(^|\s)([/@])([^\s/@]*)$/.exec(before);
  if (!match) return null;
  return { trigger: match[2], query: match[3], start: caret - match[3].length - 1, end: caret };
}

/**
 * Suggestions under a textarea, as an ARIA combobox: "/" lists canned responses (their text filled in for
 * this conversation), "@" lists agents to mention (in a note). Arrow keys move, Enter or Tab inserts,
 * Escape closes. Returns {box, handleKey(event) -> true when it used the key, refresh()}.
 */
export function suggestions(input, { conversationId, agents, noteMode }) {
  const listId = `suggest-${conversationId}`;
  const box = h("ul", { id: listId, class: "suggestions", role: "listbox", "aria-label": t("suggest.label"), hidden: true });
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", listId);
  input.setAttribute("aria-expanded", "false");
  let items = [];
  let active = 0;
  let token = null;
  let request = 0;

  function close() {
    items = [];
    box.hidden = true;
    box.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function show() {
    if (!items.length) { close(); return; }
    active = Math.min(active, items.length - 1);
    box.replaceChildren(...items.map((item, index) => h("li", {
      id: `${listId}-${index}`, role: "option", class: "suggestion", "aria-selected": index === active ? "true" : "false",
      onmousedown: (event) => { event.preventDefault(); active = index; pick(); },
    }, h("strong", {}, item.label), item.detail ? h("span", { class: "muted" }, ` ${item.detail}`) : null)));
    box.hidden = false;
    input.setAttribute("aria-expanded", "true");
    input.setAttribute("aria-activedescendant", `${listId}-${active}`);
  }

  function pick() {
    const item = items[active];
    if (!item || !token) return;
    const value = input.value;
    input.value = value.slice(0, token.start) + item.insert + value.slice(token.end);
    const caret = token.start + item.insert.length;
    input.setSelectionRange(caret, caret);
    close();
    input.dispatchEvent(new Event("input"));
    input.focus();
  }

  async function refresh() {
    token = tokenAtCaret(input);
    if (!token || (token.trigger === "@" && !noteMode())) { close(); return; }
    const mine = ++request;
    if (token.trigger === "/") {
      const params = new URLSearchParams({ q: token.query, conversation_id: conversationId, limit: "8" });
      let found = [];
      try { found = await api("GET", `/api/v1/canned-responses?${params}`); } catch { found = []; }
      if (mine !== request) return;
      items = found.map((r) => ({ label: `/${r.short_code}`, detail: (r.rendered || r.content).slice(0, 80), insert: r.rendered || r.content }));
    } else {
      const wanted = token.query.toLowerCase();
      items = agents.filter((a) => a.name.toLowerCase().startsWith(wanted) || a.email.toLowerCase().startsWith(wanted))
        .slice(0, 8).map((a) => ({ label: `@${a.name}`, detail: "", insert: `@${a.name} ` }));
    }
    active = 0;
    show();
  }

  function handleKey(event) {
    if (box.hidden || !items.length) return false;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      active = (active + (event.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
      show();
    } else if (event.key === "Enter" || event.key === "Tab") {
      pick();
    } else if (event.key === "Escape") {
      close();
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  }

  // Leaving the box closes the list (after a beat, so a click on an option lands first); focus that came
  // back meanwhile (the mode buttons hand it back at once) keeps what is being typed suggested.
  input.addEventListener("blur", () => setTimeout(() => { if (document.activeElement !== input) close(); }, 150));
  return { box, handleKey, refresh, close };
}

// ---- search ----
/** A highlight from the API: escaped text with <mark> tags; anything else that parsed as markup is dropped. */
function highlighted(html) {
  const template = document.createElement("template");
  template.innerHTML = html;
  for (const node of template.content.querySelectorAll("*")) if (node.tagName !== "MARK") node.replaceWith(node.textContent);
  return h("span", { class: "highlight" }, template.content);
}

export async function renderSearch(box, query, { page = 1, filters = {}, agentName, onOpen }) {
  const params = new URLSearchParams({ q: query, page: String(page), per_page: "20" });
  for (const [key, value] of Object.entries(filters)) if (value) params.set(key, value);
  box.replaceChildren(h("p", { class: "muted pad" }, t("common.loading")));
  let result;
  try { result = await api("GET", `/api/v1/search?${params}`); } catch (error) { box.replaceChildren(errorBox(error)); return; }
  const messages = result.messages.items.map((hit) => h("li", { class: hit.private ? "note" : null },
    h("a", { href: `#/conversations/${hit.conversation_id}`, "data-conversation-id": hit.conversation_id, onclick: (event) => { if (onOpen) { event.preventDefault(); onOpen(hit.conversation_id); } } },
      h("strong", {}, hit.contact_name || t("contact.visitor")),
      hit.private ? h("span", { class: "badge note" }, t("msg.note_badge")) : null,
      h("span", { class: "muted" }, ` · ${hit.private || hit.direction === "outbound" ? agentName(hit.sender_id) : t("msg.customer")} · ${formatDate(hit.created_at)} · ${t(`status.${hit.status}`)}`)),
    h("p", {}, highlighted(hit.highlight))));
  const contacts = result.contacts.items.map((c) => h("li", {},
    h("strong", {}, c.name || t("contact.visitor")), " ", h("span", { class: "muted" }, [c.email, c.phone].filter(Boolean).join(" · "))));
  const pages = Math.max(1, Math.ceil(Math.max(result.messages.total, result.contacts.total) / result.per_page));
  const pager = pages > 1 ? h("p", { class: "pager" },
    page > 1 ? h("button", { type: "button", class: "secondary", onclick: () => renderSearch(box, query, { page: page - 1, filters, agentName, onOpen }) }, t("search.previous")) : null,
    h("span", {}, ` ${t("search.page", { page, pages })} `),
    page < pages ? h("button", { type: "button", class: "secondary", onclick: () => renderSearch(box, query, { page: page + 1, filters, agentName, onOpen }) }, t("search.next")) : null) : null;
  box.replaceChildren(
    h("h2", { class: "pad" }, t("search.results_for", { query })),
    h("section", { class: "pad search-results", "aria-label": t("search.messages") },
      h("h3", {}, t("search.messages_count", { count: result.messages.total })),
      messages.length ? h("ol", { class: "hits" }, messages) : h("p", { class: "muted" }, t("search.no_messages"))),
    h("section", { class: "pad", "aria-label": t("search.contacts") },
      h("h3", {}, t("search.contacts_count", { count: result.contacts.total })),
      contacts.length ? h("ul", { class: "hits" }, contacts) : h("p", { class: "muted" }, t("search.no_contacts"))),
    ...(pager ? [pager] : []),
  );
  const heading = box.querySelector("h2");
  heading.setAttribute("tabindex", "-1");
  heading.focus();
}

// ---- contact panel: attributes and notes ----
export function contactExtras(contact, { agentName, me }) {
  const box = h("div", { class: "contact-extras" });
  function render() {
    const attributes = Object.entries(contact.custom_attributes || {});
    box.replaceChildren(
      h("h3", {}, t("contact.attributes")),
      attributes.length
        ? h("dl", { class: "attributes" }, attributes.flatMap(([key, value]) => [
          h("dt", {}, key),
          h("dd", {}, String(value), " ", h("button", { type: "button", class: "link remove-attribute", "aria-label": t("contact.remove_attribute", { key }),
            onclick: async () => { contact = await api("PATCH", `/api/v1/contacts/${contact.id}`, { custom_attributes: { [key]: null } }); render(); } }, "×")),
        ]))
        : h("p", { class: "muted" }, t("contact.no_attributes")),
      apiForm({
        fields: [
          { name: "key", label: t("contact.attribute_key"), required: true, maxlength: 50, pattern: "[\\w.\\-]+", placeholder: "plan" },
          { name: "value", label: t("contact.attribute_value"), required: true, maxlength: 500 },
        ],
        inline: true, className: "attribute-form", submitLabel: t("contact.add_attribute"),
        submit: async (v) => {
          contact = await api("PATCH", `/api/v1/contacts/${contact.id}`, { custom_attributes: { [v.key]: v.value } });
          render();
          toast(t("common.saved"));
        },
      }),
      h("h3", {}, t("contact.notes")),
      notesBox,
    );
  }
  const notesBox = h("div", { class: "contact-notes" });
  async function loadNotes() {
    let notes = [];
    try { notes = await api("GET", `/api/v1/contacts/${contact.id}/notes`); } catch (error) { notesBox.replaceChildren(errorBox(error)); return; }
    notesBox.replaceChildren(
      notes.length ? h("ul", { class: "notes" }, notes.map((n) => h("li", { "data-note-id": n.id },
        h("span", { class: "text" }, n.text),
        h("small", { class: "muted" }, ` ${agentName(n.author_id)} · ${formatDate(n.created_at)}`),
        n.author_id === me.id || ["owner", "admin"].includes(me.role)
          ? h("button", { type: "button", class: "link", "aria-label": t("contact.delete_note"), onclick: async () => { await api("DELETE", `/api/v1/contacts/${contact.id}/notes/${n.id}`); loadNotes(); } }, "×")
          : null)))
        : h("p", { class: "muted" }, t("contact.no_notes")),
      apiForm({
        fields: [{ name: "text", label: t("contact.note_text"), type: "textarea", rows: 2, required: true, maxlength: 5000 }],
        className: "contact-note-form", submitLabel: t("contact.add_note"),
        submit: async (v) => { await api("POST", `/api/v1/contacts/${contact.id}/notes`, { text: v.text }); loadNotes(); },
      }),
    );
  }
  render();
  loadNotes();
  return box;
}

// ---- the account's labels, canned responses and visibility ----
async function card(main, title, loader) {
  const box = h("section", { class: "card", "aria-label": title }, h("h2", {}, title));
  main.append(box);
  try { await loader(box); } catch (error) { box.append(errorBox(error)); }
}

export async function workspaceScreen(main, session) {
  const isAdmin = ["owner", "admin"].includes(session.me.role);
  const again = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
  main.append(h("h1", {}, t("nav.workspace")));
  await card(main, t("labels.title"), async (box) => {
    const labels = await api("GET", "/api/v1/labels");
    if (isAdmin) {
      box.append(apiForm({
        fields: [
          { name: "name", label: t("labels.name"), required: true, maxlength: 50, pattern: "[^\\s,]+", hint: t("labels.name_hint") },
          { name: "color", label: t("labels.color"), type: "color", value: "#1e88e5" },
        ],
        inline: true, className: "label-form", submitLabel: t("labels.create"),
        submit: async (v) => { await api("POST", "/api/v1/labels", { name: v.name, color: v.color }); toast(t("common.saved")); again(); },
      }));
    }
    box.append(table(labels, [
      { label: t("labels.name"), render: (l) => labelChips([l.name], labels) },
      { label: t("labels.conversations"), render: (l) => String(l.conversation_count) },
      ...(isAdmin ? [{ label: "", render: (l) => h("button", { type: "button", class: "secondary", onclick: async () => { await api("DELETE", `/api/v1/labels/${l.id}`); again(); } }, t("common.delete")) }] : []),
    ]));
  });
  await card(main, t("canned.title"), async (box) => {
    const responses = await api("GET", "/api/v1/canned-responses?limit=200");
    box.append(
      h("p", { class: "muted" }, t("canned.hint")),
      apiForm({
        fields: [
          { name: "short_code", label: t("canned.short_code"), required: true, maxlength: 50, pattern: "[\\w\\-]+", placeholder: "refund" },
          { name: "content", label: t("canned.content"), type: "textarea", rows: 3, required: true, maxlength: 5000, placeholder: t("canned.content_placeholder") },
        ],
        className: "canned-form", submitLabel: t("canned.create"),
        submit: async (v) => { await api("POST", "/api/v1/canned-responses", v); toast(t("common.saved")); again(); },
      }),
      table(responses, [
        { label: t("canned.short_code"), render: (r) => h("code", {}, `/${r.short_code}`) },
        { label: t("canned.content"), render: (r) => r.content },
        { label: "", render: (r) => (r.created_by === session.me.id || isAdmin)
          ? h("button", { type: "button", class: "secondary", onclick: async () => { await api("DELETE", `/api/v1/canned-responses/${r.id}`); again(); } }, t("common.delete")) : "" },
      ]),
    );
  });
  if (isAdmin) {
    await card(main, t("visibility.title"), async (box) => {
      const current = await api("GET", "/api/v1/account/visibility");
      box.append(
        h("p", { class: "muted" }, t("visibility.hint")),
        apiForm({
          fields: [{ name: "agents_see", label: t("visibility.agents_see"), type: "select", value: current.agents_see,
            options: ["all", "team", "assigned"].map((mode) => [mode, t(`visibility.${mode}`)]) }],
          inline: true, className: "visibility-form", submitLabel: t("common.save"),
          submit: async (v) => { await api("PUT", "/api/v1/account/visibility", { agents_see: v.agents_see }); toast(t("common.saved")); },
        }),
      );
    });
  }
}
