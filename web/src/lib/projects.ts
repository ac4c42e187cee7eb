// The projects (sales offices) and their buildings: asked once per signed-in person, then kept for the
// rest of the session (a new sign-in asks again; a failed answer is not kept).
import { api } from "@/api";
import { useSession } from "@/stores/session";
import type { Project } from "@/types/api";

let cache: { who: string; list: Promise<Project[]> } | null = null;

/** GET /api/projects, cached for the signed-in person. */
export function loadProjects(): Promise<Project[]> {
  const session = useSession();
  const who = `${session.user?.username ?? ""}:${session.role ?? ""}`;
  if (cache && cache.who === who) return cache.list;
  const list = api<Project[]>("/api/projects");
  const entry = { who, list };
  cache = entry;
  list.catch(() => {
    if (cache === entry) cache = null;
  });
  return list;
}

/** Forget the list (another person signs in on the same tab, or projects changed). */
export function forgetProjects(): void {
  cache = null;
}

/** The project a screen shows: the one the address names (?project=), else the one the person works in
 * (the header's switcher) when it is among theirs, else their first. */
export function pickProject(list: Project[], wanted: unknown, current: number | null = null): number | null {
  const raw = Array.isArray(wanted) ? wanted[0] : wanted;
  const id = typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : null;
  if (id !== null) return id; // an unknown id is the server's to refuse (404), as the address asked
  if (current !== null && list.some((p) => p.id === current)) return current;
  return list[0]?.id ?? null;
}
