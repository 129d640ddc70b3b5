// Devices and sessions on the account page: each device with its sessions,
// a button to sign it out, and one to sign out everywhere.
import { authed, forget, signOut } from "./api.js";
import { h, showErrors } from "./forms.js";

function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

function describeDevice(device) {
  return [device.model, device.platform, device.os_version].filter(Boolean).join(" · ") || device.device_id;
}

export async function renderDevices(box) {
  const status = h("p", { class: "status", role: "status", "aria-live": "polite" });
  const problems = h("div", { class: "summary", role: "alert", tabindex: "-1" });
  const answer = await authed("GET", "/users/me/devices");
  const { items, other_sessions: others } = answer.data;
  const list = h("ul", { class: "devices" });
  for (const device of items) {
    const current = device.sessions.some((s) => s.current);
    const name = describeDevice(device);
    list.append(h("li", { "data-device": device.device_id },
      h("div", {}, h("strong", {}, name), current ? h("span", { class: "badge" }, " This device") : null),
      h("div", { class: "muted" }, `Last seen ${when(device.last_seen)}`, device.ip ? ` from ${device.ip}` : "",
        ` · ${device.sessions.length} session${device.sessions.length === 1 ? "" : "s"}`),
      h("button", { type: "button", class: "secondary", "aria-label": `Sign out ${name}${current ? " (this device)" : ""}`,
        async onclick(event) {
          event.currentTarget.disabled = true;
          try {
            await authed("DELETE", `/users/me/devices/${encodeURIComponent(device.device_id)}`);
            if (current) {
              forget();
              location.assign("/ui/login");
              return;
            }
            event.target.closest("li").remove();
            status.textContent = `${name} is signed out.`;
          } catch (error) {
            showErrors(box, error);
            event.target.disabled = false;
          }
        } }, "Sign out")));
  }
  if (!items.length) list.append(h("li", { class: "muted" }, "No devices."));
  const rest = others.length
    ? h("p", { class: "muted" }, `${others.length} other session${others.length === 1 ? "" : "s"} without a device name.`)
    : null;
  const everywhere = h("button", { type: "button", class: "danger", async onclick() {
    await signOut(true).catch(() => {});
    location.assign("/ui/login");
  } }, "Sign out everywhere");
  box.replaceChildren(...[problems, status, list, rest, h("div", { class: "row" }, everywhere)].filter(Boolean));
}
