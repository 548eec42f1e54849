import {
  Alert,
  Anchor,
  Button,
  Card,
  Group,
  Modal,
  NumberInput,
  Radio,
  Select,
  SimpleGrid,
  Stack,
  Table,
  TagsInput,
  Text,
  Textarea,
  TextInput,
  Title,
} from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { unwrap } from "../../api/client";
import {
  changeRuleApiRulesAdminRulesCodePatch,
  historyApiRulesAdminRulesCodeHistoryGet,
  publishApiRulesAdminRulesCodePublishPost,
  readRuleApiRulesAdminRulesCodeGet,
  retireApiRulesAdminRulesCodeRetirePost,
} from "../../api/generated/sdk.gen";
import { ErrorNote, QueryState } from "../../components/QueryState";
import { StateBadge } from "../../components/StateBadge";
import { formatDate } from "../../i18n/format";
import { OpsNav } from "./OpsNav";
import {
  changedFields,
  diffVersions,
  type History,
  localToIso,
  newest,
  type RuleField,
  type RuleVersion,
  type RuleVersions,
  showField,
  showValue,
  visibleChanges,
} from "./ruleAdmin";
import { ScrollTable } from "./ScrollTable";

/** One rule: edit its draft, publish it now or at a date, retire it, and see what changed. */
export default function RulePage() {
  const { t } = useTranslation();
  const { code = "" } = useParams();
  const rule = useQuery({
    queryKey: ["admin-rule", code],
    queryFn: async () =>
      (await unwrap(readRuleApiRulesAdminRulesCodeGet({ path: { code } }))) as RuleVersions,
  });
  return (
    <Stack>
      <OpsNav />
      <Anchor component={Link} to="/admin/rules" size="sm">
        {t("ops.rules.back")}
      </Anchor>
      <Title order={1}>{t("ops.rule.title", { code })}</Title>
      <QueryState query={rule}>{(r) => <Rule rule={r} />}</QueryState>
    </Stack>
  );
}

function Rule({ rule }: { rule: RuleVersions }) {
  const { t } = useTranslation();
  const current = newest(rule);
  if (!current) return null;
  return (
    <Stack>
      <Group gap="sm">
        <Text fw={600}>{current.title}</Text>
        <StateBadge state={current.status} />
        <Text size="sm" c="dimmed">
          {t("ops.rule.versionOf", { version: current.version, count: rule.versions.length })}
        </Text>
      </Group>
      <Editor rule={rule} current={current} />
      <Lifecycle rule={rule} current={current} />
      <Versions rule={rule} />
      <Compare rule={rule} />
      <HistoryList code={rule.code} />
    </Stack>
  );
}

type Draft = Pick<RuleVersion, RuleField>;

function draftOf(v: RuleVersion): Draft {
  return {
    title: v.title,
    legal_reference: v.legal_reference,
    authority: v.authority,
    evidence_type: v.evidence_type,
    issuers: v.issuers,
    hs_codes: v.hs_codes,
    categories: v.categories,
    conditions: v.conditions,
    match: v.match,
    validity_months: v.validity_months,
    url: v.url,
    notes: v.notes,
  };
}

function useRefresh(code: string) {
  const queries = useQueryClient();
  return () => {
    void queries.invalidateQueries({ queryKey: ["admin-rule", code] });
    void queries.invalidateQueries({ queryKey: ["admin-rule-history", code] });
    void queries.invalidateQueries({ queryKey: ["admin-rules"] });
  };
}

