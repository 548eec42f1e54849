import { Anchor, Card, Group, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { unwrap } from "../../api/client";
import { listNotificationsApiCommonNotificationsGet } from "../../api/generated/sdk.gen";
import { useAuth } from "../../auth/AuthProvider";
import { flagOf } from "../../components/flags";
import { productLabel } from "../../components/product";
import { QueryState } from "../../components/QueryState";
import { StateBadge } from "../../components/StateBadge";
import { useChecklists, useClearances, useOrders } from "../../hooks/api";
import { formatDate } from "../../i18n/format";

function Panel({ title, to, children }: { title: string; to: string; children: React.ReactNode }) {
  const { t } = useTranslation();
  return (
    <Card withBorder component="section" aria-label={title}>
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h4">
          {title}
        </Title>
        <Anchor component={Link} to={to} size="sm">
          {t("common.all")}
        </Anchor>
      </Group>
      {children}
    </Card>
  );
}

export default function Home() {
  const { t } = useTranslation();
  const { user } = useAuth();
  const checklists = useChecklists();
  const orders = useOrders(15_000);
  const clearances = useClearances();
  const notifications = useQuery({
    queryKey: ["notifications"],
    queryFn: () => unwrap(listNotificationsApiCommonNotificationsGet({ query: { limit: 8 } })),
    refetchInterval: 10_000,
  });
  return (
    <Stack>
      <Title order={1}>{t("home.welcome", { name: user?.name ?? "" })}</Title>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Panel title={t("nav.checklists")} to="/checklists">
          <QueryState
            query={checklists}
            empty={t("home.noChecklists")}
            isEmpty={(d) => d.items.length === 0}
          >
            {(d) => (
              <Stack gap={4}>
                {d.items.slice(0, 5).map((c) => (
                  <Anchor key={c.id} component={Link} to={`/checklists/${c.id}`}>
                    {flagOf(c.market)} {c.market} · {c.category ?? c.hs_code} ·{" "}
                    {t("home.applies", { count: c.applies_count + c.undecided_count })}
                  </Anchor>
                ))}
              </Stack>
            )}
          </QueryState>
        </Panel>
        <Panel title={t("nav.orders")} to="/orders">
          <QueryState query={orders} empty={t("home.noOrders")} isEmpty={(d) => d.length === 0}>
            {(d) => (
              <Stack gap={4}>
                {d.slice(0, 5).map((o) => (
                  <Group key={o.id} gap="xs">
                    <Anchor component={Link} to={`/orders/${o.id}`}>
                      {t("order.short", { id: o.id.slice(0, 8) })}
                    </Anchor>
                    <StateBadge state={o.state} />
                  </Group>
                ))}
              </Stack>
            )}
          </QueryState>
        </Panel>
        <Panel title={t("nav.clearances")} to="/clearances">
          <QueryState
            query={clearances}
            empty={t("home.noClearances")}
            isEmpty={(d) => d.length === 0}
          >
            {(d) => (
              <Stack gap={4}>
                {d.slice(0, 5).map((c) => (
                  <Group key={c.id} gap="xs">
                    <Anchor component={Link} to={`/clearances/${c.id}`}>
                      {flagOf(c.market)} {c.market} · {productLabel(c.hs_code)}
                    </Anchor>
                    <StateBadge state={c.status} />
                  </Group>
                ))}
              </Stack>
            )}
          </QueryState>
        </Panel>
        <Panel title={t("home.notifications")} to="/home">
          <QueryState
            query={notifications}
            empty={t("notifications.none")}
            isEmpty={(d) => d.items.length === 0}
          >
            {(d) => (
              <Stack gap={4}>
                {d.items.map((n) => (
                  <Text key={n.id} size="sm" fw={n.read_at ? 400 : 600}>
                    {n.link ? (
                      <Anchor component={Link} to={n.link}>
                        {n.title}
                      </Anchor>
                    ) : (
                      n.title
                    )}{" "}
                    <Text span c="dimmed" size="xs">
                      {formatDate(n.created_at, true)}
                    </Text>
                  </Text>
                ))}
              </Stack>
            )}
          </QueryState>
        </Panel>
      </SimpleGrid>
    </Stack>
  );
}
