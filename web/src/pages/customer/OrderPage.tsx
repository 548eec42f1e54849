import {
  Alert,
  Anchor,
  Button,
  Card,
  Group,
  NumberInput,
  Paper,
  SimpleGrid,
  Stack,
  Text,
  Textarea,
  TextInput,
  Timeline,
  Title,
} from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { API_BASE_URL, getAccessToken, unwrap } from "../../api/client";
import {
  getOrderApiOrdersOrdersOrderIdGet,
  issueReportApiOrdersOrdersOrderIdReportsPost,
  listAttachmentsApiOrdersOrdersOrderIdAttachmentsGet,
  listMessagesApiOrdersOrdersOrderIdMessagesGet,
  orderReportsApiOrdersOrdersOrderIdReportsGet,
  postMessageApiOrdersOrdersOrderIdMessagesPost,
  transitionApiOrdersOrdersOrderIdTransitionsPost,
} from "../../api/generated/sdk.gen";
import type { AttachmentOut, OrderOut, TransitionIn } from "../../api/generated/types.gen";
import { useAuth } from "../../auth/AuthProvider";
import { FileDrop, UploadList } from "../../components/Attachments";
import { flagOf } from "../../components/flags";
import { productLabel } from "../../components/product";
import { ErrorNote, QueryState } from "../../components/QueryState";
import { StateBadge } from "../../components/StateBadge";
import { useUploads } from "../../hooks/useUploads";
import { formatBytes, formatDate, formatMoney } from "../../i18n/format";

type Action = TransitionIn["action"];
/** What each party may do in each state (the orders service enforces the same table). */
const ACTIONS: Record<string, Record<string, Action[]>> = {
  customer: {
    submitted: ["cancel"],
    quoted: ["accept", "decline", "cancel"],
    accepted: ["cancel"],
    report_delivered: ["complete"],
  },
  provider: {
    submitted: ["decline"],
    quoted: ["decline"],
    accepted: ["start", "cancel"],
    in_progress: ["deliver", "cancel"],
  },
};

export default function OrderPage() {
  const { id = "" } = useParams();
  const order = useQuery({
    queryKey: ["orders", id],
    queryFn: () => unwrap(getOrderApiOrdersOrdersOrderIdGet({ path: { order_id: id } })),
    refetchInterval: 10_000,
  });
  return <QueryState query={order}>{(o) => <Order order={o} />}</QueryState>;
}

function useTransition(order: OrderOut) {
  const queries = useQueryClient();
  return useMutation({
    mutationFn: (body: TransitionIn) =>
      unwrap(
        transitionApiOrdersOrdersOrderIdTransitionsPost({
          path: { order_id: order.id },
          body: { ...body, version: order.version },
        }),
      ),
    onSuccess: (updated) => {
      queries.setQueryData(["orders", order.id], updated);
      void queries.invalidateQueries({ queryKey: ["orders"] });
    },
  });
}

function Order({ order }: { order: OrderOut }) {
  const { t } = useTranslation();
  const { user } = useAuth();
  const party = user?.role ?? "customer";
  const transition = useTransition(order);
  const actions = ACTIONS[party]?.[order.state] ?? [];
  return (
    <Stack>
      <Group justify="space-between" wrap="wrap">
        <div>
          <Title order={1}>{t("order.title", { id: order.id.slice(0, 8) })}</Title>
          <Text c="dimmed" size="sm">
            {flagOf(order.market)} {order.market} · {productLabel(order.hs_code)} ·{" "}
            {t("order.created", { date: formatDate(order.created_at, true) })}
          </Text>
        </div>
        <StateBadge state={order.state} />
      </Group>
      {order.quote && (
        <Paper withBorder p="md" aria-label={t("order.quote")}>
          <Text fw={700}>{t("order.quote")}</Text>
          <Text data-testid="quote">
            {formatMoney(order.quote.amount, order.quote.currency ?? "EUR")}
            {order.quote.turnaround_days
              ? ` · ${t("providers.turnaround", { count: order.quote.turnaround_days })}`
              : ""}
          </Text>
        </Paper>
      )}
      {party === "provider" && order.state === "submitted" && <QuoteForm order={order} />}
      {actions.length > 0 && (
        <Group>
          {actions.map((action) => (
            <Button
              key={action}
              color={action === "decline" || action === "cancel" ? "red" : "brand"}
              variant={action === "decline" || action === "cancel" ? "outline" : "filled"}
              onClick={() => transition.mutate({ action })}
              loading={transition.isPending && transition.variables?.action === action}
            >
              {t(`order.actions.${action}`)}
            </Button>
          ))}
        </Group>
      )}
      {transition.isError && <ErrorNote error={transition.error} />}
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Card withBorder component="section" aria-labelledby="timeline">
          <Title order={2} size="h4" id="timeline" mb="sm">
            {t("order.timeline")}
          </Title>
          <Timeline active={(order.history?.length ?? 1) - 1} bulletSize={14} lineWidth={2}>
            {(order.history ?? []).map((step) => (
              <Timeline.Item
                key={`${step.at}-${step.to_state}`}
                title={t(`states.${step.to_state}`, { defaultValue: step.to_state })}
              >
                <Text size="xs" c="dimmed">
                  {formatDate(step.at, true)} ·{" "}
                  {t(`parties.${step.party}`, { defaultValue: step.party })}
                </Text>
                {step.reason && <Text size="sm">{step.reason}</Text>}
              </Timeline.Item>
            ))}
          </Timeline>
          <Text size="sm" mt="sm">
            {t("order.requirements")}: {order.requirements.map((r) => r.code).join(", ")}
          </Text>
        </Card>
        <Messages order={order} />
      </SimpleGrid>
      <Attachments order={order} />
      <Reports order={order} party={party} />
    </Stack>
  );
}