function Editor({ rule, current }: { rule: RuleVersions; current: RuleVersion }) {
  const { t } = useTranslation();
  const refresh = useRefresh(rule.code);
  const [form, setForm] = useState<Draft>(() => draftOf(current));
  useEffect(() => setForm(draftOf(current)), [current]);
  const changes = changedFields(current, form);
  const save = useMutation({
    mutationFn: () =>
      unwrap(changeRuleApiRulesAdminRulesCodePatch({ path: { code: rule.code }, body: changes })),
    onSuccess: refresh,
  });
  const set = <K extends RuleField>(field: K, value: Draft[K]) =>
    setForm((f) => ({ ...f, [field]: value }));
  const text = (field: "title" | "legal_reference" | "authority" | "evidence_type") => (
    <TextInput
      label={t(`ops.fields.${field}`)}
      value={form[field]}
      onChange={(e) => set(field, e.currentTarget.value)}
    />
  );
  const tags = (field: "issuers" | "hs_codes" | "categories") => (
    <TagsInput
      label={t(`ops.fields.${field}`)}
      value={form[field]}
      onChange={(value) => set(field, value)}
    />
  );
  return (
    <Card withBorder component="section" aria-labelledby="rule-edit">
      <Stack>
        <Title order={2} size="h3" id="rule-edit">
          {current.status === "draft"
            ? t("ops.rule.editDraft", { version: current.version })
            : t("ops.rule.newDraft", { version: current.version + 1 })}
        </Title>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          {text("title")}
          {text("legal_reference")}
          {text("authority")}
          {text("evidence_type")}
          {tags("issuers")}
          {tags("hs_codes")}
          {tags("categories")}
          <Select
            label={t("ops.fields.match")}
            value={form.match}
            allowDeselect={false}
            onChange={(value) => set("match", value === "any" ? "any" : "all")}
            data={["all", "any"].map((m) => ({ value: m, label: t(`ops.match.${m}`) }))}
          />
          <NumberInput
            label={t("ops.fields.validity_months")}
            min={1}
            max={240}
            value={form.validity_months ?? ""}
            onChange={(value) => set("validity_months", typeof value === "number" ? value : null)}
          />
          <TextInput
            label={t("ops.fields.url")}
            type="url"
            value={form.url ?? ""}
            onChange={(e) => set("url", e.currentTarget.value || null)}
          />
        </SimpleGrid>
        <Textarea
          label={t("ops.fields.notes")}
          autosize
          minRows={2}
          value={form.notes ?? ""}
          onChange={(e) => set("notes", e.currentTarget.value || null)}
        />
        <Text size="sm" c="dimmed">
          {t("ops.fields.conditions")}: {showValue(form.conditions)}
        </Text>
        {save.isError && <ErrorNote error={save.error} />}
        {save.isSuccess && Object.keys(changes).length === 0 && (
          <Alert color="brand" role="status">
            {t("ops.rule.savedDraft")}
          </Alert>
        )}
        <Group>
          <Button
            onClick={() => save.mutate()}
            loading={save.isPending}
            disabled={Object.keys(changes).length === 0}
          >
            {t("ops.rule.saveDraft")}
          </Button>
          <Button variant="default" onClick={() => setForm(draftOf(current))}>
            {t("ops.rule.undo")}
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}

function Lifecycle({ rule, current }: { rule: RuleVersions; current: RuleVersion }) {
  const { t } = useTranslation();
  const refresh = useRefresh(rule.code);
  const [when, setWhen] = useState<"now" | "later">("now");
  const [at, setAt] = useState("");
  const [retiring, setRetiring] = useState(false);
  const [endAt, setEndAt] = useState("");
  const publish = useMutation({
    mutationFn: () => {
      const from = when === "later" ? localToIso(at) : null;
      return unwrap(
        publishApiRulesAdminRulesCodePublishPost({
          path: { code: rule.code },
          body: from ? { effective_from: from } : {},
        }),
      );
    },
    onSuccess: refresh,
  });
  const retire = useMutation({
    mutationFn: () => {
      const to = localToIso(endAt);
      return unwrap(
        retireApiRulesAdminRulesCodeRetirePost({
          path: { code: rule.code },
          body: to ? { effective_to: to } : {},
        }),
      );
    },
    onSuccess: () => {
      setRetiring(false);
      refresh();
    },
  });
  const canRetire = rule.versions.some((v) => v.status === "published");
  return (
    <Card withBorder component="section" aria-labelledby="rule-publish">
      <Stack>
        <Title order={2} size="h3" id="rule-publish">
          {t("ops.rule.lifecycle")}
        </Title>
        {current.status === "draft" ? (
          <>
            <Radio.Group
              label={t("ops.rule.publishWhen")}
              value={when}
              onChange={(v) => setWhen(v === "later" ? "later" : "now")}
            >
              <Group mt="xs">
                <Radio value="now" label={t("ops.rule.publishNow")} />
                <Radio value="later" label={t("ops.rule.publishAt")} />
              </Group>
            </Radio.Group>
            {when === "later" && (
              <TextInput
                type="datetime-local"
                label={t("ops.rule.effectiveFrom")}
                value={at}
                onChange={(e) => setAt(e.currentTarget.value)}
                maw={280}
                required
              />
            )}
            {publish.isError && <ErrorNote error={publish.error} />}
            <Group>
              <Button
                color="brand"
                loading={publish.isPending}
                disabled={when === "later" && !localToIso(at)}
                onClick={() => publish.mutate()}
              >
                {t("ops.rule.publish", { version: current.version })}
              </Button>
            </Group>
          </>
        ) : (
          <Text size="sm">{t("ops.rule.noDraft")}</Text>
        )}
        {publish.isSuccess && (
          <Alert color="brand" role="status">
            {t("ops.rule.published")}
          </Alert>
        )}
        {canRetire && (
          <Group>
            <Button color="red" variant="outline" onClick={() => setRetiring(true)}>
              {t("ops.rule.retire")}
            </Button>
          </Group>
        )}
      </Stack>
      <Modal
        closeButtonProps={{ "aria-label": t("common.cancel") }}
        opened={retiring}
        onClose={() => setRetiring(false)}
        title={t("ops.rule.retireTitle", { code: rule.code })}
      >
        <Stack>
          <Text>{t("ops.rule.retireBody")}</Text>
          <TextInput
            type="datetime-local"
            label={t("ops.rule.effectiveTo")}
            description={t("ops.rule.effectiveToHint")}
            value={endAt}
            onChange={(e) => setEndAt(e.currentTarget.value)}
          />
          {retire.isError && <ErrorNote error={retire.error} />}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setRetiring(false)}>
              {t("common.cancel")}
            </Button>
            <Button color="red" loading={retire.isPending} onClick={() => retire.mutate()}>
              {t("ops.rule.retire")}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Card>
  );
}

