/**
 * The rules administration API's answers. Those routes return hand-built JSON (no response
 * models), so the generated client types them `unknown`; these shapes are read from the service
 * (`version_view`, `history`, the import plan) and the diffs between versions are computed here.
 */

export type RuleStatus = "draft" | "published" | "retired";

/** The fields of a rule an administrator edits, in the order of the rule-file columns. */
export const RULE_FIELDS = [
  "title",
  "legal_reference",
  "authority",
  "evidence_type",
  "issuers",
  "hs_codes",
  "categories",
  "conditions",
  "match",
  "validity_months",
  "url",
  "notes",
] as const;
export type RuleField = (typeof RULE_FIELDS)[number];

export type RuleVersion = {
  code: string;
  market: string;
  title: string;
  legal_reference: string;
  authority: string;
  evidence_type: string;
  issuers: string[];
  hs_codes: string[];
  categories: string[];
  conditions: Record<string, boolean>;
  match: "all" | "any";
  validity_months: number | null;
  url: string | null;
  notes: string | null;
  version: number;
  status: RuleStatus;
  effective_from: string | null;
  effective_to: string | null;
  in_force: boolean;
  created_at: string;
  created_by: string | null;
  updated_at: string | null;
  updated_by: string | null;
};

export type RulePage = { items: RuleVersion[]; total: number; limit: number; offset: number };
export type RuleVersions = { code: string; versions: RuleVersion[] };
export type Change = { from: unknown; to: unknown };
export type HistoryEntry = {
  version: number;
  action: string;
  actor: string;
  at: string;
  source: string | null;
  changes: Record<string, Change>;
};
export type History = { code: string; items: HistoryEntry[] };
export type PlannedChange = {
  code: string;
  file: string;
  line: number;
  action: string;
  version: number;
  changes: Record<string, Change>;
};
export type ImportReport = {
  dry_run: boolean;
  file: string;
  counts: Record<string, number>;
  items: PlannedChange[];
};

/** The newest version: the one an edit changes (a draft) or starts a new draft after. */
export function newest(rule: RuleVersions): RuleVersion | undefined {
  return rule.versions[rule.versions.length - 1];
}

/** Field by field, what differs between two versions of a rule (their content only). */
export function diffVersions(
  older: RuleVersion,
  newer: RuleVersion,
): { field: RuleField; from: unknown; to: unknown }[] {
  return RULE_FIELDS.filter(
    (field) => JSON.stringify(older[field]) !== JSON.stringify(newer[field]),
  ).map((field) => ({ field, from: older[field], to: newer[field] }));
}

/** A field's value in words: lists joined, conditions as "question: yes/no", empty as "—". */
export function showValue(value: unknown): string {
  if (value === null || value === undefined || value === "") return "—";
  if (Array.isArray(value)) return value.length ? value.map(showValue).join(", ") : "—";
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    return entries.length ? entries.map(([k, v]) => `${k}: ${showValue(v)}`).join("; ") : "—";
  }
  return String(value);
}

const MOMENTS = new Set(["effective_from", "effective_to"]);

/** A changed field as a reader wants it: dates in the user's locale, the rest in words. */
export function showField(field: string, value: unknown, date: (iso: string) => string): string {
  return MOMENTS.has(field) && typeof value === "string" ? date(value) : showValue(value);
}

/** The rows of a recorded change worth showing: an empty list that became null is no change. */
export function visibleChanges(
  changes: Record<string, Change>,
): { field: string; from: unknown; to: unknown }[] {
  return Object.entries(changes)
    .filter(([, c]) => showValue(c.from) !== showValue(c.to))
    .map(([field, c]) => ({ field, from: c.from, to: c.to }));
}

/** Only the fields that changed, for a PATCH that touches nothing else. */
export function changedFields(
  before: RuleVersion,
  after: Partial<Pick<RuleVersion, RuleField>>,
): Partial<Pick<RuleVersion, RuleField>> {
  const changes: Record<string, unknown> = {};
  for (const field of RULE_FIELDS) {
    if (field in after && JSON.stringify(after[field]) !== JSON.stringify(before[field])) {
      changes[field] = after[field];
    }
  }
  return changes as Partial<Pick<RuleVersion, RuleField>>;
}

/** A `datetime-local` input's value (the user's local time) as an instant for the API. */
export function localToIso(value: string): string | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
