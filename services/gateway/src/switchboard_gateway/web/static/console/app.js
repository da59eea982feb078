// The console shell: sign up / log in (with TOTP), the top bar (presence, language, alerts), hash routing, the
// agent socket, and notifications for an agent who is on another tab.
import { api, auth, socketUrl } from "./api.js";
import { apiForm, errorBox, errorText, h, toast } from "./dom.js";
import { alerts } from "./notify.js";
import { lang, languages, loadLanguage, setLanguage, t } from "./i18n.js";
import { conversationsScreen } from "./conversations.js";
import { workspaceScreen } from "./workspace.js";
import { reportsScreen, serviceLevelsScreen } from "./reports.js";
import { agentsScreen, inboxesScreen, privacyScreen, retentionScreen, routingScreen, securityScreen, teamsScreen } from "./admin.js";

export const session = { me: null, presence: null, socket: null, listeners: new Set(), lastEventId: null, focusHeading: false };

const SCREENS = {
  conversations: { label: "nav.conversations", render: (main) => conversationsScreen(main, session, {}) },
  spam: { label: "nav.spam", render: (main) => conversationsScreen(main, session, { spam: true }) },
  inboxes: { label: "nav.inboxes", render: (main) => inboxesScreen(main, session), admin: true },
  workspace: { label: "nav.workspace", render: (main) => workspaceScreen(main, session) },
  reports: { label: "nav.reports", render: (main) => reportsScreen(main, session), admin: true },
  sla: { label: "nav.service_levels", render: (main) => serviceLevelsScreen(main), admin: true },
  agents: { label: "nav.agents", render: (main) => agentsScreen(main, session) },
  teams: { label: "nav.teams", render: (main) => teamsScreen(main, session), admin: true },
  routing: { label: "nav.routing", render: (main) => routingScreen(main, session), admin: true },
  retention: { label: "nav.retention", render: (main) => retentionScreen(main, session), admin: true },
  privacy: { label: "nav.privacy", render: (main) => privacyScreen(main, session), admin: true },
  security: { label: "nav.security", render: (main) => securityScreen(main, session) },
};

