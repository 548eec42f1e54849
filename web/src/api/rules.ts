/**
 * Shapes of the rules service's answers. The rules routes do not declare response models on
 * main yet, so the generated client types them `unknown`; these are read from the live API and
 * go away once `npm run generate` picks up the models (then import from ./generated).
 */
export type Market = {
  code: string;
  name: string;
  kind: "country" | "union" | string;
  members: string[];
  unions: string[];
};
export type Interpretation = {
  kind: "hs" | "category" | string;
  key: string;
  name: string;
  score: number;
};
export type Question = { id: string; text: string; applies_when?: boolean; decides?: string[] };
export type Why = {
  reason: string;
  matched_hs_code: string | null;
  scope_hs_code: string | null;
  scope_category: string | null;
  narrower: boolean;
};
export type Requirement = {
  code: string;
  version: number;
  market: string;
  title: string;
  legal_reference: string;
  authority: string;
  evidence_type: string;
  issuers: string[];
  mandatory: boolean;
  conditional: boolean;
  match: "all" | "any" | string;
  questions: Question[];
  validity_months: number | null;
  url: string | null;
  notes: string | null;
  why?: Why;
};
export type Matched = {
  hs_code: string | null;
  hs_code_dotted: string | null;
  hs_description: string | null;
  category: { id: string; name: string; hs_codes: string[] } | null;
  interpretation: Interpretation | null;
};
export type SearchResult = {
  market: Market;
  matched: Matched;
  alternatives: Interpretation[];
  total: number;
  items: Requirement[];
};
export type SelfCheck = {
  market: Market;
  matched: Matched;
  questions: Question[];
  requirements: Requirement[];
};
export type ChecklistRequirement = {
  code: string;
  title: string;
  evidence_type: string;
  mandatory: boolean;
  conditional: boolean;
  applies: boolean;
  decided: boolean;
  reason: string;
  legal_reference: string;
  authority: string;
  issuers: string[];
  market: string;
  version: number;
  open_questions: string[];
};
export type Checklist = {
  id: string;
  owner_id: string;
  market: string;
  hs_code: string | null;
  category: string | null;
  created_at: string;
  updated_at: string;
  answers: Record<string, boolean>;
  open_questions: Question[];
  requirements: ChecklistRequirement[];
};
export type Page<T> = { items: T[]; total?: number };
