import { Anchor, Stack, Table, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import type { OrderOut } from "../../api/generated/types.gen";
import { flagOf } from "../../components/flags";
import { productLabel } from "../../components/product";
import { QueryState } from "../../components/QueryState";
import { StateBadge } from "../../components/StateBadge";
import { useOrders } from "../../hooks/api";
import { formatDate } from "../../i18n/format";

export function OrderTable({ orders }: { orders: OrderOut[] }) {
  const { t } = useTranslation();
  return (
    <Table.ScrollContainer minWidth={560}>
      <Table striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t("order.order")}</Table.Th>
            <Table.Th>{t("search.market")}</Table.Th>
            <Table.Th>{t("order.requirements")}</Table.Th>
            <Table.Th>{t("requirement.status")}</Table.Th>
            <Table.Th>{t("common.updated")}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {orders.map((o) => (
            <Table.Tr key={o.id}>
              <Table.Td>
                <Anchor component={Link} to={`/orders/${o.id}`}>
                  {o.id.slice(0, 8)}
                </Anchor>
              </Table.Td>
              <Table.Td>
                {flagOf(o.market)} {o.market} · {productLabel(o.hs_code)}
              </Table.Td>
              <Table.Td>{o.requirements.map((r) => r.code).join(", ")}</Table.Td>
              <Table.Td>
                <StateBadge state={o.state} />
              </Table.Td>
              <Table.Td>{formatDate(o.updated_at, true)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

export default function Orders() {
  const { t } = useTranslation();
  const orders = useOrders(15_000);
  return (
    <Stack>
      <Title order={1}>{t("nav.orders")}</Title>
      <QueryState query={orders} empty={t("home.noOrders")} isEmpty={(d) => d.length === 0}>
        {(d) => <OrderTable orders={d} />}
      </QueryState>
    </Stack>
  );
}
