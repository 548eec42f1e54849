import {
  Alert,
  Button,
  Code,
  Group,
  Pagination,
  SegmentedControl,
  Stack,
  Table,
  Text,
  Title,
} from "@mantine/core";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { unwrap } from "../../api/client";
import {
  auditTrailApiMonitorAuditGet,
  auditVerifyApiMonitorAuditVerifyGet,
} from "../../api/generated/sdk.gen";
import { ErrorNote, Loading, QueryState } from "../../components/QueryState";
import { formatDate, formatNumber } from "../../i18n/format";
import { OpsNav } from "./OpsNav";
import { ScrollTable } from "./ScrollTable";

type AuditEntry = {
  seq: number;
  time: string;
  actor: string | null;
  action: string;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
};
type AuditPage = { items: AuditEntry[]; total: number; limit: number; offset: number };
type Verdict = {
  ok: boolean;
  checked: number;
  seq: number | null;
  kind: string | null;
  detail: string;
};

const PAGE = 50;
const SPANS = ["1", "7", "30"] as const;

/** The hash-chained audit trail, and whether the whole chain is intact. */
export default function Audit() {
  const { t } = useTranslation();
  return (
    <Stack>
      <OpsNav />
      <Title order={1}>{t("ops.audit.title")}</Title>
      <Verification />
      <Trail />
    </Stack>
  );
}

function Verification() {
  const { t } = useTranslation();
  const verdict = useQuery({
    queryKey: ["audit-verify"],
    queryFn: async () => (await unwrap(auditVerifyApiMonitorAuditVerifyGet())) as Verdict,
  });
  return (
    <Stack gap="xs" component="section" aria-labelledby="audit-verify">
      <Group justify="space-between">
        <Title order={2} size="h3" id="audit-verify">
          {t("ops.audit.verification")}
        </Title>
        <Button
          variant="default"
          size="xs"
          loading={verdict.isFetching}
          onClick={() => void verdict.refetch()}
        >
          {t("ops.audit.verifyAgain")}
        </Button>
      </Group>
      {verdict.isPending ? (
        <Loading />
      ) : verdict.isError ? (
        <ErrorNote error={verdict.error} />
      ) : verdict.data.ok ? (
        <Alert
          color="brand"
          variant="filled"
          title={t("ops.audit.intactTitle")}
          role="status"
          data-verdict="intact"
        >
          {t("ops.audit.intactBody", { count: verdict.data.checked })}
        </Alert>
      ) : (
        <Alert
          color="red"
          variant="filled"
          title={t("ops.audit.brokenTitle")}
          role="alert"
          data-verdict="broken"
        >
          <Text>
            {t("ops.audit.brokenBody", {
              seq: verdict.data.seq ?? "?",
              kind: t(`ops.audit.kinds.${verdict.data.kind ?? "edited"}`, {
                defaultValue: verdict.data.kind ?? "",
              }),
              count: verdict.data.checked,
            })}
          </Text>
          {verdict.data.detail && <Text size="sm">{verdict.data.detail}</Text>}
        </Alert>
      )}
    </Stack>
  );
}

function Trail() {
  const { t } = useTranslation();
  const [span, setSpan] = useState<(typeof SPANS)[number]>("7");
  const [page, setPage] = useState(1);
  // One fixed "now" per span choice, so paging walks one stable window.
  const [now] = useState(() => Date.now());
  const from = new Date(now - Number(span) * 86_400_000).toISOString();
  const trail = useQuery({
    queryKey: ["audit", span, page],
    queryFn: async () =>
      (await unwrap(
        auditTrailApiMonitorAuditGet({
          query: { from, limit: PAGE, offset: (page - 1) * PAGE },
        }),
      )) as AuditPage,
    placeholderData: keepPreviousData,
  });
  return (
    <Stack component="section" aria-labelledby="audit-trail">
      <Group justify="space-between" align="flex-end">
        <Title order={2} size="h3" id="audit-trail">
          {t("ops.audit.trail")}
        </Title>
        <SegmentedControl
          aria-label={t("ops.audit.span")}
          value={span}
          onChange={(v) => {
            setSpan(SPANS.find((s) => s === v) ?? "7");
            setPage(1);
          }}
          data={SPANS.map((s) => ({ value: s, label: t("ops.audit.days", { count: Number(s) }) }))}
        />
      </Group>
      <QueryState query={trail} empty={t("ops.audit.none")} isEmpty={(d) => d.items.length === 0}>
        {(d) => (
          <>
            <Text size="sm" c="dimmed">
              {t("ops.audit.count", { count: d.total, shown: formatNumber(d.total) })}
            </Text>
            <ScrollTable minWidth={720} label={t("ops.audit.trail")}>
              <Table striped>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>#</Table.Th>
                    <Table.Th>{t("ops.audit.time")}</Table.Th>
                    <Table.Th>{t("ops.audit.actor")}</Table.Th>
                    <Table.Th>{t("ops.audit.action")}</Table.Th>
                    <Table.Th>{t("ops.audit.details")}</Table.Th>
                    <Table.Th>{t("ops.audit.hash")}</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {d.items.map((e) => (
                    <Table.Tr key={e.seq}>
                      <Table.Td>{e.seq}</Table.Td>
                      <Table.Td>{formatDate(e.time, true)}</Table.Td>
                      <Table.Td>{e.actor ?? "—"}</Table.Td>
                      <Table.Td>{e.action}</Table.Td>
                      <Table.Td>
                        <Text size="xs" style={{ wordBreak: "break-word" }}>
                          {Object.entries(e.details)
                            .map(
                              ([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`,
                            )
                            .join(" · ") || "—"}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Code title={e.hash}>{e.hash.slice(0, 12)}…</Code>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </ScrollTable>
            {d.total > PAGE && (
              <Pagination
                total={Math.ceil(d.total / PAGE)}
                value={page}
                onChange={setPage}
                getControlProps={(control) => ({ "aria-label": t(`ops.page.${control}`) })}
              />
            )}
          </>
        )}
      </QueryState>
    </Stack>
  );
}
