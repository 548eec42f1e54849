import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  List,
  NumberInput,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Title,
} from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useParams } from "react-router";
import { ApiError, unwrap } from "../../api/client";
import {
  answerApiRulesChecklistsChecklistIdAnswersPut,
  exportChecklistApiRulesChecklistsChecklistIdExportGet,
  listReportsApiOrdersReportsGet,
  requestClearanceApiOrdersClearancesPost,
  searchProvidersApiOrdersProvidersGet,
} from "../../api/generated/sdk.gen";
import type {
  Accreditation,
  ChecklistOut as Checklist,
  ProviderHit,
} from "../../api/generated/types.gen";
import { AnswerInput } from "../../components/AnswerInput";
import { flagOf } from "../../components/flags";
import { ErrorNote, QueryState } from "../../components/QueryState";
import { useChecklist, useOrders } from "../../hooks/api";
import { formatMoney } from "../../i18n/format";
import { type Answer, withAnswer } from "../public/decide";

export default function ChecklistPage() {
  const { t } = useTranslation();
  const { id = "" } = useParams();
  const checklist = useChecklist(id);
  return (
    <QueryState query={checklist}>
      {(c) => (
        <Stack>
          <Group justify="space-between" wrap="wrap">
            <Title order={1}>
              {flagOf(c.market)}{" "}
              {t("checklist.title", { market: c.market, product: c.category ?? c.hs_code })}
            </Title>
            <ExportButton checklist={c} />
          </Group>
          {c.open_questions.length > 0 && <OpenQuestions checklist={c} />}
          <Requirements checklist={c} />
          <Providers checklist={c} />
          <ClearanceRequest checklist={c} />
        </Stack>
      )}
    </QueryState>
  );
}

function ExportButton({ checklist }: { checklist: Checklist }) {
  const { t } = useTranslation();
  const download = useMutation({
    mutationFn: async () => {
      const data = await unwrap(
        exportChecklistApiRulesChecklistsChecklistIdExportGet({
          path: { checklist_id: checklist.id },
          query: { format: "json" },
        }),
      );
      const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = `checklist-${checklist.market}-${checklist.id.slice(0, 8)}.json`;
      link.click();
      URL.revokeObjectURL(link.href);
    },
  });
  return (
    <Button
      variant="default"
      onClick={() => download.mutate()}
      loading={download.isPending}
      className="no-print"
    >
      {t("checklist.export")}
    </Button>
  );
}

function OpenQuestions({ checklist }: { checklist: Checklist }) {
  const { t } = useTranslation();
  const queries = useQueryClient();
  const [answers, setAnswers] = useState<Record<string, Answer>>({});
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        answerApiRulesChecklistsChecklistIdAnswersPut({
          path: { checklist_id: checklist.id },
          body: { answers: { ...checklist.answers, ...answers } },
        }),
      ),
    onSuccess: (data) => {
      queries.setQueryData(["checklists", checklist.id], data);
      void queries.invalidateQueries({ queryKey: ["checklists"] });
    },
  });
  return (
    <Card withBorder component="section" aria-labelledby="open-q">
      <Title order={2} size="h3" id="open-q">
        {t("checklist.openQuestions", { count: checklist.open_questions.length })}
      </Title>
      <Stack mt="sm">
        {checklist.open_questions.map((q) => (
          <AnswerInput
            key={q.id}
            question={q}
            label={q.text}
            value={answers[q.id]}
            onChange={(answer) => setAnswers(withAnswer(answers, q.id, answer))}
          />
        ))}
        {save.isError && <ErrorNote error={save.error} />}
        <Button
          w="fit-content"
          onClick={() => save.mutate()}
          disabled={Object.keys(answers).length === 0}
          loading={save.isPending}
        >
          {t("checklist.saveAnswers")}
        </Button>
      </Stack>
    </Card>
  );
}

