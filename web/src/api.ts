// The one way the app talks to the API: every call carries the person's access token, so the server's
// rules and authorisation apply unchanged. A 401 is answered by one refresh and one retry; when that
// fails the person signs in again and comes back to where they were (their drafts are kept).
import { i18n } from "./i18n";
import { router } from "./router";
import { useSession } from "./stores/session";

export interface FieldError {
  field: string;
  code: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: FieldError[] = [],
    readonly code = "",
    /** the stable dotted code (domain/messages.py), its parameters, and the server's Chinese wording */
    readonly key: string | null = null,
    readonly params: Record<string, unknown> | null = null,
    readonly message_zh: string | null = null,
  ) {
    super(message);
  }
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  form?: FormData | URLSearchParams;
  headers?: Record<string, string>;
}

async function send(path: string, options: CallOptions): Promise<Response> {
  const session = useSession();
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  let payload: BodyInit | undefined;
  if (options.form) payload = options.form;
  else if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(options.body);
  }
  const once = () => {
    if (session.token) headers.Authorization = `Bearer ${session.token}`;
    return fetch(path, { method: options.method ?? "GET", headers, body: payload });
  };
  let res = await once();
  if (res.status === 401 && session.token && !path.startsWith("/api/auth/")) {
    if (await session.refresh()) res = await once();
    if (res.status === 401) {
      session.clear();
      const here = router.currentRoute.value;
      // Before the first navigation has resolved, the address (not the router's empty start) is where they were.
      const next = here.matched.length ? here.fullPath : window.location.hash.replace(/^#/, "") || "/home";
      if (here.name !== "login") await router.push({ name: "login", query: { next, expired: "1" } });
      throw new ApiError(401, i18n.global.t("session_expired"), [], "unauthorized");
    }
  }
  return res;
}

async function failure(res: Response): Promise<ApiError> {
  let data: {
    message?: unknown; detail?: unknown; errors?: FieldError[]; code?: string;
    key?: unknown; params?: unknown; message_zh?: unknown;
  } = {};
  try {
    data = await res.json();
  } catch {
    /* not JSON */
  }
  const message =
    typeof data.message === "string" ? data.message : typeof data.detail === "string" ? data.detail : res.statusText;
  const params = data.params && typeof data.params === "object" ? (data.params as Record<string, unknown>) : null;
  return new ApiError(res.status, message, Array.isArray(data.errors) ? data.errors : [], data.code ?? "",
    typeof data.key === "string" ? data.key : null, params,
    typeof data.message_zh === "string" ? data.message_zh : null);
}

/** The JSON answer of an API call (null for 204); an ApiError for any other status. */
export async function api<T = unknown>(path: string, options: CallOptions = {}): Promise<T> {
  const res = await send(path, options);
  if (!res.ok) throw await failure(res);
  return (res.status === 204 ? null : await res.json()) as T;
}

/** The raw response of a successful call (files, images); an ApiError otherwise. */
export async function apiRaw(path: string, options: CallOptions = {}): Promise<Response> {
  const res = await send(path, options);
  if (!res.ok) throw await failure(res);
  return res;
}

/** Save what a GET answers as a file, named as the server names it. */
export async function download(path: string, fallbackName: string): Promise<void> {
  const res = await apiRaw(path);
  const disposition = res.headers.get("Content-Disposition") ?? "";
  const m = disposition.match(/filename\*=UTF-8''([^;]+)/);
  const name = m ? decodeURIComponent(m[1]) : fallbackName;
  const url = URL.createObjectURL(await res.blob());
  const a = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 5000);
}
