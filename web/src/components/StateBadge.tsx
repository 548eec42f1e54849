import { Badge } from "@mantine/core";
import { useTranslation } from "react-i18next";

const COLORS: Record<string, string> = {
  submitted: "blue",
  quoted: "violet",
  accepted: "cyan",
  in_progress: "yellow",
  report_delivered: "brand",
  completed: "green",
  declined: "red",
  cancelled: "gray",
  expired: "gray",
  issued: "green",
  active: "green",
  valid: "green",
  withdrawn: "red",
  revoked: "red",
  pending: "yellow",
  suspended: "red",
  verified: "green",
};

export function StateBadge({ state }: { state: string }) {
  const { t } = useTranslation();
  return (
    // "dot": the words stay dark on white (AA contrast); the colour is in the dot.
    <Badge color={COLORS[state] ?? "gray"} variant="dot" data-state={state}>
      {t(`states.${state}`, { defaultValue: state.replaceAll("_", " ") })}
    </Badge>
  );
}
