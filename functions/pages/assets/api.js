// Calls to the service, and the session this tab holds.
//
// Tokens live in sessionStorage (see docs/PAGES.md): this tab only, gone
// when it closes, never sent by the browser on its own (so no CSRF), and
// readable only by this origin's scripts, which the CSP limits to ours.

const SESSION = "accounts.session";
const DEVICE = "accounts.device";

export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    super((body && (body.error || body.message)) || `The service answered ${status}.`);
    this.status = status;
    this.errors = (body && body.errors) || {};
    this.retryAfter = retryAfter;
  }
}

export function session() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION));
  } catch {
    return null;
  }
}

export function saveTokens(tokens) {
  sessionStorage.setItem(SESSION, JSON.stringify({
    access: tokens.access_token,
    refresh: tokens.refresh_token,
    expires: Date.now() + (tokens.expires_in || 900) * 1000,
  }));
}

export function forget() {
  sessionStorage.removeItem(SESSION);
}

// A stable id for this browser, so the account page can list it and sign
// it out; not a secret.
export function device() {
  let id = localStorage.getItem(DEVICE);
  if (!id) {
    const bytes = crypto.getRandomValues(new Uint8Array(12));
    id = "web-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    localStorage.setItem(DEVICE, id);
  }
  const info = { platform: "web", model: "Web browser" };
  const os = navigator.userAgentData?.platform || navigator.platform;
  if (os && os.trim()) info.os_version = os.trim().slice(0, 100);
  if (navigator.language) info.language_code = navigator.language;
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone) info.timezone = zone;
  return { device_id: id, device_info: info };
}

async function send(method, path, body, token) {
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, {
      method, headers, credentials: "omit", cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { message: "The service cannot be reached. Check your connection and try again." });
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data, response.headers.get("retry-after"));
  return data;
}

// One refresh at a time: the service treats a second use of a refresh
// token as theft after its grace period.
let refreshing = null;

function refresh() {
  refreshing ??= (async () => {
    const held = session();
    if (!held) return null;
    try {
      const answer = await send("POST", "/auth/token/refresh", { refresh_token: held.refresh });
      saveTokens(answer.data || answer);
      return session().access;
    } catch (error) {
      if (error.status === 401) forget();
      throw error;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

async function accessToken() {
  const held = session();
  if (!held) return null;
  if (held.expires - Date.now() > 30000) return held.access;
  return refresh();
}

export function notSignedIn() {
  return new ApiError(401, { message: "You are not signed in." });
}

// A call without a token.
export function call(method, path, body) {
  return send(method, path, body);
}

// A call as the signed-in user; one refresh and retry if the access token
// was refused.
export async function authed(method, path, body) {
  const token = await accessToken();
  if (!token) throw notSignedIn();
  try {
    return await send(method, path, body, token);
  } catch (error) {
    if (error.status !== 401 || !session()) throw error;
    const fresh = await refresh();
    if (!fresh) throw notSignedIn();
    return send(method, path, body, fresh);
  }
}

export async function signIn(path, body) {
  const answer = await call("POST", path, { ...body, ...device() });
  saveTokens(answer.data || answer);
  return answer;
}

export async function signOut(all = false) {
  try {
    await authed("POST", "/auth/logout", all ? { all: true } : {});
  } finally {
    forget();
  }
}
