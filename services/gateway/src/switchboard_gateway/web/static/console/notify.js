// Reaching an agent who is on another tab: a count in the page title, a desktop notification (once the agent
// allowed them) and an optional sound, for a new assignment or a customer's message.
import { h } from "./dom.js";
import { t } from "./i18n.js";

const SOUND_KEY = "switchboard.sound";

export const alerts = {
  baseTitle: "Switchboard",
  unread: 0, // customer messages not yet read, from the conversation list
  missed: 0, // assignments and messages that arrived while the tab was in the background

  updateTitle() {
    const count = Math.max(this.unread, this.missed);
    document.title = count ? `(${count}) ${this.baseTitle}` : this.baseTitle;
  },

  setUnread(count) {
    this.unread = count;
    this.updateTitle();
  },

  get soundOn() { return localStorage.getItem(SOUND_KEY) === "on"; },

  controls() {
    const sound = h("input", { type: "checkbox", class: "sound-toggle", checked: this.soundOn });
    sound.addEventListener("change", () => {
      localStorage.setItem(SOUND_KEY, sound.checked ? "on" : "off");
      if (sound.checked) this.beep();
    });
    const box = h("span", { class: "alerts" }, h("label", { class: "check" }, sound, t("notify.sound")));
    if ("Notification" in window && Notification.permission === "default") {
      const ask = h("button", { type: "button", class: "secondary notify-permission" }, t("notify.enable"));
      ask.addEventListener("click", async () => {
        try { await Notification.requestPermission(); } catch { /* older browsers: callback form only */ }
        ask.remove();
      });
      box.prepend(ask);
    }
    return box;
  },

  onFrame(frame, session) {
    if (!session.me) return;
    let text = null;
    if (frame.type === "conversation.assigned" && frame.agent_id === session.me.id) {
      const contact = frame.conversation && frame.conversation.contact_name;
      text = t("notify.assigned", { name: contact || t("contact.visitor") });
    } else if (frame.type === "message.created" && frame.message && frame.message.direction === "inbound") {
      text = t("notify.message", { text: (frame.message.text || "").slice(0, 120) });
    }
    if (!text) return;
    const away = document.hidden || !document.hasFocus();
    if (away) { this.missed += 1; this.updateTitle(); }
    if (away && "Notification" in window && Notification.permission === "granted") {
      try {
        const note = new Notification("Switchboard", { body: text, tag: frame.conversation_id, lang: document.documentElement.lang });
        note.onclick = () => { window.focus(); location.hash = `#/conversations/${frame.conversation_id}`; note.close(); };
      } catch { /* notifications can be blocked by the browser even when granted */ }
    }
    if (this.soundOn) this.beep();
  },

  beep() {
    try {
      const Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return;
      this.audio = this.audio || new Context();
      const oscillator = this.audio.createOscillator();
      const gain = this.audio.createGain();
      oscillator.frequency.value = 880;
      gain.gain.setValueAtTime(0.08, this.audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.0001, this.audio.currentTime + 0.25);
      oscillator.connect(gain).connect(this.audio.destination);
      oscillator.start();
      oscillator.stop(this.audio.currentTime + 0.25);
    } catch { /* no audio device */ }
  },
};

document.addEventListener("visibilitychange", () => {
  if (!document.hidden) { alerts.missed = 0; alerts.updateTitle(); }
});
window.addEventListener("focus", () => { alerts.missed = 0; alerts.updateTitle(); });
