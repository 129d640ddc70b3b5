// The account page: profile, avatar (avatar.js), email, password, credits
// (credits.js), devices and sessions (devices.js), notification
// preferences and deleting the account.
import { authed, call, forget, session, signOut } from "./api.js";
import { renderAvatar } from "./avatar.js";
import { renderCredits } from "./credits.js";
import { renderDevices } from "./devices.js";
import { field, form, h, humanize, ordered, showProblem } from "./forms.js";

// Shown, not edited here: identity, state and times the service keeps.
const READ_ONLY = new Set(["userId", "id", "email", "pending_email", "email_verified", "status",
  "created_at", "updated_at", "last_login", "avatar_url", "message", "phone_number",
  "country_code", "needs_profile", "location_id"]);

function card(title, ...children) {
  const id = `h-${title.toLowerCase().replace(/[^a-z]+/g, "-")}`;
  return h("section", { "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

function profileForm(user) {
  const names = ordered(Object.keys(user)).filter((name) => !READ_ONLY.has(name)
    && (typeof user[name] === "string" || user[name] === null));
  const labels = { username: "Username", mobileNo: "Mobile number", phoneNo: "Phone number",
    personalNo: "Personal number", unitname: "Unit name", first_name: "First name",
    last_name: "Last name", birth_date: "Date of birth", name: "Name" };
  return form({
    label: "Profile",
    fields: names.map((name) => field({ name, label: labels[name] || humanize(name), value: user[name] ?? "",
      type: name === "birth_date" ? "date" : "text", autocomplete: name === "username" ? "username" : "off" })),
    button: "Save the profile",
    async submit(values) {
      const changed = {};
      for (const name of names) if (values[name] !== (user[name] ?? "")) changed[name] = values[name];
      if (!Object.keys(changed).length) return "Nothing to save.";
      const answer = await authed("PATCH", "/users/me", changed);
      Object.assign(user, answer.data && answer.data.user ? answer.data.user : changed);
      return "Profile saved.";
    },
  });
}

function emailSection(user) {
  const facts = [h("p", {}, "Current address: ", h("strong", {}, user.email),
    user.email_verified ? " (confirmed)" : " (not confirmed yet)")];
  if (user.pending_email) {
    facts.push(h("p", { class: "muted" }, `Waiting for confirmation: ${user.pending_email}. Follow the link mailed there.`));
  }
  if (!user.email_verified) {
    const status = h("p", { role: "status", "aria-live": "polite" });
    facts.push(h("div", { class: "row" }, h("button", { type: "button", class: "secondary", async onclick() {
      await call("POST", "/auth/email/confirm/resend", { email: user.email }).catch(() => {});
      status.textContent = "A new confirmation link is on its way.";
    } }, "Send the confirmation link again"), status));
  }
  return card("Email address", ...facts, form({
    label: "Change the email address",
    fields: [
      field({ name: "email", label: "New email address", type: "email", autocomplete: "email", required: true }),
      field({ name: "current_password", label: "Your password", type: "password", autocomplete: "current-password", required: true }),
    ],
    button: "Change the address",
    async submit(values) {
      await authed("PATCH", "/users/me", values);
      return `A confirmation link is on its way to ${values.email}. The address changes when you follow it.`;
    },
  }));
}

function passwordSection() {
  return card("Password", form({
    label: "Change the password",
    fields: [
      field({ name: "current_password", label: "Current password", type: "password", autocomplete: "current-password", required: true }),
      field({ name: "new_password", label: "New password", type: "password", autocomplete: "new-password", required: true,
        hint: "At least 8 characters; not a common password." }),
      field({ name: "confirm_password", label: "Repeat the new password", type: "password", autocomplete: "new-password", required: true }),
    ],
    button: "Change the password",
    async submit(values, element) {
      await authed("POST", "/auth/password/change", values);
      element.reset();
      return "Password changed. Every other session has been signed out.";
    },
  }));
}

const CHANNELS = ["email", "push", "sms"];

function preferencesSection(preferences) {
  const groups = Object.entries(preferences).map(([category, channels]) => h("fieldset", {},
    h("legend", {}, humanize(category)),
    CHANNELS.filter((channel) => channel in channels).map((channel) => h("label", { class: "check" },
      h("input", { type: "checkbox", name: `${category}.${channel}`, checked: channels[channel],
        disabled: category === "security" && channel === "email" }),
      channel === "sms" ? "Text message" : humanize(channel)))));
  return card("Notifications", form({
    label: "Notification preferences",
    fields: groups,
    button: "Save the preferences",
    async submit(values) {
      const body = {};
      for (const [name, on] of Object.entries(values)) {
        const [category, channel] = name.split(".");
        if (category === "security" && channel === "email") continue;
        (body[category] ??= {})[channel] = on;
      }
      await authed("PUT", "/users/me/preferences", body);
      return "Preferences saved.";
    },
  }));
}

function deleteSection(user) {
  const byPhone = !user.email && user.phone_number;
  return card("Delete the account", h("p", {}, "This removes the account and its data. It cannot be undone."), form({
    label: "Delete the account",
    fields: [byPhone
      ? field({ name: "phone_number", label: "Your phone number", type: "tel", required: true })
      : field({ name: "password", label: "Your password", type: "password", autocomplete: "current-password", required: true })],
    button: "Delete my account",
    async submit(values) {
      if (!confirm("Delete your account and all its data?")) return "Not deleted.";
      await authed("DELETE", "/users/me", values);
      forget();
      location.assign("/ui/login#deleted");
    },
  }));
}

export async function render(view) {
  if (!session()) {
    location.replace("/ui/login");
    return;
  }
  try {
    const [me, preferences] = await Promise.all([
      authed("GET", "/users/me"),
      authed("GET", "/users/me/preferences"),
    ]);
    const user = me.data.user;
    const greeting = h("p", { role: "status" }, location.hash === "#welcome"
      ? `Welcome, ${user.username || user.name || user.email}. Your account is ready; we have emailed you a link to confirm your address.`
      : `Signed in as ${user.username || user.email || user.name || user.phone_number}.`);
    const signOutButton = h("button", { type: "button", class: "secondary", async onclick() {
      await signOut().catch(() => {});
      location.assign("/ui/login");
    } }, "Sign out");
    const devices = h("div");
    const avatar = h("div");
    const credits = h("div");
    view.replaceChildren(
      h("div", { class: "row card" }, greeting, signOutButton),
      card("Profile", profileForm(user)),
      card("Avatar", avatar),
      user.email ? emailSection(user) : null,
      user.email ? passwordSection() : null,
      card("Credits", credits),
      card("Devices and sessions", devices),
      preferencesSection(preferences.data.preferences || preferences.data),
      deleteSection(user),
    );
    // The avatar and the credits show their own problems; the devices'
    // failing fails the page, as before.
    await Promise.all([renderAvatar(avatar, user), renderCredits(credits), renderDevices(devices)]);
  } catch (error) {
    if (error.status === 401) {
      forget();
      location.replace("/ui/login");
      return;
    }
    showProblem(view, error);
  }
}