function QuoteForm({ order }: { order: OrderOut }) {
  const { t } = useTranslation();
  const transition = useTransition(order);
  const [amount, setAmount] = useState<number | string>("");
  const [currency, setCurrency] = useState("EUR");
  const [days, setDays] = useState<number | string>(10);
  return (
    <Card
      withBorder
      component="form"
      aria-label={t("order.quoteForm")}
      onSubmit={(e: React.FormEvent) => {
        e.preventDefault();
        if (typeof amount !== "number") return;
        transition.mutate({
          action: "quote",
          quote: {
            amount: Math.round(amount * 100),
            currency,
            turnaround_days: typeof days === "number" ? days : null,
          },
        });
      }}
    >
      <Group align="end">
        <NumberInput
          label={t("order.amount")}
          min={0}
          decimalScale={2}
          value={amount}
          onChange={setAmount}
          required
        />
        <TextInput
          label={t("order.currency")}
          value={currency}
          maxLength={3}
          onChange={(e) => setCurrency(e.currentTarget.value.toUpperCase())}
          w={90}
        />
        <NumberInput
          label={t("order.days")}
          min={1}
          max={365}
          value={days}
          onChange={setDays}
          w={140}
        />
        <Button type="submit" loading={transition.isPending}>
          {t("order.actions.quote")}
        </Button>
      </Group>
      {transition.isError && <ErrorNote error={transition.error} />}
    </Card>
  );
}

function Messages({ order }: { order: OrderOut }) {
  const { t } = useTranslation();
  const { user } = useAuth();
  const queries = useQueryClient();
  const [body, setBody] = useState("");
  const messages = useQuery({
    queryKey: ["orders", order.id, "messages"],
    queryFn: () =>
      unwrap(listMessagesApiOrdersOrdersOrderIdMessagesGet({ path: { order_id: order.id } })),
    refetchInterval: 10_000,
  });
  const post = useMutation({
    mutationFn: () =>
      unwrap(
        postMessageApiOrdersOrdersOrderIdMessagesPost({
          path: { order_id: order.id },
          body: { body: body.trim() },
        }),
      ),
    onSuccess: () => {
      setBody("");
      void queries.invalidateQueries({ queryKey: ["orders", order.id, "messages"] });
    },
  });
  return (
    <Card withBorder component="section" aria-labelledby="messages">
      <Title order={2} size="h4" id="messages" mb="sm">
        {t("order.messages")}
      </Title>
      <QueryState query={messages} empty={t("order.noMessages")} isEmpty={(d) => d.length === 0}>
        {(items) => (
          <Stack gap="xs" mah={320} style={{ overflowY: "auto" }} data-testid="thread">
            {items.map((m) => (
              <Paper key={m.id} p="xs" bg={m.author_id === user?.id ? "brand.0" : "gray.0"}>
                <Text size="xs" c="dimmed">
                  {t(`parties.${m.author_party}`, { defaultValue: m.author_party })} ·{" "}
                  {formatDate(m.created_at, true)}
                </Text>
                <Text size="sm" style={{ whiteSpace: "pre-wrap" }}>
                  {m.body}
                </Text>
              </Paper>
            ))}
          </Stack>
        )}
      </QueryState>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (body.trim()) post.mutate();
        }}
      >
        <Stack gap="xs" mt="sm">
          <Textarea
            label={t("order.writeMessage")}
            autosize
            minRows={2}
            value={body}
            onChange={(e) => setBody(e.currentTarget.value)}
            maxLength={5000}
          />
          {post.isError && <ErrorNote error={post.error} />}
          <Button
            type="submit"
            size="sm"
            w="fit-content"
            loading={post.isPending}
            disabled={!body.trim()}
          >
            {t("order.send")}
          </Button>
        </Stack>
      </form>
    </Card>
  );
}

async function download(orderId: string, file: AttachmentOut) {
  // The token travels in a header, so the file comes through fetch, not a plain link.
  const response = await fetch(
    `${API_BASE_URL}/api/orders/orders/${orderId}/attachments/${file.id}`,
    {
      headers: { authorization: `Bearer ${getAccessToken() ?? ""}` },
    },
  );
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = file.filename;
  link.click();
  URL.revokeObjectURL(link.href);
}