function currentScreen() {
  const name = location.hash.replace(/^#\/?/, "").split("/")[0];
  return SCREENS[name] ? name : "conversations";
}

function languagePicker() {
  const select = h("select", { "aria-label": t("nav.language"), class: "lang" },
    languages.map((code) => h("option", { value: code, selected: code === lang }, t(`lang.${code}`))));
  select.addEventListener("change", async () => {
    setLanguage(select.value);
    await loadLanguage(select.value);
    render();
  });
  return select;
}

function pageTexts() {
  const skip = document.querySelector("a.skip");
  if (skip) skip.textContent = t("nav.skip");
  const screen = session.me ? t(SCREENS[currentScreen()].label) : t("login.title");
  alerts.baseTitle = `${screen} · Switchboard`;
  alerts.updateTitle();
}

function topBar() {
  const bar = document.getElementById("topbar");
  pageTexts();
  if (!session.me) { bar.replaceChildren(h("span", { class: "brand" }, "Switchboard"), languagePicker()); return; }
  const isAdmin = ["owner", "admin"].includes(session.me.role);
  const active = currentScreen();
  const presence = h("select", { "aria-label": t("presence.label"), class: "presence" },
    ["online", "away", "offline"].map((s) => h("option", { value: s, selected: s === (session.presence || session.me.status) }, t(`presence.${s}`))));
  presence.addEventListener("change", async () => {
    try {
      await api("PUT", "/api/v1/presence", { status: presence.value });
      session.me.status = presence.value;
      session.presence = presence.value;
      toast(t("presence.changed", { status: t(`presence.${presence.value}`) }));
    } catch (error) { toast(errorText(error)); }
  });
  const logout = h("button", { type: "button", class: "secondary", onclick: () => { signOut(); } }, t("nav.logout"));
  bar.replaceChildren(
    h("span", { class: "brand" }, "Switchboard"),
    h("nav", { "aria-label": t("nav.label") },
      Object.entries(SCREENS).filter(([, s]) => isAdmin || !s.admin).map(([name, s]) =>
        h("a", { href: `#/${name}`, "aria-current": name === active ? "page" : null }, t(s.label)))),
    h("span", { class: "controls" },
      h("span", { class: "who", title: `${session.me.name} · ${session.me.account_name}` }, `${session.me.name} · ${session.me.account_name}`),
      presence, alerts.controls(), languagePicker(), logout),
  );
}

function signOut() {
  auth.token = null;
  session.me = null;
  session.presence = null;
  if (session.socket) { session.socket.onclose = null; session.socket.close(); session.socket = null; }
  location.hash = "#/login";
  render();
}

// ---- agent socket: online while connected; resumes from the last event after a drop ----
let retryDelay = 1000;
function connectSocket() {
  if (!auth.token || session.socket) return;
  // The token travels as a subprotocol, never in the URL (URLs end up in logs).
  const ws = new WebSocket(socketUrl("/api/v1/ws", { last_event_id: session.lastEventId }), ["switchboard", `bearer.${auth.token}`]);
  session.socket = ws;
  ws.onopen = () => { retryDelay = 1000; document.body.dataset.socket = "open"; };
  ws.onmessage = (event) => {
    let frame;
    try { frame = JSON.parse(event.data); } catch { return; }
    if (frame.id) session.lastEventId = frame.id;
    if (frame.type === "session.ready") {
      if (!session.lastEventId) session.lastEventId = frame.last_event_id;
      // The server restores the presence the agent chose (Away stays Away across reloads); show it.
      const status = frame.status || "online";
      // Kept apart from session.me: a /me answer fetched before this frame must not draw the old status.
      session.presence = status;
      if (session.me) session.me.status = status;
      const presence = document.querySelector("select.presence");
      if (presence) presence.value = status;
    }
    if (frame.type === "agent.presence" && session.me && frame.agent_id === session.me.id) {
      session.presence = frame.status;
      session.me.status = frame.status;
      const presence = document.querySelector("select.presence");
      if (presence) presence.value = frame.status;
    }
    alerts.onFrame(frame, session);
    for (const listener of session.listeners) listener(frame);
  };
  ws.onclose = (event) => {
    document.body.dataset.socket = "closed";
    if (session.socket !== ws) return;
    session.socket = null;
    if (event.code === 1008) { signOut(); return; }
    setTimeout(connectSocket, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 15000);
  };
}

export function sendFrame(frame) {
  if (session.socket && session.socket.readyState === WebSocket.OPEN) session.socket.send(JSON.stringify(frame));
}

// ---- sign up and log in ----
function loginScreen(main) {
  const totpField = { name: "totp_code", label: t("login.totp"), autocomplete: "one-time-code", hidden: true };
  let needsTotp = false;
  const form = apiForm({
    fields: [
      { name: "email", label: t("login.email"), type: "email", required: true, autocomplete: "username", maxlength: 320 },
      { name: "password", label: t("login.password"), type: "password", required: true, autocomplete: "current-password", maxlength: 256 },
      totpField,
    ],
    submitLabel: t("login.submit"),
    submit: async (values, formEl) => {
      try {
        await logIn(values);
      } catch (error) {
        if (error.code === "totp_required" && !needsTotp) {
          needsTotp = true;
          const label = formEl.querySelector("[name=totp_code]").closest("label");
          label.hidden = false;
          label.querySelector("input").focus();
          error.message = t("login.totp_needed");
        }
        throw error;
      }
    },
  });
  const signup = apiForm({
    fields: [
      { name: "account_name", label: t("signup.account"), required: true, maxlength: 200 },
      { name: "name", label: t("signup.name"), maxlength: 200 },
      { name: "email", label: t("login.email"), type: "email", required: true, autocomplete: "username", maxlength: 320 },
      { name: "password", label: t("signup.password"), type: "password", required: true, autocomplete: "new-password", minlength: 8, maxlength: 256 },
    ],
    submitLabel: t("signup.submit"),
    submit: async (values) => {
      await api("POST", "/api/v1/signup", values);
      await logIn({ email: values.email, password: values.password });
    },
  });
  main.replaceChildren(
    h("section", { class: "card auth", "aria-labelledby": "login-h" }, h("h1", { id: "login-h" }, t("login.title")), form),
    h("section", { class: "card auth", "aria-labelledby": "signup-h" }, h("h2", { id: "signup-h" }, t("signup.title")), signup),
  );
  main.querySelector("input").focus();
}

async function logIn(values) {
  const body = { email: values.email, password: values.password };
  if (values.totp_code) body.totp_code = values.totp_code;
  const token = await api("POST", "/api/v1/auth/login", body);
  auth.token = token.access_token;
  // After logging in, focus goes to the screen's main heading (screen readers announce where they are).
  session.focusHeading = true;
  if (location.hash === "#/conversations") await render(); else location.hash = "#/conversations";
}

async function render() {
  const main = document.getElementById("main");
  if (auth.token && !session.me) {
    try { session.me = await api("GET", "/api/v1/me"); } catch { auth.token = null; }
  }
  topBar();
  if (!session.me) { loginScreen(main); return; }
  connectSocket();
  session.listeners.clear();
  session.onRoute = null;
  renderedScreen = currentScreen();
  main.replaceChildren();
  main.className = "";
  try {
    await SCREENS[currentScreen()].render(main);
  } catch (error) {
    main.replaceChildren(errorBox(error));
  }
  if (session.focusHeading) {
    session.focusHeading = false;
    const heading = main.querySelector("h1");
    if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
  }
}

// Within a screen, "#/conversations/<id>" opens that conversation without rebuilding the screen.
let renderedScreen = null;
window.addEventListener("hashchange", () => {
  const [name, id] = location.hash.replace(/^#\/?/, "").split("/");
  if (session.me && id && name === renderedScreen && session.onRoute) { session.onRoute(id); return; }
  render();
});
window.addEventListener("switchboard:unauthorized", () => { if (session.me) signOut(); });
await loadLanguage();
await render();
