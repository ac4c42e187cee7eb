// The finance desk (issue 15): contracts with their instalments and receipts, and the mortgage pipeline by
// stage with the stalled ones (past their stage's deadline) first. Money stays a decimal string.

export interface ContractSummary {
  id: number;
  contract_no: string;
  stage: string;
  signed_on: string;
  filing_due: string;
  filed_on: string | null;
  filing_status: string;
  days_to_filing_due: number;
}

export interface InstalmentOut {
  seq: number;
  label: string;
  due_on: string;
  amount_due: string;
  amount_paid: string;
  outstanding: string;
  status: string; // paid / overdue / due
  late_fee: string;
  days_overdue: number;
  accruing_late_fee: string;
}

export interface ReceiptOut {
  id: number;
  amount: string;
  received_on: string;
  reference: string;
}

export interface ContractOut extends ContractSummary {
  price: string;
  paid_amount: string;
  payment_plan: { method: string | null; total_due: string; outstanding: string; late_fee_total: string; instalments: InstalmentOut[] };
  receipts: ReceiptOut[];
}

export interface Mortgage {
  loan_id: string;
  stage: string;
  contract_id: number | null;
  contract_no: string | null;
  bank: string | null;
  loan_amount: string | null;
  requested_on: string | null;
  documents_due: string | null;
  documents_due_basis: string | null;
  approval_expected_by: string | null;
  stage_deadline: string | null;
  stalled: boolean;
  rejection_cause: string | null;
}

/** The pipeline's columns, in the order a loan moves (DOMAIN §3). */
export const STAGES = [
  "awaiting_documents", "documents_complete", "signed", "under_review", "approved", "registering", "disbursed", "rejected",
] as const;

/** A loan is stalled once today is past its stage's deadline (the deadline day itself is on time). */
export function isStalled(m: Pick<Mortgage, "stage_deadline">, today: string): boolean {
  return !!m.stage_deadline && today > m.stage_deadline;
}

/** The pipeline: every stage (empty ones too), stalled loans first, then by deadline; unknown stages at the end. */
export function pipeline(loans: Mortgage[], today: string): { stage: string; loans: Mortgage[]; stalled: number }[] {
  const stages: string[] = [...STAGES];
  for (const m of loans) if (!stages.includes(m.stage)) stages.push(m.stage);
  return stages.map((stage) => {
    const here = loans
      .filter((m) => m.stage === stage)
      .sort((a, b) => Number(isStalled(b, today)) - Number(isStalled(a, today))
        || (a.stage_deadline ?? "9999").localeCompare(b.stage_deadline ?? "9999"));
    return { stage, loans: here, stalled: here.filter((m) => isStalled(m, today)).length };
  });
}

const DECIMAL = /^\d{1,12}(\.\d{1,2})?$/;
const ISO = /^\d{4}-\d{2}-\d{2}$/;

export interface ReceiptForm { amount: string; received_on: string; reference: string }

/** The receipt form's own checks, as the server makes them (it decides): per field, a message key. */
export function receiptErrors(f: ReceiptForm, signedOn: string, today: string): Record<string, string> {
  const out: Record<string, string> = {};
  const amount = f.amount.trim();
  if (!DECIMAL.test(amount) || Number(amount) <= 0) out.amount = "money_amount_invalid";
  if (!ISO.test(f.received_on)) out.received_on = "money_date_invalid";
  else if (f.received_on > today) out.received_on = "money_date_future";
  else if (f.received_on < signedOn) out.received_on = "money_date_before_contract";
  return out;
}

export interface MortgageForm { contract_id: number | null; requested_on: string; bank: string; loan_amount: string }

export function mortgageErrors(f: MortgageForm, signedOn: string | null, today: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (f.contract_id === null) out.contract_id = "money_contract_required";
  if (!ISO.test(f.requested_on)) out.requested_on = "money_date_invalid";
  else if (f.requested_on > today) out.requested_on = "money_date_future";
  else if (signedOn && f.requested_on < signedOn) out.requested_on = "money_date_before_contract";
  if (!f.bank.trim()) out.bank = "money_bank_required";
  const amount = f.loan_amount.trim();
  if (!DECIMAL.test(amount) || Number(amount) <= 0) out.loan_amount = "money_amount_invalid";
  return out;
}

/** Server field errors ("body.received_on") onto the form's fields ("received_on"). */
export function fieldErrors(errors: { field: string; message: string }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of errors) {
    const name = e.field.replace(/^body\./, "");
    if (!(name in out)) out[name] = e.message;
  }
  return out;
}
