import { Anchor, Badge, Group, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { unwrap } from "../../api/client";
import { listRulesApiRulesAdminRulesGet } from "../../api/generated/sdk.gen";
import { flagOf } from "../../components/flags";
import { useMarkets } from "../../components/MarketSelect";
import { QueryState } from "../../components/QueryState";
import { StateBadge } from "../../components/StateBadge";
import { formatDate } from "../../i18n/format";
import { OpsNav } from "./OpsNav";
import type { RulePage, RuleStatus } from "./ruleAdmin";
import { ScrollTable } from "./ScrollTable";

/** Every rule at its newest version (drafts included), filtered by market, status and text. */
export default function Rules() {
  const { t } = useTranslation();
  const markets = useMarkets();
  const [market, setMarket] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [text, setText] = useState("");
  const [q] = useDebouncedValue(text.trim(), 300);
  const rules = useQuery({
    queryKey: ["admin-rules", market, status, q],
    queryFn: async () =>
      (await unwrap(
        listRulesApiRulesAdminRulesGet({
          query: {
            limit: 100,
            ...(market ? { market } : {}),
            ...(status ? { status: status as RuleStatus } : {}),
            ...(q ? { q } : {}),
          },
        }),
      )) as RulePage,
    placeholderData: keepPreviousData,
  });
  return (
    <Stack>
      <OpsNav />
      <Title order={1}>{t("ops.rules.title")}</Title>
      <Group align="flex-end">
        <TextInput
          label={t("ops.rules.search")}
          value={text}
          onChange={(e) => setText(e.currentTarget.value)}
          w={260}
        />
        <Select
          label={t("search.market")}
          clearable
          searchable
          w={220}
          value={market}
          onChange={setMarket}
          nothingFoundMessage={t("common.nothingFound")}
          data={(markets.data?.items ?? []).map((m) => ({
            value: m.code,
            label: `${flagOf(m.code)} ${m.name} (${m.code})`,
          }))}
        />
        <Select
          label={t("requirement.status")}
          clearable
          w={180}
          value={status}
          onChange={setStatus}
          data={["draft", "published", "retired"].map((s) => ({
            value: s,
            label: t(`ops.rules.status.${s}`),
          }))}
        />
      </Group>
      <QueryState query={rules} empty={t("ops.rules.none")} isEmpty={(d) => d.items.length === 0}>
        {(d) => (
          <>
            <Text size="sm" c="dimmed" aria-live="polite">
              {t("ops.rules.count", { count: d.total })}
            </Text>
            <ScrollTable minWidth={720} label={t("ops.rules.title")}>
              <Table striped>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>{t("ops.rules.code")}</Table.Th>
                    <Table.Th>{t("ops.fields.title")}</Table.Th>
                    <Table.Th>{t("search.market")}</Table.Th>
                    <Table.Th>{t("ops.rules.version")}</Table.Th>
                    <Table.Th>{t("requirement.status")}</Table.Th>
                    <Table.Th>{t("ops.rules.effectiveFrom")}</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {d.items.map((r) => (
                    <Table.Tr key={r.code}>
                      <Table.Td>
                        <Anchor component={Link} to={`/admin/rules/${encodeURIComponent(r.code)}`}>
                          {r.code}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>{r.title}</Table.Td>
                      <Table.Td>{`${flagOf(r.market)} ${r.market}`.trim()}</Table.Td>
                      <Table.Td>{r.version}</Table.Td>
                      <Table.Td>
                        <Group gap={4} wrap="nowrap">
                          <StateBadge state={r.status} />
                          {r.in_force && (
                            <Badge size="xs" variant="outline" color="brand">
                              {t("ops.rules.inForce")}
                            </Badge>
                          )}
                        </Group>
                      </Table.Td>
                      <Table.Td>{formatDate(r.effective_from, true)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </ScrollTable>
          </>
        )}
      </QueryState>
    </Stack>
  );
}
