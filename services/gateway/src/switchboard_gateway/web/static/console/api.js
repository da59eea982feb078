// REST calls with the agent's bearer token; every failure becomes an ApiError carrying the JSON error body.

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    // Per-field problems ({loc: ["body", "password"], type: "string_too_short", msg}), shown next to the field.
    this.details = Array.isArray(details) ? details : [];
  }
}

const TOKEN_KEY = "switchboard.token";

export const auth = {
  get token() { return sessionStorage.getItem(TOKEN_KEY); },
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value); else sessionStorage.removeItem(TOKEN_KEY);
  },
};

// A busy server answers 503 `overloaded` (or 429) with Retry-After: reads and idempotent writes (PUT, DELETE: the
// same request twice leaves what once does) wait that long and ask again, a few times, instead of showing an
// empty screen or a failed change (a silently empty agents list left "@" mentions with nothing to suggest; a
// refused presence change left the agent Online). Other writes are not repeated; their error is shown.
const RETRIES = 3;
const REPEATABLE = new Set(["GET", "HEAD", "PUT", "DELETE"]);
const MAX_WAIT_MS = 5000;

function retryDelay(response) {
  const seconds = Number(response.headers.get("retry-after"));
  return Math.min(MAX_WAIT_MS, Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 500);
}

export async function api(method, path, body) {
  const headers = {};
  if (auth.token) headers.authorization = `Bearer ${auth.token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let response;
  for (let attempt = 0; ; attempt += 1) {
    try {
      response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (error) {
      throw new ApiError(0, "network_error", error.message);
    }
    const busy = response.status === 503 || response.status === 429;
    if (!busy || !REPEATABLE.has(method) || attempt >= RETRIES) break;
    await new Promise((resolve) => setTimeout(resolve, retryDelay(response)));
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!response.ok) {
    const err = data && data.error ? data.error : {};
    let message = err.message || (typeof data === "string" && data) || response.statusText;
    if (!err.message && data && Array.isArray(data.detail)) message = data.detail.map((d) => d.msg).join("; ");
    // An expired or revoked session: the shell goes back to the login screen.
    if (response.status === 401 && headers.authorization) window.dispatchEvent(new Event("switchboard:unauthorized"));
    throw new ApiError(response.status, err.code || `http_${response.status}`, message, err.details);
  }
  return data;
}

export function socketUrl(path, params) {
  const url = new URL(path, location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  for (const [key, value] of Object.entries(params)) if (value) url.searchParams.set(key, value);
  return url.toString();
}
