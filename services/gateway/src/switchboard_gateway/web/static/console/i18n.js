// Translations: one JSON file per language under /i18n/, English as the fallback for missing keys.

let strings = {};
let fallback = {};
export let lang = "en";
export let languages = ["en"];

export async function loadLanguage(wanted) {
  try { languages = await (await fetch("/i18n/index.json")).json(); } catch { languages = ["en"]; }
  const candidates = [wanted, localStorage.getItem("switchboard.lang"), ...(navigator.languages || [navigator.language])];
  lang = "en";
  for (const candidate of candidates) {
    const code = candidate && String(candidate).toLowerCase().split("-")[0];
    if (code && languages.includes(code)) { lang = code; break; }
  }
  fallback = await (await fetch("/i18n/en.json")).json();
  strings = lang === "en" ? fallback : await (await fetch(`/i18n/${lang}.json`)).json();
  document.documentElement.lang = lang;
  return lang;
}

export function setLanguage(code) {
  localStorage.setItem("switchboard.lang", code);
}

export function t(key, vars = {}) {
  let text = strings[key] ?? fallback[key] ?? key;
  for (const [name, value] of Object.entries(vars)) text = text.split(`{${name}}`).join(String(value));
  return text;
}

export function formatDate(value) {
  if (!value) return "";
  return new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" }).format(new Date(value));
}

export function formatTime(value) {
  if (!value) return "";
  return new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" }).format(new Date(value));
}