function Versions({ rule }: { rule: RuleVersions }) {
  const { t } = useTranslation();
  return (
    <Card withBorder component="section" aria-labelledby="rule-versions">
      <Title order={2} size="h3" id="rule-versions" mb="sm">
        {t("ops.rule.versions")}
      </Title>
      <ScrollTable minWidth={520} label={t("ops.rule.versions")}>
        <Table>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t("ops.rules.version")}</Table.Th>
              <Table.Th>{t("requirement.status")}</Table.Th>
              <Table.Th>{t("ops.rules.effectiveFrom")}</Table.Th>
              <Table.Th>{t("ops.rule.effectiveTo")}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {[...rule.versions].reverse().map((v) => (
              <Table.Tr key={v.version}>
                <Table.Td>{v.version}</Table.Td>
                <Table.Td>
                  <StateBadge state={v.status} />
                </Table.Td>
                <Table.Td>{formatDate(v.effective_from, true)}</Table.Td>
                <Table.Td>{formatDate(v.effective_to, true)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </ScrollTable>
    </Card>
  );
}

function Compare({ rule }: { rule: RuleVersions }) {
  const { t } = useTranslation();
  const count = rule.versions.length;
  const [older, setOlder] = useState(String(Math.max(1, count - 1)));
  const [newer, setNewer] = useState(String(count));
  useEffect(() => {
    setOlder(String(Math.max(1, count - 1)));
    setNewer(String(count));
  }, [count]);
  const pick = (v: string) => rule.versions.find((x) => String(x.version) === v);
  const a = pick(older);
  const b = pick(newer);
  const data = rule.versions.map((v) => ({
    value: String(v.version),
    label: `${v.version} · ${t(`ops.rules.status.${v.status}`)}`,
  }));
  const rows = a && b ? diffVersions(a, b) : [];
  return (
    <Card withBorder component="section" aria-labelledby="rule-compare">
      <Stack>
        <Title order={2} size="h3" id="rule-compare">
          {t("ops.rule.compare")}
        </Title>
        {count < 2 ? (
          <Text size="sm" c="dimmed">
            {t("ops.rule.oneVersion")}
          </Text>
        ) : (
          <>
            <Group>
              <Select
                label={t("ops.rule.from")}
                value={older}
                allowDeselect={false}
                onChange={(v) => v && setOlder(v)}
                data={data}
                w={180}
              />
              <Select
                label={t("ops.rule.to")}
                value={newer}
                allowDeselect={false}
                onChange={(v) => v && setNewer(v)}
                data={data}
                w={180}
              />
            </Group>
            {rows.length === 0 ? (
              <Text size="sm" c="dimmed">
                {t("ops.rule.same")}
              </Text>
            ) : (
              <DiffTable rows={rows} />
            )}
          </>
        )}
      </Stack>
    </Card>
  );
}

function DiffTable({ rows }: { rows: { field: string; from: unknown; to: unknown }[] }) {
  const { t } = useTranslation();
  return (
    <ScrollTable minWidth={480} label={t("ops.rule.diff")}>
      <Table aria-label={t("ops.rule.diff")}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t("ops.rule.field")}</Table.Th>
            <Table.Th>{t("ops.rule.before")}</Table.Th>
            <Table.Th>{t("ops.rule.after")}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((row) => (
            <Table.Tr key={row.field}>
              <Table.Td>{t(`ops.fields.${row.field}`, { defaultValue: row.field })}</Table.Td>
              <Table.Td>
                <del>{showField(row.field, row.from, (d) => formatDate(d, true))}</del>
              </Table.Td>
              <Table.Td>
                <ins>{showField(row.field, row.to, (d) => formatDate(d, true))}</ins>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollTable>
  );
}

function HistoryList({ code }: { code: string }) {
  const { t } = useTranslation();
  const history = useQuery({
    queryKey: ["admin-rule-history", code],
    queryFn: async () =>
      (await unwrap(historyApiRulesAdminRulesCodeHistoryGet({ path: { code } }))) as History,
  });
  return (
    <Card withBorder component="section" aria-labelledby="rule-history">
      <Title order={2} size="h3" id="rule-history" mb="sm">
        {t("ops.rule.history")}
      </Title>
      <QueryState
        query={history}
        empty={t("ops.rule.noHistory")}
        isEmpty={(h) => h.items.length === 0}
      >
        {(h) => (
          <Stack component="ol" gap="md" style={{ listStyle: "none", padding: 0 }}>
            {[...h.items].reverse().map((entry) => (
              <li key={`${entry.version}-${entry.action}-${entry.at}`}>
                <Text size="sm" fw={600}>
                  {t("ops.rule.historyLine", {
                    action: t(`ops.actions.${entry.action}`, { defaultValue: entry.action }),
                    version: entry.version,
                    when: formatDate(entry.at, true),
                  })}
                </Text>
                <Text size="xs" c="dimmed">
                  {entry.source
                    ? t("ops.rule.bySource", { actor: entry.actor, source: entry.source })
                    : t("ops.rule.byActor", { actor: entry.actor })}
                </Text>
                {visibleChanges(entry.changes).length > 0 && (
                  <DiffTable rows={visibleChanges(entry.changes)} />
                )}
              </li>
            ))}
          </Stack>
        )}
      </QueryState>
    </Card>
  );
}
