import {
  Anchor,
  Badge,
  Button,
  Indicator,
  Popover,
  Stack,
  Text,
  UnstyledButton,
} from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { unwrap } from "../api/client";
import {
  listNotificationsApiCommonNotificationsGet,
  readAllApiCommonNotificationsReadPost,
} from "../api/generated/sdk.gen";
import { formatDate } from "../i18n/format";

/** The bell: unread count as a badge, kept live by polling, the latest in a popover. */
export function Notifications() {
  const { t } = useTranslation();
  const queries = useQueryClient();
  const page = useQuery({
    queryKey: ["notifications"],
    queryFn: () => unwrap(listNotificationsApiCommonNotificationsGet({ query: { limit: 8 } })),
    refetchInterval: 10_000,
  });
  const readAll = useMutation({
    mutationFn: () => unwrap(readAllApiCommonNotificationsReadPost()),
    onSuccess: () => queries.invalidateQueries({ queryKey: ["notifications"] }),
  });
  const unread = page.data?.unread ?? 0;
  return (
    <Popover width={320} position="bottom-end" shadow="md">
      <Indicator label={unread} disabled={!unread} size={16} color="red">
        <Popover.Target>
          <UnstyledButton
            aria-label={t("notifications.open", { count: unread })}
            data-testid="notifications"
            px={6}
          >
            <svg
              aria-hidden="true"
              width="20"
              height="20"
              viewBox="0 0 24 24"
              fill="none"
              stroke="currentColor"
              strokeWidth="2"
            >
              <path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
              <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
            </svg>
          </UnstyledButton>
        </Popover.Target>
      </Indicator>
      <Popover.Dropdown>
        <Stack gap="xs">
          {(page.data?.items ?? []).length === 0 && (
            <Text c="dimmed">{t("notifications.none")}</Text>
          )}
          {page.data?.items.map((n) => (
            <div key={n.id}>
              {n.link ? (
                <Anchor component={Link} to={n.link} fw={n.read_at ? 400 : 600}>
                  {n.title}
                </Anchor>
              ) : (
                <Text fw={n.read_at ? 400 : 600}>{n.title}</Text>
              )}
              <Text size="xs" c="dimmed">
                {formatDate(n.created_at, true)}{" "}
                {!n.read_at && <Badge size="xs">{t("notifications.new")}</Badge>}
              </Text>
            </div>
          ))}
          {unread > 0 && (
            <Button
              size="xs"
              variant="light"
              onClick={() => readAll.mutate()}
              loading={readAll.isPending}
            >
              {t("notifications.readAll")}
            </Button>
          )}
        </Stack>
      </Popover.Dropdown>
    </Popover>
  );
}
