import { Anchor, Button, Group, Stack, Table, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { flagOf } from "../../components/flags";
import { QueryState } from "../../components/QueryState";
import { useChecklists } from "../../hooks/api";
import { formatDate } from "../../i18n/format";

export default function Checklists() {
  const { t } = useTranslation();
  const checklists = useChecklists();
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1}>{t("nav.checklists")}</Title>
        <Button component={Link} to="/">
          {t("checklist.new")}
        </Button>
      </Group>
      <QueryState
        query={checklists}
        empty={t("home.noChecklists")}
        isEmpty={(d) => d.items.length === 0}
      >
        {(d) => (
          <Table.ScrollContainer minWidth={500}>
            <Table striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t("search.market")}</Table.Th>
                  <Table.Th>{t("search.product")}</Table.Th>
                  <Table.Th>{t("checklist.applies")}</Table.Th>
                  <Table.Th>{t("checklist.open")}</Table.Th>
                  <Table.Th>{t("common.updated")}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {d.items.map((c) => (
                  <Table.Tr key={c.id}>
                    <Table.Td>
                      {flagOf(c.market)} {c.market}
                    </Table.Td>
                    <Table.Td>
                      <Anchor component={Link} to={`/checklists/${c.id}`}>
                        {c.category ?? c.hs_code}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>{c.applies_count}</Table.Td>
                    <Table.Td>{c.open_question_count}</Table.Td>
                    <Table.Td>{formatDate(c.updated_at, true)}</Table.Td>
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
