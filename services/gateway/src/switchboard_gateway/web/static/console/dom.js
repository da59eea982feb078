// Tiny DOM helpers: elements are built with textContent only, so API data never becomes markup.
import { t } from "./i18n.js";

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "value") node.value = value;
    else if (name === "checked") node.checked = Boolean(value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** The API's error in the console's language: known codes have a translation, others keep the server's text. */
export function errorText(error) {
  if (!error) return "";
  const key = `errcode.${error.code}`;
  const translated = t(key);
  return translated !== key ? translated : error.message || error.code || "";
}

export function errorBox(error) {
  return h("p", { class: "error", role: "alert" }, t("error.prefix"), " ", errorText(error));
}

export function toast(message) {
  const box = document.getElementById("toast");
  box.textContent = message;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.textContent = ""; }, 4000);
}

/** What is wrong with one field, in the console's language (from the API's detail or the browser's check). */
export function fieldMessage(type, control) {
  const min = control && control.minLength > 0 ? control.minLength : control && control.dataset.minlength;
  const max = control && control.maxLength > 0 ? control.maxLength : control && control.dataset.maxlength;
  switch (type) {
    case "missing": case "valueMissing": case "blank": return t("err.required");
    case "string_too_short": case "tooShort": case "too_short": return min ? t("err.too_short", { min }) : t("err.invalid");
    case "string_too_long": case "tooLong": case "too_long": return max ? t("err.too_long", { max }) : t("err.invalid");
    case "typeMismatch": case "email": return t("err.email");
    case "value_error": return control && control.type === "email" ? t("err.email") : t("err.invalid");
    case "uuid_parsing": case "uuid_type": return t("err.bad_id");
    case "greater_than_equal": case "less_than_equal": case "rangeUnderflow": case "rangeOverflow":
    case "int_parsing": case "badInput": return t("err.number");
    case "literal_error": case "enum": return t("err.choice");
    case "datetime_parsing": case "datetime_from_date_parsing": case "timezone_aware": return t("err.date");
    case "url_parsing": case "url_scheme": case "url_type": return t("err.url");
    case "string_pattern_mismatch": case "patternMismatch": return t("err.pattern");
    default: return t("err.invalid");
  }
}

/** Marks a field invalid with a message under it (linked for screen readers); null clears it. */
export function setFieldError(control, message) {
  const label = control.closest("label") || control.parentElement;
  let note = label.querySelector(".field-error");
  if (!message) {
    control.removeAttribute("aria-invalid");
    if (note) note.remove();
    return;
  }
  if (!note) {
    note = h("span", { class: "field-error", id: `${control.id || control.name}-error` });
    label.append(note);
  }
  note.textContent = message;
  control.setAttribute("aria-invalid", "true");
  control.setAttribute("aria-describedby", note.id);
}

/** Shows each of the API's per-field details next to its control; returns the details no control took. */
export function showFieldErrors(form, error) {
  const left = [];
  for (const detail of (error && error.details) || []) {
    const loc = detail.loc || [];
    let control = null;
    for (let i = loc.length - 1; i >= 0 && !control; i--) {
      const name = String(loc[i]);
      control = form.querySelector(`[name="${CSS.escape(name)}"]`) || form.querySelector(`[name$=".${CSS.escape(name)}"]`);
    }
    if (control) setFieldError(control, fieldMessage(detail.type, control));
    else left.push(detail);
  }
  return left;
}

/** Checks the form like the server will (required after trimming, lengths, e-mail); true when all is well. */
export function checkFields(form) {
  let firstBad = null;
  for (const control of form.querySelectorAll("input[name], textarea[name], select[name]")) {
    if (control.closest("[hidden]") || control.type === "checkbox") continue;
    let problem = null;
    const value = control.value;
    if (control.required && !value.trim()) problem = "blank";
    else if (!control.validity.valid) {
      for (const key of ["valueMissing", "typeMismatch", "tooShort", "tooLong", "rangeUnderflow", "rangeOverflow", "badInput", "patternMismatch"]) {
        if (control.validity[key]) { problem = key; break; }
      }
    } else if (value && control.dataset.maxlength && value.length > Number(control.dataset.maxlength)) problem = "too_long";
    else if (value && control.minLength > 0 && value.trim().length < control.minLength) problem = "too_short";
    setFieldError(control, problem ? fieldMessage(problem, control) : null);
    if (problem && !firstBad) firstBad = control;
  }
  if (firstBad) firstBad.focus();
  return !firstBad;
}

let fieldCounter = 0;

