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

export function errorBox(error) {
  const code = error && error.code ? `${error.code}: ` : "";
  return h("p", { class: "error", role: "alert" }, t("error.prefix"), " ", code + (error ? error.message : ""));
}

export function toast(message) {
  const box = document.getElementById("toast");
  box.textContent = message;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.textContent = ""; }, 4000);
}

let fieldCounter = 0;

/** A labelled field: {name, label, type: text|email|password|number|textarea|select|checkbox|datetime-local, ...}. */
export function field(spec) {
  const id = `f${++fieldCounter}`;
  if (spec.type === "checkbox") {
    return h("label", { class: "check", for: id },
      h("input", { id, name: spec.name, type: "checkbox", checked: spec.value }), spec.label);
  }
  let control;
  if (spec.type === "select") {
    control = h("select", { id, name: spec.name },
      spec.options.map(([value, label]) => h("option", { value, selected: String(spec.value ?? "") === String(value) }, label)));
  } else if (spec.type === "textarea") {
    control = h("textarea", { id, name: spec.name, rows: spec.rows || 3, required: spec.required, placeholder: spec.placeholder });
    control.value = spec.value ?? "";
  } else {
    control = h("input", {
      id, name: spec.name, type: spec.type || "text", required: spec.required, value: spec.value ?? "",
      autocomplete: spec.autocomplete, min: spec.min, step: spec.step, placeholder: spec.placeholder,
    });
  }
  return h("label", { for: id, hidden: spec.hidden }, h("span", {}, spec.label), control);
}

/** Reads a form's named controls into an object (checkboxes as booleans, numbers as numbers, empty as undefined). */
export function formValues(form) {
  const values = {};
  for (const control of form.querySelectorAll("[name]")) {
    if (control.closest("[hidden]")) continue;
    if (control.type === "checkbox") values[control.name] = control.checked;
    else if (control.value === "") values[control.name] = undefined;
    else if (control.type === "number") values[control.name] = Number(control.value);
    else values[control.name] = control.value;
  }
  return values;
}

/** A form that runs `submit(values)` and shows the API's error in place. */
export function apiForm({ fields, submitLabel, submit, inline = false, className = "" }) {
  const status = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit" }, submitLabel);
  const form = h("form", { class: `${inline ? "inline" : "stack"} ${className}` }, fields.map(field), h("div", {}, button), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.replaceChildren();
    button.disabled = true;
    try {
      await submit(formValues(form), form);
    } catch (error) {
      status.replaceChildren(errorBox(error));
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

/** Any JSON value as a readable definition list (for API objects whose shape may grow). */
export function describe(value) {
  if (value === null || value === undefined) return h("span", { class: "muted" }, "—");
  if (Array.isArray(value)) return h("ul", {}, value.map((v) => h("li", {}, describe(v))));
  if (typeof value === "object") {
    return h("dl", {}, Object.entries(value).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, describe(v))]));
  }
  return h("span", {}, String(value));
}
