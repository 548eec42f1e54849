import { Anchor, Badge, Card, Group, List, Stack, Text, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";
import type { RequirementOut } from "../api/generated/types.gen";

/** One requirement: what it is, the law behind it, who checks it, what it takes, who issues it. */
export function RequirementCard({
  requirement: r,
  status,
}: {
  requirement: RequirementOut;
  status?: string;
}) {
  const { t } = useTranslation();
  return (
    <Card withBorder padding="md" component="article" aria-labelledby={`req-${r.code}`}>
      <Stack gap={6}>
        <Group justify="space-between" wrap="wrap" gap="xs">
          <Title order={4} id={`req-${r.code}`}>
            {r.title}
          </Title>
          <Group gap={4}>
            <Badge variant="light" color="gray">
              {r.code}
            </Badge>
            {status && (
              <Badge
                variant="dot"
                color={status === "applies" ? "brand" : status === "open" ? "yellow" : "gray"}
              >
                {t(`decision.${status}`)}
              </Badge>
            )}
          </Group>
        </Group>
        <Text size="sm">
          <strong>{t("requirement.legal")}: </strong>
          {r.url ? (
            <Anchor href={r.url} target="_blank" rel="noopener noreferrer">
              {r.legal_reference}
            </Anchor>
          ) : (
            r.legal_reference
          )}
        </Text>
        <Text size="sm">
          <strong>{t("requirement.authority")}: </strong>
          {r.authority}
        </Text>
        <Text size="sm">
          <strong>{t("requirement.evidence")}: </strong>
          {t(`evidence.${r.evidence_type}`, { defaultValue: r.evidence_type.replaceAll("_", " ") })}
          {r.validity_months ? ` · ${t("requirement.validity", { count: r.validity_months })}` : ""}
        </Text>
        {r.issuers.length > 0 && (
          <div>
            <Text size="sm" fw={700}>
              {t("requirement.issuers")}
            </Text>
            <List size="sm">
              {r.issuers.map((issuer) => (
                <List.Item key={issuer}>{issuer}</List.Item>
              ))}
            </List>
          </div>
        )}
        {r.why && (
          <Text size="sm" c="dimmed">
            <strong>{t("requirement.why")}: </strong>
            {r.why.reason}
          </Text>
        )}
        {r.conditional && r.questions.length > 0 && (
          <Text size="sm" c="dimmed">
            <strong>{t("requirement.when")}: </strong>
            {r.questions
              .map(
                (q) =>
                  // A quantity's condition in words ("at least 250 g"); yes/no in the reader's language.
                  `${q.text} ${typeof q.applies_when === "boolean" ? t(q.applies_when ? "common.yes" : "common.no") : q.applies_if}`,
              )
              .join(r.match === "any" ? ` ${t("requirement.or")} ` : ` ${t("requirement.and")} `)}
          </Text>
        )}
      </Stack>
    </Card>
  );
}