function Requirements({ checklist }: { checklist: Checklist }) {
  const { t } = useTranslation();
  const shown = checklist.requirements.filter((r) => r.applies);
  return (
    <section aria-labelledby="reqs">
      <Title order={2} size="h3" id="reqs" mb="xs">
        {t("checklist.requirements")}
      </Title>
      <Table.ScrollContainer minWidth={600}>
        <Table>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t("requirement.code")}</Table.Th>
              <Table.Th>{t("requirement.title")}</Table.Th>
              <Table.Th>{t("requirement.status")}</Table.Th>
              <Table.Th>{t("requirement.why")}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {shown.map((r) => (
              <Table.Tr key={r.code}>
                <Table.Td>{r.code}</Table.Td>
                <Table.Td>{r.title}</Table.Td>
                <Table.Td style={{ whiteSpace: "nowrap" }}>
                  <Badge variant="dot" color={r.decided ? "brand" : "yellow"} miw="max-content">
                    {t(r.decided ? "decision.applies" : "decision.open")}
                  </Badge>
                </Table.Td>
                <Table.Td>
                  <Text size="sm">{r.reason}</Text>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </section>
  );
}

function Providers({ checklist }: { checklist: Checklist }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [requirement, setRequirement] = useState<string | null>(null);
  const [turnaround, setTurnaround] = useState<number | string>("");
  const hits = useQuery({
    queryKey: ["providers", checklist.id, requirement],
    queryFn: () =>
      unwrap(
        searchProvidersApiOrdersProvidersGet({
          query: {
            checklist_id: checklist.id,
            ...(requirement ? { requirement: [requirement] } : {}),
          },
        }),
      ),
  });
  const maxDays = typeof turnaround === "number" ? turnaround : null;
  const visible = (items: ProviderHit[]) =>
    items.filter((h) => maxDays === null || (h.provider.turnaround_days ?? Infinity) <= maxDays);
  return (
    <section aria-labelledby="providers">
      <Title order={2} size="h3" id="providers" mb="xs">
        {t("providers.title")}
      </Title>
      <Group mb="sm" align="end">
        <Select
          label={t("providers.requirement")}
          clearable
          data={checklist.requirements
            .filter((r) => r.applies)
            .map((r) => ({ value: r.code, label: `${r.code} · ${r.title}` }))}
          value={requirement}
          onChange={setRequirement}
          w={300}
        />
        <NumberInput
          label={t("providers.maxDays")}
          min={1}
          max={365}
          value={turnaround}
          onChange={setTurnaround}
          w={200}
        />
      </Group>
      <QueryState
        query={hits}
        empty={t("providers.none")}
        isEmpty={(d) => visible(d.items).length === 0}
      >
        {(d) => (
          <SimpleGrid cols={{ base: 1, md: 2 }}>
            {visible(d.items).map(({ provider: p, match }) => (
              <Card withBorder key={p.id} component="article" aria-label={p.display_name ?? p.id}>
                <Stack gap={4}>
                  <Title order={3} size="h4">
                    {p.display_name ?? t("providers.unnamed")}
                  </Title>
                  {p.description && <Text size="sm">{p.description}</Text>}
                  <Text size="sm">
                    {t("providers.markets")}:{" "}
                    {p.markets.map((m) => `${flagOf(m)} ${m}`).join(", ") || "—"}
                  </Text>
                  {match && (
                    <Text size="sm">
                      {t("providers.covers", {
                        covered: match.covered.length,
                        total: match.covered.length + match.missing.length,
                      })}
                      {match.missing.length > 0 &&
                        ` · ${t("providers.missing")}: ${match.missing.join(", ")}`}
                    </Text>
                  )}
                  {p.turnaround_days && (
                    <Text size="sm">{t("providers.turnaround", { count: p.turnaround_days })}</Text>
                  )}
                  {p.price_min != null && p.currency && (
                    <Text size="sm">
                      {t("providers.price")}: {formatMoney(p.price_min, p.currency)}
                      {p.price_max != null && ` – ${formatMoney(p.price_max, p.currency)}`}
                    </Text>
                  )}
                  {p.accreditations.length > 0 && (
                    <List size="sm">
                      {(p.accreditations as Accreditation[]).map((a) => (
                        <List.Item key={`${a.kind}-${a.identifier}`}>
                          {a.kind} {a.identifier}
                        </List.Item>
                      ))}
                    </List>
                  )}
                  <Button
                    mt="xs"
                    w="fit-content"
                    onClick={() =>
                      navigate(`/orders/new?checklist=${checklist.id}&provider=${p.id}`)
                    }
                  >
                    {t("providers.order")}
                  </Button>
                </Stack>
              </Card>
            ))}
          </SimpleGrid>
        )}
      </QueryState>
    </section>
  );
}

type Missing = {
  missing?: { code: string; title: string }[];
  rejected_reports?: { report_id: string; reason: string }[];
};

function ClearanceRequest({ checklist }: { checklist: Checklist }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const orders = useOrders();
  const reports = useQuery({
    queryKey: ["reports"],
    queryFn: () => unwrap(listReportsApiOrdersReportsGet({ query: { limit: 100 } })),
  });
  const mine = new Set(
    (orders.data ?? []).filter((o) => o.checklist_id === checklist.id).map((o) => o.id),
  );
  const usable = (reports.data ?? []).filter(
    (r) => mine.has(r.order_id) && r.status !== "withdrawn",
  );
  const request = useMutation({
    mutationFn: () =>
      unwrap(
        requestClearanceApiOrdersClearancesPost({
          body: { checklist_id: checklist.id, report_ids: usable.map((r) => r.id) },
        }),
      ),
    onSuccess: (clearance) => navigate(`/clearances/${clearance.id}`),
  });
  const refused =
    request.error instanceof ApiError ? (request.error.body as Missing | undefined) : undefined;
  return (
    <Card withBorder component="section" aria-labelledby="clearance">
      <Title order={2} size="h3" id="clearance">
        {t("clearance.request")}
      </Title>
      <Text size="sm" my="xs">
        {t("clearance.explain", { count: usable.length })}
      </Text>
      {request.isError && (
        <Alert color="red" title={request.error.message} role="alert" mb="sm">
          {refused?.missing && refused.missing.length > 0 && (
            <>
              <Text size="sm" fw={700}>
                {t("clearance.missing")}
              </Text>
              <List size="sm" data-testid="missing">
                {refused.missing.map((m) => (
                  <List.Item key={m.code}>
                    {m.code} · {m.title}
                  </List.Item>
                ))}
              </List>
            </>
          )}
          {refused?.rejected_reports && refused.rejected_reports.length > 0 && (
            <List size="sm">
              {refused.rejected_reports.map((r) => (
                <List.Item key={r.report_id}>
                  {r.report_id.slice(0, 8)}: {r.reason}
                </List.Item>
              ))}
            </List>
          )}
        </Alert>
      )}
      <Group>
        <Button onClick={() => request.mutate()} loading={request.isPending}>
          {t("clearance.requestButton")}
        </Button>
        <Anchor component={Link} to="/clearances" size="sm">
          {t("nav.clearances")}
        </Anchor>
      </Group>
    </Card>
  );
}
