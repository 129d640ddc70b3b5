// Sign-in: a username or email with the password, or a phone number with a
// texted code (POST /auth/phone/otp, then /auth/phone/login).
import { call, session, signIn } from "./api.js";
import { field, form, h } from "./forms.js";

function goToAccount() {
  location.assign("/ui/account");
}

function passwordForm() {
  return form({
    label: "Sign in with a password",
    fields: [
      field({ name: "login", label: "Username or email address", autocomplete: "username", required: true }),
      field({ name: "password", label: "Password", type: "password", autocomplete: "current-password", required: true }),
    ],
    button: "Sign in",
    async submit(values) {
      await signIn("/auth/login", values);
      goToAccount();
    },
  });
}

function codeForm() {
  const phone = field({ name: "phone_number", label: "Phone number", type: "tel", autocomplete: "tel",
    required: true, hint: "With the country code, e.g. +919876543210." });
  const code = field({ name: "code", label: "The 6-digit code", autocomplete: "one-time-code",
    inputmode: "numeric", maxLength: 6, required: true });
  code.hidden = true;
  let sent = false;
  const element = form({
    label: "Sign in with a texted code",
    fields: [phone, code],
    button: "Text me a code",
    async submit(values) {
      if (!sent) {
        const answer = await call("POST", "/auth/phone/otp", { phone_number: values.phone_number, purpose: "login" });
        sent = true;
        code.hidden = false;
        again.hidden = false;
        element.querySelector("button[type=submit]").textContent = "Sign in";
        code.querySelector("input").focus();
        const wait = answer.data && answer.data.resend_after;
        return `If an account has this number, a code is on its way.${wait ? ` You can ask for another in ${wait} seconds.` : ""}`;
      }
      await signIn("/auth/phone/login", { phone_number: values.phone_number, code: values.code });
      goToAccount();
    },
  });
  const again = h("button", { type: "button", class: "secondary", onclick() {
    sent = false;
    code.hidden = true;
    again.hidden = true;
    element.querySelector("button[type=submit]").textContent = "Text me a code";
    phone.querySelector("input").focus();
  } }, "Use another number");
  again.hidden = true;
  element.querySelector(".row").append(again);
  return element;
}

export async function render(view) {
  const parts = [];
  if (session()) {
    parts.push(h("p", { class: "card" }, "You are signed in. ", h("a", { href: "/ui/account" }, "Go to your account")));
  }
  parts.push(
    h("section", { "aria-labelledby": "with-password" }, h("h2", { id: "with-password" }, "With a password"), passwordForm()),
    h("section", { "aria-labelledby": "with-code" }, h("h2", { id: "with-code" }, "With a code by text message"), codeForm()),
    h("p", {}, h("a", { href: "/ui/signup" }, "Create an account"), " · ",
      h("a", { href: "/ui/reset-password" }, "Forgot your password?")),
  );
  view.replaceChildren(...parts);
}
