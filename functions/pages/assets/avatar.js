// The avatar on the account page: the picture or its state, an upload
// through the presigned form POST /users/me/avatar hands out, and removal.
// The service checks every file by its bytes; its verdict is what we show.
import { ApiError, authed } from "./api.js";
import { clearErrors, field, form, h, showErrors } from "./forms.js";

const TYPES = ["image/png", "image/jpeg", "image/webp"];
const MAX_BYTES = 5 * 1024 * 1024; // the API's limit (5 MiB)
// Waits between looks at the verdict: about a minute in all, then we stop
// asking (the picture may still arrive; a reload shows it).
const WAITS = [300, 600, 1200, 2500, 5000, 5000, 10000, 10000, 10000, 10000];

const REJECTED = "That file was not used: it is not a PNG, JPEG or WebP picture we could read. Choose another picture.";

// S3's refusals (and the local bucket's, which speaks S3), in plain words.
const REFUSALS = {
  EntityTooLarge: "The file is larger than the upload allowed. Choose the picture again.",
  AccessDenied: "The upload was refused; the form may have expired. Try again.",
};

function fileError(message) {
  return new ApiError(400, { message, errors: { file: [{ message }] } });
}

function check(file) {
  if (!file) return "Choose a picture first.";
  if (!TYPES.includes(file.type)) return "Choose a PNG, JPEG or WebP picture.";
  if (file.size === 0) return "That file is empty.";
  if (file.size > MAX_BYTES) {
    return `That file is ${(file.size / 1048576).toFixed(1)} MiB; a picture may be at most 5 MiB.`;
  }
  return null;
}

async function refusal(response) {
  const text = await response.text().catch(() => "");
  const code = new DOMParser().parseFromString(text, "application/xml")
    .querySelector("Error > Code")?.textContent;
  return REFUSALS[code] || `The upload was refused (${code || response.status}). Try again.`;
}

// The form from the service, then the file to where it says.
async function upload(file) {
  let answer;
  try {
    answer = await authed("POST", "/users/me/avatar", { content_type: file.type, size: file.size });
  } catch (error) {
    // The service names `content_type` and `size`: both are about the file.
    const problems = Object.values(error.errors || {}).flat();
    if (problems.length) throw fileError(problems.map((p) => p.message).join(" "));
    throw error;
  }
  const { url, fields } = answer.data.upload;
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  body.append("file", file); // last: S3 ignores fields after the file
  let response;
  try {
    response = await fetch(url, { method: "POST", body, credentials: "omit", cache: "no-store" });
  } catch {
    // A bucket that does not list this origin for CORS still takes the
    // form (it needs no preflight) but hides its answer: the avatar's
    // state below says whether the file arrived.
    return;
  }
  if (!response.ok) throw fileError(await refusal(response));
}

const wait = (ms) => new Promise((done) => setTimeout(done, ms));

// GET /users/me/avatar until it is no longer processing, or we give up.
async function verdict() {
  let state = (await authed("GET", "/users/me/avatar")).data;
  for (const ms of WAITS) {
    if (state.status !== "processing") break;
    await wait(ms);
    state = (await authed("GET", "/users/me/avatar")).data;
  }
  return state;
}

function picture(state) {
  switch (state.status) {
    case "ready":
      return h("img", { class: "avatar", src: state.url, alt: "Your avatar", width: "96", height: "96" });
    case "processing":
      return h("p", { class: "muted" }, "Your picture is being checked. Reload the page in a little while to see it.");
    case "rejected":
      return h("p", {}, REJECTED);
    case "loading":
      return h("p", { class: "muted" }, "Loading…");
    default:
      return h("p", { class: "muted" }, "No avatar yet.");
  }
}

// Draws the section into box; user is GET /users/me's user.
export async function renderAvatar(box, user) {
  const shown = h("div", { class: "avatar-box" });
  const remove = h("button", { type: "button", class: "secondary" }, "Remove avatar");
  const show = (state) => {
    shown.replaceChildren(picture(state));
    remove.hidden = state.status === "none" || state.status === "loading";
  };
  const chooser = field({ name: "file", label: "Choose a picture", type: "file",
    hint: "PNG, JPEG or WebP, at most 5 MiB. It replaces the current avatar." });
  chooser.querySelector("input").setAttribute("accept", TYPES.join(","));
  const element = form({
    label: "Avatar",
    fields: [chooser],
    button: "Upload the picture",
    async submit(_, formElement) {
      const file = formElement.querySelector("input[type=file]").files[0];
      const problem = check(file);
      if (problem) throw fileError(problem);
      const status = formElement.querySelector(".status");
      let state;
      try {
        status.textContent = "Uploading…";
        await upload(file);
        status.textContent = "Checking the picture…";
        state = await verdict();
      } finally {
        status.textContent = "";
      }
      show(state);
      formElement.reset();
      if (state.status === "rejected") throw fileError(REJECTED);
      if (state.status === "ready") return "Your new avatar is ready.";
      return "The picture is still being checked. Reload the page in a little while to see it.";
    },
  });
  remove.addEventListener("click", async () => {
    if (!confirm("Remove your avatar?")) return;
    clearErrors(element);
    remove.disabled = true;
    try {
      await authed("DELETE", "/users/me/avatar");
      show({ status: "none" });
      element.querySelector(".status").textContent = "Your avatar is removed.";
      element.querySelector("input[type=file]").focus();
    } catch (error) {
      showErrors(element, error);
    } finally {
      remove.disabled = false;
    }
  });
  box.replaceChildren(shown, element, h("div", { class: "row" }, remove));
  show(user.avatar_url ? { status: "ready", url: user.avatar_url } : { status: "loading" });
  if (!user.avatar_url) {
    try {
      const state = (await authed("GET", "/users/me/avatar")).data;
      show(state.status === "processing" ? await verdict() : state);
    } catch (error) {
      showErrors(element, error);
    }
  }
}