function Attachments({ order }: { order: OrderOut }) {
  const { t } = useTranslation();
  const { uploads, upload } = useUploads();
  const files = useQuery({
    queryKey: ["orders", order.id, "attachments"],
    queryFn: () =>
      unwrap(listAttachmentsApiOrdersOrdersOrderIdAttachmentsGet({ path: { order_id: order.id } })),
  });
  return (
    <Card withBorder component="section" aria-labelledby="attachments">
      <Title order={2} size="h4" id="attachments" mb="sm">
        {t("attachments.title")}
      </Title>
      <QueryState query={files} empty={t("attachments.none")} isEmpty={(d) => d.length === 0}>
        {(items) => (
          <Stack gap={4} mb="sm" data-testid="attachment-list">
            {items.map((f) => (
              <Text size="sm" key={f.id}>
                <Anchor component="button" type="button" onClick={() => void download(order.id, f)}>
                  {f.filename}
                </Anchor>{" "}
                · {formatBytes(f.size)} · {formatDate(f.created_at, true)}
              </Text>
            ))}
          </Stack>
        )}
      </QueryState>
      <FileDrop onFiles={(more) => void upload(order.id, more)} />
      <UploadList uploads={uploads} />
    </Card>
  );
}

function Reports({ order, party }: { order: OrderOut; party: string }) {
  const { t } = useTranslation();
  const reports = useQuery({
    queryKey: ["orders", order.id, "reports"],
    queryFn: () =>
      unwrap(orderReportsApiOrdersOrdersOrderIdReportsGet({ path: { order_id: order.id } })),
    refetchInterval: 15_000,
  });
  return (
    <Card withBorder component="section" aria-labelledby="reports">
      <Title order={2} size="h4" id="reports" mb="sm">
        {t("reports.title")}
      </Title>
      <QueryState query={reports} empty={t("reports.none")} isEmpty={(d) => d.length === 0}>
        {(items) => (
          <Stack gap="xs" data-testid="report-list">
            {items.map((r) => (
              <Group key={r.id} gap="xs">
                <Text size="sm" fw={600}>
                  {r.title}
                </Text>
                <StateBadge state={r.status} />
                <Text size="sm" c="dimmed">
                  {r.requirement_codes.join(", ")} ·{" "}
                  {t("reports.valid", {
                    from: formatDate(r.issued_on),
                    to: formatDate(r.expires_on),
                  })}
                </Text>
              </Group>
            ))}
          </Stack>
        )}
      </QueryState>
      {party === "provider" && order.state === "in_progress" && <ReportForm order={order} />}
      {party === "customer" && (reports.data?.length ?? 0) > 0 && (
        <Alert mt="sm" color="brand">
          {t("reports.nextStep")}{" "}
          <Anchor component={Link} to={`/checklists/${order.checklist_id}`}>
            {t("clearance.request")}
          </Anchor>
        </Alert>
      )}
    </Card>
  );
}

function ReportForm({ order }: { order: OrderOut }) {
  const { t } = useTranslation();
  const queries = useQueryClient();
  const today = new Date().toISOString().slice(0, 10);
  const nextYear = new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 10);
  const [title, setTitle] = useState("");
  const [reference, setReference] = useState("");
  const [issued, setIssued] = useState(today);
  const [expires, setExpires] = useState(nextYear);
  const issue = useMutation({
    mutationFn: () =>
      unwrap(
        issueReportApiOrdersOrdersOrderIdReportsPost({
          path: { order_id: order.id },
          body: {
            title: title.trim(),
            reference: reference.trim() || null,
            issued_on: issued,
            expires_on: expires,
            requirement_codes: order.requirements.map((r) => r.code),
          },
        }),
      ),
    onSuccess: () => {
      setTitle("");
      void queries.invalidateQueries({ queryKey: ["orders", order.id] });
    },
  });
  return (
    <form
      aria-label={t("reports.issue")}
      onSubmit={(e) => {
        e.preventDefault();
        if (title.trim()) issue.mutate();
      }}
    >
      <Stack mt="md" gap="xs">
        <Title order={3} size="h5">
          {t("reports.issue")}
        </Title>
        <TextInput
          label={t("reports.reportTitle")}
          value={title}
          onChange={(e) => setTitle(e.currentTarget.value)}
          required
        />
        <TextInput
          label={t("reports.reference")}
          value={reference}
          onChange={(e) => setReference(e.currentTarget.value)}
        />
        <Group>
          <TextInput
            type="date"
            label={t("reports.issuedOn")}
            value={issued}
            onChange={(e) => setIssued(e.currentTarget.value)}
            required
          />
          <TextInput
            type="date"
            label={t("reports.expiresOn")}
            value={expires}
            onChange={(e) => setExpires(e.currentTarget.value)}
            required
          />
        </Group>
        <Text size="sm" c="dimmed">
          {t("reports.covers", { codes: order.requirements.map((r) => r.code).join(", ") })}
        </Text>
        {issue.isError && <ErrorNote error={issue.error} />}
        <Button type="submit" w="fit-content" loading={issue.isPending}>
          {t("reports.upload")}
        </Button>
      </Stack>
    </form>
  );
}
