/* Switchboard website widget. Embed with:
 *   <script src="https://YOUR-SWITCHBOARD/widget.js" data-widget-token="..." async></script>
 * Optional: data-lang="el" forces a language. Plain script, no dependencies, renders in a shadow root so the
 * host page's styles do not leak in. Messages the visitor writes are kept in localStorage until the API
 * accepted them (retried with the same client_message_id), and the socket resumes from the last event seen.
 */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-widget-token]");
  if (!script || window.__switchboardWidget) return;
  var ORIGIN = new URL(script.src, location.href).origin;
  var WIDGET_TOKEN = script.getAttribute("data-widget-token") || "";
  var FORCED_LANG = script.getAttribute("data-lang");
  var STORE_KEY = "switchboard:" + WIDGET_TOKEN;
  var API = ORIGIN + "/api/v1/widget";
  // The API's limit for one message (widget/views.py VisitorMessageCreate).
  var MAX_MESSAGE = 10000;
  var EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

  var state = load() || {};
  state.outbox = state.outbox || [];
  var strings = {};
  var fallback = {};
  var lang = "en";
  var config = null;
  var socket = null;
  var retryDelay = 1000;
  var shown = {};
  var lastTypingSent = 0;
  var typingTimer = null;
  var flushing = false;

  function load() {
    try { return JSON.parse(localStorage.getItem(STORE_KEY) || "null"); } catch (e) { return null; }
  }
  function save() {
    try { localStorage.setItem(STORE_KEY, JSON.stringify(state)); } catch (e) { /* private mode: memory only */ }
  }
  function t(key, vars) {
    var text = strings["widget." + key] || fallback["widget." + key] || key;
    Object.keys(vars || {}).forEach(function (name) { text = text.split("{" + name + "}").join(String(vars[name])); });
    return text;
  }
  function localized(field) {
    var tr = (config && config.translations && config.translations[lang]) || {};
    return tr[field] || (config && config[field]) || null;
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else if (name.slice(0, 2) === "on") node.addEventListener(name.slice(2), attrs[name]);
      else if (attrs[name] !== null && attrs[name] !== undefined && attrs[name] !== false) node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "m-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }
  async function getJSON(url) {
    var response = await fetch(url);
    if (!response.ok) throw new Error("HTTP " + response.status);
    return response.json();
  }
  async function api(method, path, body) {
    var headers = { "content-type": "application/json" };
    if (state.visitor_token) headers.authorization = "Bearer " + state.visitor_token;
    // The widget token names the inbox in every call, so the server can answer a CORS preflight for this site.
    var url = API + path + (path.indexOf("?") >= 0 ? "&" : "?") + "widget_token=" + encodeURIComponent(WIDGET_TOKEN);
    var response = await fetch(url, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined });
    var data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      var error = new Error((data && data.error && data.error.message) || "HTTP " + response.status);
      error.status = response.status;
      error.code = data && data.error && data.error.code;
      error.details = (data && data.error && data.error.details) || [];
      throw error;
    }
    return data;
  }
  function pickLanguage(available) {
    var wanted = [FORCED_LANG, config && config.language].concat(navigator.languages || [navigator.language]);
    for (var i = 0; i < wanted.length; i++) {
      if (!wanted[i]) continue;
      var code = String(wanted[i]).toLowerCase().split("-")[0];
      if (available.indexOf(code) >= 0) return code;
    }
    return "en";
  }

  function chatIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "28");
    svg.setAttribute("height", "28");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6v2h2V9H7zm4 0v2h2V9h-2zm4 0v2h2V9h-2z");
    svg.appendChild(path);
    return svg;
  }

  // ---- DOM ----
  var host = el("div", { id: "switchboard-widget" });
  var root = host.attachShadow({ mode: "open" });
  var style = el("style", { text: [
    ":host{all:initial}",
    "[hidden]{display:none !important}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}",
    ".bubble{position:fixed;right:20px;bottom:20px;width:60px;height:60px;border-radius:50%;border:0;background:#1f5fbf;color:#fff;font-size:26px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.3);z-index:2147483000}",
    ".bubble:focus-visible,button:focus-visible,input:focus-visible,textarea:focus-visible{outline:3px solid #a34e00;outline-offset:2px}",
    "header button:focus-visible{outline-color:#ffd166}",
    ".panel{position:fixed;right:20px;bottom:92px;width:360px;max-width:calc(100vw - 40px);height:520px;max-height:calc(100vh - 120px);background:#fff;color:#1b1b1b;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);display:flex;flex-direction:column;overflow:hidden;z-index:2147483000}",
    ".panel[hidden]{display:none}",
    "header{background:#1f5fbf;color:#fff;padding:12px 14px;display:flex;align-items:center;justify-content:space-between}",
    "header h2{margin:0;font-size:16px}",
    "header button{background:transparent;border:0;color:#fff;font-size:22px;cursor:pointer}",
    ".status{font-size:12px;padding:4px 14px;background:#eef3fb;color:#234}",
    ".status:empty{display:none}",
    "ol{list-style:none;margin:0;padding:10px 12px;flex:1;overflow-y:auto;display:flex;flex-direction:column;gap:8px}",
    "li{max-width:80%;padding:8px 10px;border-radius:10px;background:#f0f0f0;white-space:pre-wrap;overflow-wrap:anywhere;font-size:14px}",
    "li.mine{align-self:flex-end;background:#1f5fbf;color:#fff}",
    "li.system{align-self:center;background:transparent;color:#555;font-style:italic}",
    "li .meta{display:block;font-size:11px;opacity:.75;margin-top:3px}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    ".typing{font-size:12px;color:#555;padding:0 14px;min-height:16px}",
    "form{display:flex;flex-direction:column;gap:8px;padding:12px 14px;border-top:1px solid #ddd}",
    "label{font-size:13px;display:flex;flex-direction:column;gap:3px}",
    "label.check{flex-direction:row;align-items:flex-start;gap:6px}",
    "input[type=text],input[type=email],textarea{font-size:14px;padding:7px;border:1px solid #999;border-radius:6px;width:100%}",
    "textarea{resize:none;height:56px}",
    "button.primary{background:#1f5fbf;color:#fff;border:0;border-radius:6px;padding:8px 12px;font-size:14px;cursor:pointer}",
    ".row{display:flex;gap:8px;align-items:flex-end}",
    ".row label{flex:1}",
    ".error{color:#b00020;font-size:13px}",
    ".error:empty{display:none}",
  ].join("\n") });
  var bubble = el("button", { class: "bubble", type: "button", "aria-expanded": "false", "aria-controls": "sb-panel" });
  bubble.appendChild(chatIcon());
  var title = el("h2", { id: "sb-title" });
  var closeButton = el("button", { type: "button", class: "close", text: "\u00D7" });
  var status = el("div", { class: "status", role: "status", "aria-live": "polite" });
  var log = el("ol", { class: "messages", role: "log", "aria-live": "polite", "aria-relevant": "additions" });
  var typing = el("div", { class: "typing", "aria-live": "polite" });
  var errorBox = el("div", { class: "error", role: "alert" });
  var nameInput = el("input", { type: "text", name: "name", autocomplete: "name", maxlength: "200" });
  var emailInput = el("input", { type: "email", name: "email", autocomplete: "email", maxlength: "320" });
  var consentBox = el("input", { type: "checkbox", name: "consent" });
  var consentText = el("span", { class: "consent-text" });
  var consentLabel = el("label", { class: "check" }, [consentBox, consentText]);
  var nameText = el("span");
  var emailText = el("span");
  var startButton = el("button", { type: "submit", class: "primary start" });
  var prechat = el("form", { class: "prechat", novalidate: "novalidate" }, [
    el("label", {}, [nameText, nameInput]), el("label", {}, [emailText, emailInput]), consentLabel, startButton,
  ]);
  var composerText = el("span", { class: "sr" });
  // No maxlength: the browser would cut a long paste silently. Too long is said in words instead.
  var composerInput = el("textarea", { name: "message" });
  var sendButton = el("button", { type: "submit", class: "primary send" });
  var composer = el("form", { class: "composer", hidden: "hidden" }, [
    el("div", { class: "row" }, [el("label", {}, [composerText, composerInput]), sendButton]),
  ]);
  var panel = el("section", { class: "panel", id: "sb-panel", role: "dialog", "aria-labelledby": "sb-title", hidden: "hidden" }, [
    el("header", {}, [title, closeButton]), status, log, typing, errorBox, prechat, composer,
  ]);
  root.appendChild(style);
  root.appendChild(panel);
  root.appendChild(bubble);

  function applyTexts() {
    host.setAttribute("lang", lang);
    panel.setAttribute("lang", lang);
    bubble.setAttribute("aria-label", t("open"));
    closeButton.setAttribute("aria-label", t("close"));
    // The inbox's display name for visitors (never its internal name), else "Chat with us".
    title.textContent = localized("display_name") || t("title");
    log.setAttribute("aria-label", t("messages_label"));
    nameText.textContent = t("name");
    emailText.textContent = t("email");
    consentText.textContent = localized("consent_text") || t("consent_default");
    consentLabel.hidden = !(config && config.consent_required);
    startButton.textContent = t("start");
    composerText.textContent = t("message_label");
    composerInput.setAttribute("placeholder", t("placeholder"));
    sendButton.textContent = t("send");
  }

  function setOpen(open) {
    panel.hidden = !open;
    bubble.setAttribute("aria-expanded", String(open));
    bubble.setAttribute("aria-label", open ? t("close") : t("open"));
    if (open) { (state.visitor_token ? composerInput : nameInput).focus(); reportRead(); }
    else bubble.focus();
  }
  bubble.addEventListener("click", function () { setOpen(panel.hidden); });
  closeButton.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (event) { if (event.key === "Escape") setOpen(false); });

  var timeFormat = null;
  function formatTime(iso) {
    try { return timeFormat.format(iso ? new Date(iso) : new Date()); } catch (e) { return ""; }
  }
  function senderName(message) {
    if (message.direction === "inbound") return t("you");
    return message.sender_type === "bot" ? t("bot") : t("agent");
  }
  function addMessage(message, key) {
    if (key && shown[key]) return shown[key];
    var mine = message.direction === "inbound";
    var meta = el("span", { class: "meta" });
    var item = el("li", { class: mine ? "mine" : message.sender_type === "system" ? "system" : "theirs" }, [
      el("span", { class: "sr", text: senderName(message) + ": " }), el("span", { class: "text", text: message.text || "" }), meta,
    ]);
    item.dataset.direction = message.direction;
    meta.textContent = formatTime(message.created_at) + (message.pending ? " \u00B7 " + t("sending") : "");
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    if (key) shown[key] = item;
    return item;
  }
  function markSent(item, createdAt) {
    item.querySelector(".meta").textContent = formatTime(createdAt);
  }

  // ---- sending, with retries that reuse the client_message_id ----
  async function flush() {
    if (flushing || !state.visitor_token) return;
    flushing = true;
    try {
      while (state.outbox.length) {
        var item = state.outbox[0];
        try {
          var accepted = await api("POST", "/messages", { text: item.text, client_message_id: item.client_message_id });
          state.outbox.shift();
          var bubbleItem = shown[item.client_message_id];
          if (bubbleItem) { shown[accepted.message_id] = bubbleItem; markSent(bubbleItem, item.created_at); }
          retryDelay = 1000;
          save();
        } catch (error) {
          if (error.status === 401) { resetSession(); return; }
          if (error.status && error.status >= 400 && error.status < 500 && error.status !== 429) {
            state.outbox.shift(); save();
            errorBox.textContent = errorText(error, item.text);
            var failed = shown[item.client_message_id];
            if (failed) failed.querySelector(".meta").textContent = t("error_generic");
            continue;
          }
          setTimeout(flush, Math.min(retryDelay *= 2, 15000));
          return;
        }
      }
    } finally { flushing = false; }
  }
  composer.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = composerInput.value.trim();
    if (!text) return;
    if (text.length > MAX_MESSAGE) {
      errorBox.textContent = t("too_long", { count: text.length.toLocaleString(lang), max: MAX_MESSAGE.toLocaleString(lang) });
      composerInput.setAttribute("aria-invalid", "true");
      composerInput.focus();
      return;
    }
    composerInput.removeAttribute("aria-invalid");
    composerInput.value = "";
    var item = { text: text, client_message_id: uuid(), created_at: new Date().toISOString() };
    state.outbox.push(item);
    save();
    addMessage({ direction: "inbound", text: text, pending: true }, item.client_message_id);
    errorBox.textContent = "";
    flush();
  });
  composerInput.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); composer.requestSubmit(); }
  });
  composerInput.addEventListener("input", function () {
    var now = Date.now();
    if (socket && socket.readyState === 1 && now - lastTypingSent > 2000) {
      lastTypingSent = now;
      socket.send(JSON.stringify({ type: "typing" }));
    }
  });

  // A server error in the visitor's language (codes we know), never the API's English text.
  function errorText(error, text) {
    if (error.status === 429 || error.code === "rate_limited") return t("error_rate_limited");
    var tooLong = (error.details || []).some(function (d) { return d.type === "string_too_long"; });
    if (tooLong && text) return t("too_long", { count: text.length.toLocaleString(lang), max: MAX_MESSAGE.toLocaleString(lang) });
    if ((error.details || []).some(function (d) { return (d.loc || []).indexOf("email") >= 0; })) return t("email_invalid");
    if (error.code === "unknown_widget" || error.code === "unavailable") return t("unavailable");
    return t("error_generic");
  }

  // ---- receipts: the agent sees "delivered" when a reply reached the widget, "read" once the visitor saw it ----
  var lastAgentMessageId = null;
  function sendFrame(frame) {
    if (socket && socket.readyState === 1) socket.send(JSON.stringify(frame));
  }
  function reportRead() {
    if (lastAgentMessageId && !panel.hidden && document.visibilityState === "visible") {
      sendFrame({ type: "read", message_id: lastAgentMessageId });
    }
  }
  document.addEventListener("visibilitychange", reportRead);

  // ---- session, history and the live socket ----
  function resetSession() {
    if (socket) { socket.onclose = null; socket.close(); socket = null; }
    state = { outbox: [] };
    save();
    composer.hidden = true;
    prechat.hidden = false;
  }
  prechat.addEventListener("submit", async function (event) {
    event.preventDefault();
    errorBox.textContent = "";
    if (config && config.consent_required && !consentBox.checked) {
      errorBox.textContent = t("consent_missing");
      consentBox.focus();
      return;
    }
    var email = emailInput.value.trim();
    if (email && !EMAIL.test(email)) {
      errorBox.textContent = t("email_invalid");
      emailInput.setAttribute("aria-invalid", "true");
      emailInput.focus();
      return;
    }
    emailInput.removeAttribute("aria-invalid");
    var body = { widget_token: WIDGET_TOKEN };
    if (nameInput.value.trim()) body.name = nameInput.value.trim();
    if (emailInput.value.trim()) body.email = emailInput.value.trim();
    // The accepted consent text's version is recorded with the session (required when the inbox asks for it).
    if (config && config.consent_required && consentBox.checked) body.consent = { version: String(config.consent_version || "1") };
    // The server records (and, when required, enforces) the version of the consent text accepted.
    if (config && config.consent_required && consentBox.checked) body.consent = { version: config.consent_version || "1" };
    startButton.disabled = true;
    try {
      var created = await api("POST", "/sessions", body);
      state.visitor_token = created.visitor_token;
      state.contact_id = created.contact_id;
      state.last_event_id = null;
      save();
      startChat();
    } catch (error) {
      errorBox.textContent = errorText(error);
    } finally { startButton.disabled = false; }
  });

  async function loadHistory() {
    try {
      var messages = await api("GET", "/messages?limit=200");
      messages.forEach(function (m) {
        addMessage(m, m.id);
        if (m.direction === "outbound") lastAgentMessageId = m.id;
      });
    } catch (error) {
      if (error.status === 401) resetSession();
    }
  }
  function showQueue(frame) {
    var position = frame.position !== undefined ? frame.position : frame.queue_position;
    if (position === null || position === undefined) { status.textContent = ""; return; }
    var text = t("queue", { position: position });
    if (frame.estimated_wait_seconds) text += " \u00B7 " + t("eta", { minutes: Math.max(1, Math.round(frame.estimated_wait_seconds / 60)) });
    status.textContent = text;
  }
  function onFrame(frame) {
    if (frame.id) { state.last_event_id = frame.id; save(); }
    if (frame.type === "session.ready") {
      if (!state.last_event_id && frame.last_event_id) { state.last_event_id = frame.last_event_id; save(); }
      status.textContent = "";
    } else if (frame.type === "message.created" && frame.message) {
      if (frame.message.direction === "outbound") {
        status.textContent = "";
        typing.textContent = "";
        lastAgentMessageId = frame.message.id;
        sendFrame({ type: "delivered", message_id: frame.message.id });
      }
      addMessage(frame.message, frame.message.id);
      reportRead();
    } else if (frame.type === "queue.position") {
      showQueue(frame);
    } else if (frame.type === "conversation.assigned") {
      // An agent took the conversation: no more queue line.
      status.textContent = "";
    } else if (frame.type === "conversation.resolved") {
      status.textContent = "";
      typing.textContent = "";
      addMessage({ direction: "outbound", sender_type: "system", text: t("resolved") }, "resolved:" + frame.conversation_id);
    } else if (frame.type === "typing" && frame.from === "agent") {
      // Someone is answering: the queue line is over.
      status.textContent = "";
      typing.textContent = t("typing");
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { typing.textContent = ""; }, 4000);
    }
  }
  function connect() {
    if (!state.visitor_token) return;
    // The token travels as a subprotocol, never in the URL (URLs end up in proxies' and servers' logs).
    var url = ORIGIN.replace(/^http/, "ws") + "/api/v1/widget/ws";
    if (state.last_event_id) url += "?last_event_id=" + encodeURIComponent(state.last_event_id);
    var ws = new WebSocket(url, ["switchboard", "bearer." + state.visitor_token]);
    socket = ws;
    ws.onopen = function () { retryDelay = 1000; host.dataset.connected = "true"; flush(); reportRead(); };
    ws.onmessage = function (event) { try { onFrame(JSON.parse(event.data)); } catch (e) { /* ignore bad frame */ } };
    ws.onclose = function (event) {
      host.dataset.connected = "false";
      if (socket !== ws) return;
      if (event.code === 1008) { resetSession(); return; }
      status.textContent = t("reconnecting");
      setTimeout(function () { if (socket === ws) { loadHistory(); connect(); } }, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 10000);
    };
  }
  async function startChat() {
    prechat.hidden = true;
    composer.hidden = false;
    composerInput.focus();
    await loadHistory();
    state.outbox.forEach(function (item) { addMessage({ direction: "inbound", text: item.text, pending: true }, item.client_message_id); });
    connect();
    flush();
  }
  window.addEventListener("online", function () { flush(); });

  async function init() {
    try { config = await getJSON(API + "/config?widget_token=" + encodeURIComponent(WIDGET_TOKEN)); } catch (e) { config = null; }
    var available = ["en"];
    try { available = await getJSON(ORIGIN + "/i18n/index.json"); } catch (e) { /* English only */ }
    lang = pickLanguage(available);
    try { fallback = await getJSON(ORIGIN + "/i18n/en.json"); } catch (e) { fallback = {}; }
    try { strings = lang === "en" ? fallback : await getJSON(ORIGIN + "/i18n/" + lang + ".json"); } catch (e) { strings = {}; }
    timeFormat = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" });
    applyTexts();
    addMessage({ direction: "outbound", sender_type: "system", text: localized("greeting") || t("greeting_default") });
    document.body.appendChild(host);
    window.__switchboardWidget = { open: function () { setOpen(true); }, language: lang };
    if (state.visitor_token) startChat();
    if (!config) errorBox.textContent = t("unavailable");
  }
  if (document.body) init(); else document.addEventListener("DOMContentLoaded", init);
})();
