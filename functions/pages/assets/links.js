// The targets of the mailed links: /ui/confirm-email#token=… and
// /ui/reset-password#token=…. The token rides in the fragment, which the
// browser never sends to a server or in a Referer; it is removed from the
// address bar (and so from the history) as soon as it is read.
import { call, forget, session } from "./api.js";
import { field, form, h, showProblem } from "./forms.js";

function takeToken() {
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  if (location.hash) history.replaceState(null, "", location.pathname);
  return token;
}

async function confirmEmail(view, token) {
  if (!token) {
    view.replaceChildren(h("p", { class: "card" }, "This page opens from the link in a confirmation email. ",
      "Ask for a new one on ", h("a", { href: "/ui/account" }, "your account page"), "."));
    return;
  }
  const status = h("p", { role: "status", "aria-live": "polite" }, "Confirming…");
  view.replaceChildren(h("section", {}, status));
  try {
    await call("POST", "/auth/email/confirm", { token });
    status.textContent = "Your email address is confirmed.";
    status.after(h("p", {}, h("a", { href: session() ? "/ui/account" : "/ui/login" },
      session() ? "Back to your account" : "Sign in")));
  } catch (error) {
    showProblem(view, error);
    view.append(h("p", {}, "Links work once and expire after a day. ",
      h("a", { href: "/ui/account" }, "Ask for a new one"), "."));
  }
}

function requestReset(view) {
  view.replaceChildren(h("section", {}, form({
    label: "Ask for a reset link",
    fields: [field({ name: "email", label: "Email address", type: "email", autocomplete: "email", required: true })],
    button: "Email me a link",
    async submit(values) {
      await call("POST", "/auth/password/reset", values);
      return "If an account has this address, a link to reset its password is on its way. It works for an hour.";
    },
  })));
}

function chooseNewPassword(view, token) {
  const done = h("div");
  view.replaceChildren(h("section", {}, form({
    label: "Choose a new password",
    fields: [
      field({ name: "new_password", label: "New password", type: "password", autocomplete: "new-password",
        required: true, hint: "At least 8 characters; not a common password." }),
      field({ name: "confirm_password", label: "Repeat the new password", type: "password",
        autocomplete: "new-password", required: true }),
    ],
    button: "Set the password",
    async submit(values) {
      await call("POST", "/auth/password/reset/confirm", { token, ...values });
      // Every session has ended, this tab's too.
      forget();
      done.replaceChildren(h("p", {}, h("a", { href: "/ui/login" }, "Sign in with the new password")));
      return "Your password is changed, and every session has been signed out.";
    },
  }), done));
}

let listening = false;

export async function render(view, page) {
  // A link opened in a tab already on this page changes only the fragment.
  if (!listening) {
    listening = true;
    addEventListener("hashchange", () => location.hash && render(view, page));
  }
  const token = takeToken();
  if (page === "confirm-email") return confirmEmail(view, token);
  return token ? chooseNewPassword(view, token) : requestReset(view);
}
