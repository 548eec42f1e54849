import type { Requirement } from "../../api/rules";

export type Decision = "applies" | "not-applicable" | "open";

/**
 * Whether a requirement applies given the answers so far, the way the rule base decides it:
 * mandatory ones always; conditional ones when all (or any, per `match`) of their deciding
 * questions are answered the way they name. Open while a deciding question is unanswered.
 */
export function decide(requirement: Requirement, answers: Record<string, boolean>): Decision {
  if (!requirement.conditional || requirement.questions.length === 0) return "applies";
  const results = requirement.questions.map((q) =>
    q.id in answers ? answers[q.id] === (q.applies_when ?? true) : undefined,
  );
  if (requirement.match === "any") {
    if (results.some((r) => r === true)) return "applies";
    return results.every((r) => r === false) ? "not-applicable" : "open";
  }
  if (results.some((r) => r === false)) return "not-applicable";
  return results.every((r) => r === true) ? "applies" : "open";
}
