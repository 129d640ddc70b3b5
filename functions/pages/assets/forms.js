// Building forms and showing the service's answers: every input labelled,
// every error beside its field and in a summary that screen readers
// announce (role="alert"), successes in a polite live region.

let ids = 0;

// An element; text children are text nodes, never parsed as HTML.
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value == null) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name in element && typeof value !== "string") element[name] = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  element.append(...children.flat().filter((child) => child != null && child !== false));
  return element;
}

// One labelled input with its hint and its error line.
// spec: {name, label, type, required, autocomplete, hint, value, maxLength}
export function field(spec) {
  const id = `f${++ids}-${spec.name}`;
  const hint = spec.hint ? h("p", { class: "hint", id: `${id}-hint` }, spec.hint) : null;
  const error = h("p", { class: "error", id: `${id}-error` });
  const input = h("input", {
    id, name: spec.name, type: spec.type || "text",
    autocomplete: spec.autocomplete || "off",
    required: !!spec.required, "aria-required": spec.required ? "true" : null,
    maxlength: spec.maxLength ? String(spec.maxLength) : null,
    inputmode: spec.inputmode || null,
    "aria-describedby": [hint && hint.id, error.id].filter(Boolean).join(" "),
  });
  if (spec.value != null) input.value = spec.value;
  const label = h("label", { for: id }, spec.label,
    spec.required ? h("span", { class: "req", "aria-hidden": "true" }, " *") : null);
  return h("div", { class: "field", "data-field": spec.name }, label, input, hint, error);
}

// A form: a summary of errors, a status line, its fields and a button.
// submit(values, form) returns a promise; its ApiError is shown.
export function form({ label, fields, button, submit, extra = [] }) {
  const summary = h("div", { class: "summary", role: "alert", tabindex: "-1" });
  const status = h("p", { class: "status", role: "status", "aria-live": "polite" });
  const submitButton = h("button", { type: "submit" }, button);
  const element = h("form", { novalidate: true, "aria-label": label },
    summary, status, fields, extra, h("div", { class: "row" }, submitButton));
  element.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(element);
    submitButton.disabled = true;
    try {
      const message = await submit(values(element), element);
      if (message) status.textContent = message;
    } catch (error) {
      showErrors(element, error);
    } finally {
      submitButton.disabled = false;
    }
  });
  return element;
}

export function values(formElement) {
  const out = {};
  for (const input of formElement.querySelectorAll("input[name]")) {
    if (input.type === "checkbox") out[input.name] = input.checked;
    else out[input.name] = input.value;
  }
  return out;
}

export function clearErrors(formElement) {
  for (const line of formElement.querySelectorAll(".error")) line.textContent = "";
  for (const input of formElement.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  formElement.querySelector(".summary").textContent = "";
  formElement.querySelector(".status").textContent = "";
}

function describe(error) {
  if (error.status === 429 && error.retryAfter) {
    return `${error.message} Try again in ${error.retryAfter} seconds.`;
  }
  return error.message || "Something went wrong. Try again.";
}

// Field errors beside their inputs; the rest, and a count, in the summary.
export function showErrors(formElement, error) {
  const summary = formElement.querySelector(".summary");
  const list = h("ul");
  let first = null;
  error.fields = 0;
  for (const [name, problems] of Object.entries(error.errors || {})) {
    const text = problems.map((p) => p.message).join(" ");
    const box = formElement.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (box) {
      const input = box.querySelector("input");
      input.setAttribute("aria-invalid", "true");
      box.querySelector(".error").textContent = text;
      first ??= input;
      error.fields += 1;
      const label = box.querySelector("label").firstChild.textContent;
      list.append(h("li", {}, h("a", { href: `#${input.id}` }, `${label}: ${text}`)));
    } else {
      list.append(h("li", {}, text));
    }
  }
  const count = list.childElementCount;
  summary.append(h("p", {}, count && error.fields
    ? `Please correct ${error.fields === 1 ? "this field" : `these ${error.fields} fields`}:` : describe(error)));
  if (count) summary.append(list);
  (first || summary).focus();
}

// A problem outside any form (the page could not load).
export function showProblem(view, error) {
  view.replaceChildren(h("div", { class: "summary", role: "alert" }, describe(error)));
}

// The order fields are shown in; names not listed follow, in the order
// given.
const ORDER = ["username", "email", "password", "confirm_password", "password_confirm", "name",
  "first_name", "last_name", "rank", "unitname", "designation", "mobileNo", "personalNo", "phoneNo",
  "birth_date"];

export function ordered(names) {
  const rank = (name) => (ORDER.includes(name) ? ORDER.indexOf(name) : ORDER.length + names.indexOf(name));
  return [...names].sort((a, b) => rank(a) - rank(b));
}

// Turns `mobileNo`, `first_name` into "Mobile no", "First name".
export function humanize(name) {
  const words = name.replace(/([a-z])([A-Z])/g, "$1 $2").replace(/_/g, " ").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
