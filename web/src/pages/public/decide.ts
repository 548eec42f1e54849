import type { ConditionOut, RequirementOut } from "../../api/generated/types.gen";

export type Decision = "applies" | "not-applicable" | "open";
/** A yes/no answer, or a number for a quantity question (in the question's unit). */
export type Answer = boolean | number;

const COMPARE: Record<string, (answer: number, bound: number) => boolean> = {
  gt: (a, b) => a > b,
  ge: (a, b) => a >= b,
  lt: (a, b) => a < b,
  le: (a, b) => a <= b,
};

/** Whether one answer is the one a condition names: yes/no, or every bound of a range holds. */
export function holds(condition: ConditionOut, answer: Answer): boolean {
  const wanted = condition.applies_when;
  if (typeof wanted === "boolean") return answer === wanted;
  if (typeof answer !== "number") return false;
  return Object.entries(wanted).every(([op, bound]) =>
    Array.isArray(bound)
      ? bound[0] <= answer && answer <= bound[1]
      : (COMPARE[op]?.(answer, Number(bound)) ?? false),
  );
}

/**
 * Whether a requirement applies given the answers so far, the way the rule base decides it:
 * mandatory ones always; conditional ones when all (or any, per `match`) of their deciding
 * questions are answered the way they name. Open while a deciding question is unanswered.
 */
export function decide(requirement: RequirementOut, answers: Record<string, Answer>): Decision {
  if (!requirement.conditional || requirement.questions.length === 0) return "applies";
  const results = requirement.questions.map((q) => {
    const answer = answers[q.id];
    return answer === undefined ? undefined : holds(q, answer);
  });
  if (requirement.match === "any") {
    if (results.some((r) => r === true)) return "applies";
    return results.every((r) => r === false) ? "not-applicable" : "open";
  }
  if (results.some((r) => r === false)) return "not-applicable";
  return results.every((r) => r === true) ? "applies" : "open";
}

/** The answers with one question answered, or its answer taken back. */
export function withAnswer(
  answers: Record<string, Answer>,
  question: string,
  answer: Answer | undefined,
): Record<string, Answer> {
  const { [question]: _, ...others } = answers;
  return answer === undefined ? others : { ...others, [question]: answer };
}
