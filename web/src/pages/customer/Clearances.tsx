import { Anchor, Stack, Table, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { flagOf } from "../../components/flags";
import { productLabel } from "../../components/product";
import { QueryState } from "../../components/QueryState";
import { StateBadge } from "../../components/StateBadge";
import { useClearances } from "../../hooks/api";
import { formatDate } from "../../i18n/format";

export default function Clearances() {
  const { t } = useTranslation();
  const clearances = useClearances();
  return (
    <Stack>
      <Title order={1}>{t("nav.clearances")}</Title>
      <QueryState query={clearances} empty={t("home.noClearances")} isEmpty={(d) => d.length === 0}>
        {(d) => (
          <Table.ScrollContainer minWidth={500}>
            <Table striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t("verify.certificate")}</Table.Th>
                  <Table.Th>{t("search.market")}</Table.Th>
                  <Table.Th>{t("requirement.status")}</Table.Th>
                  <Table.Th>{t("verify.validUntil")}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {d.map((c) => (
                  <Table.Tr key={c.id}>
                    <Table.Td>
                      <Anchor component={Link} to={`/clearances/${c.id}`}>
                        {c.id.slice(0, 8)}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>
                      {flagOf(c.market)} {c.market} · {productLabel(c.hs_code)}
                    </Table.Td>
                    <Table.Td>
                      <StateBadge state={c.status} />
                    </Table.Td>
                    <Table.Td>{formatDate(c.expires_at)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
    </Stack>
  );
}
