import "@mantine/charts/styles.css";
import { BarChart, DonutChart, LineChart } from "@mantine/charts";
import { Card, Group, SimpleGrid, Stack, Text, Title, VisuallyHidden } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { unwrap } from "../../api/client";
import {
  activeApiMonitorUsersActiveGet,
  auditVerifyApiMonitorAuditVerifyGet,
  funnelApiMonitorOrdersFunnelGet,
  requestStatsApiMonitorRequestsStatsGet,
  topSearchesApiMonitorSearchesTopGet,
} from "../../api/generated/sdk.gen";
import { QueryState } from "../../components/QueryState";
import { formatDate, formatNumber } from "../../i18n/format";
import { perMinute, type StatRow, statusMix } from "./stats";

const LIVE = 15_000;

/**
 * A chart drawn for the eye and inert, out of screen readers' and the keyboard's way (its SVG has no useful semantics),
 * with the same figures in words beside it for them.
 */
function Figure({ summary, children }: { summary: string; children: React.ReactNode }) {
  return (
    <>
      <div inert>{children}</div>
      <VisuallyHidden>{summary}</VisuallyHidden>
    </>
  );
}

const said = (rows: object[]) => rows.map((row) => Object.values(row).join(" ")).join("; ");

function Chart({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <Card withBorder component="section" aria-label={title}>
      <Title order={2} size="h5" mb="sm">
        {title}
      </Title>
      {children}
    </Card>
  );
}

