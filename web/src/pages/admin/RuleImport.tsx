import {
  Alert,
  Badge,
  Button,
  Card,
  FileInput,
  Group,
  SegmentedControl,
  Select,
  Stack,
  Table,
  Text,
  Title,
} from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { unwrap } from "../../api/client";
import {
  exportApiRulesAdminExportGet,
  importFileApiRulesAdminImportPost,
} from "../../api/generated/sdk.gen";
import { flagOf } from "../../components/flags";
import { useMarkets } from "../../components/MarketSelect";
import { ErrorNote } from "../../components/QueryState";
import { formatDate } from "../../i18n/format";
import { OpsNav } from "./OpsNav";
import { type ImportReport, showField, visibleChanges } from "./ruleAdmin";
import { ScrollTable } from "./ScrollTable";

const ACTION_COLORS: Record<string, string> = {
  create: "blue",
  update: "yellow",
  publish: "brand",
  reschedule: "violet",
  retire: "red",
  unchanged: "gray",
};

function formatOf(file: File): "yaml" | "csv" {
  return file.name.toLowerCase().endsWith(".csv") ? "csv" : "yaml";
}

/** Send a rule file: as a dry run (nothing is written) or for real, all or nothing. */
async function importRuleFile(file: File, dryRun: boolean): Promise<ImportReport> {
  const format = formatOf(file);
  return (await unwrap(
    importFileApiRulesAdminImportPost({
      query: { filename: file.name, format, dry_run: dryRun },
      // The file itself is the body, as it is on disk.
      body: (await file.text()) as never,
      bodySerializer: null,
      headers: { "content-type": format === "csv" ? "text/csv" : "application/yaml" },
    }),
  )) as ImportReport;
}

/** Rule files in and out: every change previewed by a dry run before it is applied. */
export default function RuleImport() {
  const { t } = useTranslation();
  return (
    <Stack>
      <OpsNav />
      <Title order={1}>{t("ops.import.title")}</Title>
      <Import />
      <Export />
    </Stack>
  );
}

function Import() {
  const { t } = useTranslation();
  const queries = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const preview = useMutation({ mutationFn: (f: File) => importRuleFile(f, true) });
  const apply = useMutation({
    mutationFn: (f: File) => importRuleFile(f, false),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ["admin-rules"] }),
  });
  const choose = (f: File | null) => {
    setFile(f);
    preview.reset();
    apply.reset();
  };
  const changes = preview.data?.items.filter((i) => i.action !== "unchanged") ?? [];
  return (
    <Card withBorder component="section" aria-labelledby="import-title">
      <Stack>
        <Title order={2} size="h3" id="import-title">
          {t("ops.import.import")}
        </Title>
        <Text size="sm" c="dimmed">
          {t("ops.import.hint")}
        </Text>
        <FileInput
          label={t("ops.import.file")}
          accept=".yaml,.yml,.csv"
          value={file}
          onChange={choose}
          clearable
          clearButtonProps={{ "aria-label": t("ops.import.clear") }}
          maw={420}
        />
        <Group>
          <Button
            disabled={!file}
            loading={preview.isPending}
            onClick={() => file && preview.mutate(file)}
          >
            {t("ops.import.preview")}
          </Button>
        </Group>
        {preview.isError && <ErrorNote error={preview.error} />}
        {preview.data && !apply.data && (
          <Stack aria-live="polite">
            <Alert color="blue" title={t("ops.import.dryRunTitle")} role="status">
              {t("ops.import.dryRunBody", { count: changes.length, file: preview.data.file })}
            </Alert>
            <Counts counts={preview.data.counts} />
            <PlanTable report={preview.data} />
            {apply.isError && <ErrorNote error={apply.error} />}
            <Group>
              <Button
                color="brand"
                disabled={changes.length === 0}
                loading={apply.isPending}
                onClick={() => file && apply.mutate(file)}
              >
                {t("ops.import.apply", { count: changes.length })}
              </Button>
              <Button variant="default" onClick={() => choose(null)}>
                {t("common.cancel")}
              </Button>
            </Group>
          </Stack>
        )}
        {apply.data && (
          <Stack>
            <Alert color="brand" role="status">
              {/* A title in the kit's light teal falls short of AA contrast: words in dark. */}
              <Text fw={700}>{t("ops.import.appliedTitle")}</Text>
              {t("ops.import.appliedBody", {
                count: apply.data.items.filter((i) => i.action !== "unchanged").length,
                file: apply.data.file,
              })}
            </Alert>
            <Counts counts={apply.data.counts} />
          </Stack>
        )}
      </Stack>
    </Card>
  );
}

