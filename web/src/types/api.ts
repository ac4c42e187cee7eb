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
