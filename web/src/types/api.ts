// The API's answers, as far as the screens read them (the OpenAPI document at /docs has them whole).

export interface Task {
  id: number;
  case_id: string;
  case_no: string;
  kind: string;
  role: string;
  title: string;
  due_at: string | null;
  overdue?: boolean;
  created_at?: string;
  status?: string;
  project_id?: number | null;
  claimed_by?: number | null;
  claimed_by_name?: string | null;
}

/** GET /api/tasks: one page of the inbox, nearest deadline first. */
export interface TaskPage {
  items: Task[];
  total: number;
  next_cursor: string | null;
}

export interface Warning {
  id: number;
  level: "yellow" | "orange" | "red";
  case_ref: string;
  response_due: string | null;
  respond_role: string;
  escalate_to: string;
  rules: { rule: string; detail?: string | null }[];
}

export interface Project {
  id: number;
  name: string;
  buildings: { id: number; name: string }[];
}