function Counts({ counts }: { counts: Record<string, number> }) {
  const { t } = useTranslation();
  return (
    <Group gap="xs">
      {Object.entries(counts).map(([action, n]) => (
        <Badge key={action} color={ACTION_COLORS[action] ?? "gray"} variant="dot">
          {t(`ops.actions.${action}`, { defaultValue: action })}: {n}
        </Badge>
      ))}
    </Group>
  );
}

function PlanTable({ report }: { report: ImportReport }) {
  const { t } = useTranslation();
  return (
    <ScrollTable minWidth={640} label={t("ops.import.planLabel")}>
      <Table striped aria-label={t("ops.import.planLabel")}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t("ops.rules.code")}</Table.Th>
            <Table.Th>{t("ops.import.line")}</Table.Th>
            <Table.Th>{t("ops.import.action")}</Table.Th>
            <Table.Th>{t("ops.rules.version")}</Table.Th>
            <Table.Th>{t("ops.import.changes")}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {report.items.map((item) => (
            <Table.Tr key={`${item.code}-${item.line}`} data-action={item.action}>
              <Table.Td>{item.code}</Table.Td>
              <Table.Td>{`${item.file}:${item.line}`}</Table.Td>
              <Table.Td>
                <Badge color={ACTION_COLORS[item.action] ?? "gray"} variant="dot">
                  {t(`ops.actions.${item.action}`, { defaultValue: item.action })}
                </Badge>
              </Table.Td>
              <Table.Td>{item.version}</Table.Td>
              <Table.Td>
                {visibleChanges(item.changes).length === 0 ? (
                  "—"
                ) : (
                  <Stack gap={2}>
                    {visibleChanges(item.changes).map(({ field, from, to }) => (
                      <Text size="xs" key={field}>
                        <strong>{t(`ops.fields.${field}`, { defaultValue: field })}</strong>:{" "}
                        <del>{showField(field, from, (d) => formatDate(d, true))}</del> →{" "}
                        <ins>{showField(field, to, (d) => formatDate(d, true))}</ins>
                      </Text>
                    ))}
                  </Stack>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollTable>
  );
}

function Export() {
  const { t } = useTranslation();
  const markets = useMarkets();
  const [format, setFormat] = useState<"yaml" | "csv">("yaml");
  const [market, setMarket] = useState<string | null>(null);
  const download = useMutation({
    mutationFn: async () => {
      // Asked for as text (`parseAs`): the file is saved as served, whatever its schema says.
      const text = (await unwrap(
        exportApiRulesAdminExportGet({
          query: { format, ...(market ? { market } : {}) },
          parseAs: "text",
        }),
      )) as unknown as string;
      const type = format === "csv" ? "text/csv" : "application/yaml";
      const link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([text], { type }));
      link.download = `rules${market ? `-${market}` : ""}.${format}`;
      link.click();
      URL.revokeObjectURL(link.href);
    },
  });
  return (
    <Card withBorder component="section" aria-labelledby="export-title">
      <Stack>
        <Title order={2} size="h3" id="export-title">
          {t("ops.import.export")}
        </Title>
        <Group align="flex-end">
          <Stack gap={4}>
            <Text size="sm" fw={500} id="export-format">
              {t("ops.import.format")}
            </Text>
            <SegmentedControl
              aria-labelledby="export-format"
              value={format}
              onChange={(v) => setFormat(v === "csv" ? "csv" : "yaml")}
              data={[
                { value: "yaml", label: "YAML" },
                { value: "csv", label: "CSV" },
              ]}
            />
          </Stack>
          <Select
            label={t("search.market")}
            placeholder={t("ops.import.allMarkets")}
            clearable
            searchable
            w={240}
            value={market}
            onChange={setMarket}
            data={(markets.data?.items ?? []).map((m) => ({
              value: m.code,
              label: `${flagOf(m.code)} ${m.name} (${m.code})`,
            }))}
          />
          <Button variant="default" loading={download.isPending} onClick={() => download.mutate()}>
            {t("ops.import.download")}
          </Button>
        </Group>
        {download.isError && <ErrorNote error={download.error} />}
      </Stack>
    </Card>
  );
}