export default function Dashboard() {
  const { t, i18n } = useTranslation();
  const stats = useQuery({
    queryKey: ["monitor", "stats"],
    queryFn: async () =>
      (await unwrap(requestStatsApiMonitorRequestsStatsGet())) as { items: StatRow[] },
    refetchInterval: LIVE,
  });
  const top = useQuery({
    queryKey: ["monitor", "top"],
    queryFn: async () =>
      (await unwrap(topSearchesApiMonitorSearchesTopGet({ query: { limit: 10 } }))) as {
        items: { key: string; count: number }[];
      },
    refetchInterval: LIVE,
  });
  const topMarkets = useQuery({
    queryKey: ["monitor", "top-markets"],
    queryFn: async () =>
      (await unwrap(
        topSearchesApiMonitorSearchesTopGet({ query: { by: "market", limit: 10 } }),
      )) as { items: { key: string; count: number }[] },
    refetchInterval: LIVE,
  });
  const active = useQuery({
    queryKey: ["monitor", "active"],
    queryFn: async () =>
      (await unwrap(activeApiMonitorUsersActiveGet())) as {
        items: { role: string; users: number }[];
      },
    refetchInterval: LIVE,
  });
  const funnel = useQuery({
    queryKey: ["monitor", "funnel"],
    queryFn: async () => await unwrap(funnelApiMonitorOrdersFunnelGet()),
    refetchInterval: LIVE,
  });
  const audit = useQuery({
    queryKey: ["monitor", "audit-verify"],
    queryFn: async () =>
      (await unwrap(auditVerifyApiMonitorAuditVerifyGet())) as {
        ok: boolean;
        checked: number;
        detail: string;
      },
  });
  const minuteLabel = (iso: string) =>
    new Intl.DateTimeFormat(i18n.language, { timeStyle: "short" }).format(new Date(iso));
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1}>{t("admin.dashboard")}</Title>
        <Text size="sm" c="dimmed">
          {t("admin.live", {
            time: formatDate(new Date(stats.dataUpdatedAt || Date.now()).toISOString(), true),
          })}
        </Text>
      </Group>
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <Chart title={t("admin.requestsPerMinute")}>
          <QueryState query={stats} empty={t("admin.noData")} isEmpty={(d) => d.items.length === 0}>
            {(d) => (
              <Figure summary={said(perMinute(d.items, minuteLabel))}>
                <BarChart
                  h={220}
                  data={perMinute(d.items, minuteLabel)}
                  dataKey="minute"
                  series={[{ name: "requests", label: t("admin.requests"), color: "brand.6" }]}
                  data-testid="chart-requests"
                />
              </Figure>
            )}
          </QueryState>
        </Chart>
        <Chart title={t("admin.latency")}>
          <QueryState query={stats} empty={t("admin.noData")} isEmpty={(d) => d.items.length === 0}>
            {(d) => (
              <Figure summary={said(perMinute(d.items, minuteLabel))}>
                <LineChart
                  h={220}
                  data={perMinute(d.items, minuteLabel)}
                  dataKey="minute"
                  unit=" ms"
                  withLegend
                  series={[
                    { name: "p50", color: "brand.6" },
                    { name: "p95", color: "orange.6" },
                    { name: "p99", color: "red.6" },
                  ]}
                />
              </Figure>
            )}
          </QueryState>
        </Chart>
        <Chart title={t("admin.statusMix")}>
          <QueryState query={stats} empty={t("admin.noData")} isEmpty={(d) => d.items.length === 0}>
            {(d) => {
              const mix = statusMix(d.items);
              return (
                <Group>
                  <Figure
                    summary={said([
                      { name: t("admin.ok"), value: mix.ok, color: "brand.6" },
                      { name: t("admin.clientErrors"), value: mix.client, color: "orange.6" },
                      { name: t("admin.serverErrors"), value: mix.server, color: "red.6" },
                    ])}
                  >
                    <DonutChart
                      withLabels
                      data={[
                        { name: t("admin.ok"), value: mix.ok, color: "brand.6" },
                        { name: t("admin.clientErrors"), value: mix.client, color: "orange.6" },
                        { name: t("admin.serverErrors"), value: mix.server, color: "red.6" },
                      ]}
                    />
                  </Figure>
                  <Text size="sm">
                    {t("admin.ok")}: {formatNumber(mix.ok)} · {t("admin.clientErrors")}:{" "}
                    {formatNumber(mix.client)} · {t("admin.serverErrors")}:{" "}
                    {formatNumber(mix.server)}
                  </Text>
                </Group>
              );
            }}
          </QueryState>
        </Chart>
        <Chart title={t("admin.topSearches")}>
          <QueryState query={top} empty={t("admin.noData")} isEmpty={(d) => d.items.length === 0}>
            {(d) => (
              <Figure summary={said(d.items)}>
                <BarChart
                  h={220}
                  data={d.items}
                  dataKey="key"
                  orientation="vertical"
                  yAxisProps={{ width: 90 }}
                  series={[{ name: "count", label: t("admin.searches"), color: "blue.6" }]}
                />
              </Figure>
            )}
          </QueryState>
        </Chart>
        <Chart title={t("admin.topMarkets")}>
          <QueryState
            query={topMarkets}
            empty={t("admin.noData")}
            isEmpty={(d) => d.items.length === 0}
          >
            {(d) => (
              <Figure summary={said(d.items)}>
                <BarChart
                  h={220}
                  data={d.items}
                  dataKey="key"
                  series={[{ name: "count", label: t("admin.searches"), color: "grape.6" }]}
                />
              </Figure>
            )}
          </QueryState>
        </Chart>
        <Chart title={t("admin.activeUsers")}>
          <QueryState
            query={active}
            empty={t("admin.noData")}
            isEmpty={(d) => d.items.length === 0}
          >
            {(d) => (
              <Figure
                summary={said(
                  d.items.map((x) => ({
                    ...x,
                    role: t(`roles.${x.role}`, { defaultValue: x.role }),
                  })),
                )}
              >
                <BarChart
                  h={220}
                  data={d.items.map((x) => ({
                    ...x,
                    role: t(`roles.${x.role}`, { defaultValue: x.role }),
                  }))}
                  dataKey="role"
                  series={[{ name: "users", label: t("admin.users"), color: "cyan.6" }]}
                />
              </Figure>
            )}
          </QueryState>
        </Chart>
        <Chart title={t("admin.funnel")}>
          <QueryState query={funnel}>
            {(f) => (
              <Figure
                summary={said(
                  (
                    [
                      "submitted",
                      "accepted",
                      "completed",
                      "declined",
                      "cancelled",
                      "expired",
                    ] as const
                  ).map((k) => ({ step: t(`states.${k}`), orders: f[k] ?? 0 })),
                )}
              >
                <BarChart
                  h={220}
                  data={(
                    [
                      "submitted",
                      "accepted",
                      "completed",
                      "declined",
                      "cancelled",
                      "expired",
                    ] as const
                  ).map((k) => ({ step: t(`states.${k}`), orders: f[k] ?? 0 }))}
                  dataKey="step"
                  series={[{ name: "orders", label: t("nav.orders"), color: "indigo.6" }]}
                />
              </Figure>
            )}
          </QueryState>
        </Chart>
        <Chart title={t("admin.audit")}>
          <QueryState query={audit}>
            {(a) => (
              <Text c={a.ok ? "brand.8" : "red.8"} fw={700} data-testid="audit-verify">
                {a.ok
                  ? t("admin.auditOk", { count: a.checked })
                  : t("admin.auditBroken", { detail: a.detail })}
              </Text>
            )}
          </QueryState>
        </Chart>
      </SimpleGrid>
    </Stack>
  );
}