/** A labelled field: {name, label, type: text|email|password|number|textarea|select|checkbox|checkboxes|datetime-local, ...}. */
export function field(spec) {
  const id = `f${++fieldCounter}`;
  if (spec.type === "checkbox") {
    return h("label", { class: "check", for: id, hidden: spec.hidden },
      h("input", { id, name: spec.name, type: "checkbox", checked: spec.value }), spec.label);
  }
  if (spec.type === "checkboxes") {
    // Several choices of one field (team members, an agent's teams): a group of labelled checkboxes.
    const chosen = new Set((spec.value || []).map(String));
    return h("fieldset", { class: "choices", "data-name": spec.name, hidden: spec.hidden },
      h("legend", {}, spec.label),
      spec.options.length ? spec.options.map(([value, label]) => h("label", { class: "check" },
        h("input", { type: "checkbox", "data-group": spec.name, value, checked: chosen.has(String(value)) }), label))
        : h("span", { class: "muted" }, spec.empty || t("common.empty")));
  }
  let control;
  if (spec.type === "select") {
    control = h("select", { id, name: spec.name, "data-agent-options": spec.agentOptions ? "true" : null },
      spec.options.map(([value, label]) => h("option", { value, selected: String(spec.value ?? "") === String(value) }, label)));
  } else if (spec.type === "textarea") {
    control = h("textarea", {
      id, name: spec.name, rows: spec.rows || 3, required: spec.required, placeholder: spec.placeholder,
      minlength: spec.minlength, "data-maxlength": spec.maxlength,
    });
    control.value = spec.value ?? "";
  } else {
    control = h("input", {
      id, name: spec.name, type: spec.type || "text", required: spec.required, value: spec.value ?? "",
      autocomplete: spec.autocomplete, min: spec.min, max: spec.max, step: spec.step, placeholder: spec.placeholder,
      minlength: spec.minlength, maxlength: spec.maxlength, pattern: spec.pattern,
    });
  }
  return h("label", { for: id, hidden: spec.hidden }, h("span", {}, spec.label), control, spec.hint ? h("small", { class: "muted" }, spec.hint) : null);
}

/** Reads a form's named controls into an object (checkboxes as booleans, groups as lists, numbers as numbers, empty as undefined). */
export function formValues(form) {
  const values = {};
  for (const control of form.querySelectorAll("[name]")) {
    if (control.closest("[hidden]")) continue;
    if (control.tagName === "FIELDSET") continue;
    if (control.type === "checkbox") values[control.name] = control.checked;
    else if (control.value === "") values[control.name] = undefined;
    else if (control.type === "number") values[control.name] = Number(control.value);
    else values[control.name] = control.value;
  }
  for (const group of form.querySelectorAll("fieldset.choices")) {
    if (group.closest("[hidden]")) continue;
    values[group.dataset.name] = [...group.querySelectorAll("input:checked")].map((i) => i.value);
  }
  return values;
}

/** A form that checks its fields, runs `submit(values)` and shows the API's errors in place (per field when it can). */
export function apiForm({ fields, submitLabel, submit, inline = false, className = "", buttonClass = null }) {
  const status = h("div", { "aria-live": "polite", class: "form-status" });
  const button = h("button", { type: "submit", class: buttonClass }, submitLabel);
  const form = h("form", { class: `${inline ? "inline" : "stack"} ${className}`, novalidate: true }, fields.map(field), h("div", {}, button), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.replaceChildren();
    if (!checkFields(form)) return;
    button.disabled = true;
    try {
      await submit(formValues(form), form);
    } catch (error) {
      const left = showFieldErrors(form, error);
      const shownAtFields = error && error.details && error.details.length && !left.length;
      status.replaceChildren(shownAtFields
        ? h("p", { class: "error", role: "alert" }, t("errcode.validation_error"))
        : errorBox(error));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

export function table(rows, columns) {
  if (!rows.length) return h("p", { class: "muted" }, t("common.empty"));
  return h("table", {},
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.label)))),
    h("tbody", {}, rows.map((row) => h("tr", {}, columns.map((c) => h("td", {}, c.render(row)))))));
}

/** A JSON value as a readable list, with known keys translated (`keys`: prefix of their translation keys). */
export function describe(value, keys = null) {
  if (value === null || value === undefined || value === "") return h("span", { class: "muted" }, "—");
  if (Array.isArray(value)) return value.length ? h("ul", {}, value.map((v) => h("li", {}, describe(v, keys)))) : h("span", { class: "muted" }, "—");
  if (typeof value === "object") {
    const label = (k) => {
      if (!keys) return k;
      const key = `${keys}.${k}`;
      const text = t(key);
      return text === key ? k.replace(/_/g, " ") : text;
    };
    return h("dl", {}, Object.entries(value).flatMap(([k, v]) => [h("dt", {}, label(k)), h("dd", {}, describe(v, keys))]));
  }
  if (typeof value === "boolean") return h("span", {}, value ? t("common.yes") : t("common.no"));
  return h("span", {}, String(value));
}

/** "5 min", "2 h 10 min", "3 d": how long since a time, for waiting customers. */
export function since(value, now = Date.now()) {
  if (!value) return "";
  const minutes = Math.max(0, Math.floor((now - new Date(value).getTime()) / 60000));
  if (minutes < 1) return t("time.now");
  if (minutes < 60) return t("time.minutes", { n: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return t("time.hours", { h: hours, m: minutes % 60 });
  return t("time.days", { n: Math.floor(hours / 24) });
}
