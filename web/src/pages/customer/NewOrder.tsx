import { Alert, Button, Checkbox, Select, Stack, Text, Textarea, Title } from "@mantine/core";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate, useSearchParams } from "react-router";
import { unwrap } from "../../api/client";
import {
  createOrderApiOrdersOrdersPost,
  searchProvidersApiOrdersProvidersGet,
} from "../../api/generated/sdk.gen";
import { FileDrop, UploadList } from "../../components/Attachments";
import { ErrorNote, QueryState } from "../../components/QueryState";
import { useChecklist } from "../../hooks/api";
import { useUploads } from "../../hooks/useUploads";

/** Place an order: which requirements, with which provider, a note and documents. */
export default function NewOrder() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const checklistId = params.get("checklist");
  const checklist = useChecklist(checklistId);
  const [providerId, setProviderId] = useState<string | null>(params.get("provider"));
  const [codes, setCodes] = useState<string[] | null>(null);
  const [note, setNote] = useState("");
  const [files, setFiles] = useState<File[]>([]);
  const { uploads, upload } = useUploads();
  const providers = useQuery({
    queryKey: ["providers", checklistId, null],
    queryFn: () =>
      unwrap(searchProvidersApiOrdersProvidersGet({ query: { checklist_id: checklistId ?? "" } })),
    enabled: Boolean(checklistId),
  });
  const place = useMutation({
    mutationFn: async (requirementCodes: string[]) => {
      const order = await unwrap(
        createOrderApiOrdersOrdersPost({
          body: {
            provider_id: providerId ?? "",
            checklist_id: checklistId ?? "",
            requirement_codes: requirementCodes,
            note: note.trim() || null,
          },
          headers: { "Idempotency-Key": crypto.randomUUID() },
        }),
      );
      const failed = files.length ? await upload(order.id, files) : 0;
      return { order, failed };
    },
    onSuccess: ({ order, failed }) => {
      if (!failed) navigate(`/orders/${order.id}`);
    },
  });
  if (!checklistId) return <Alert>{t("order.needChecklist")}</Alert>;
  return (
    <Stack maw={720}>
      <Title order={1}>{t("order.new")}</Title>
      <QueryState query={checklist}>
        {(c) => {
          const applicable = c.requirements.filter((r) => r.applies);
          const chosen = codes ?? applicable.map((r) => r.code);
          return (
            <form
              onSubmit={(event) => {
                event.preventDefault();
                if (providerId && chosen.length) place.mutate(chosen);
              }}
            >
              <Stack>
                <Checkbox.Group label={t("order.requirements")} value={chosen} onChange={setCodes}>
                  <Stack gap={6} mt={6}>
                    {applicable.map((r) => (
                      <Checkbox key={r.code} value={r.code} label={`${r.code} · ${r.title}`} />
                    ))}
                  </Stack>
                </Checkbox.Group>
                <Select
                  label={t("order.provider")}
                  data={(providers.data?.items ?? []).map((h) => ({
                    value: h.provider.id,
                    label: h.provider.display_name ?? h.provider.id,
                  }))}
                  value={providerId}
                  onChange={setProviderId}
                  error={place.isIdle || providerId ? undefined : t("order.pickProvider")}
                />
                <Textarea
                  label={t("order.note")}
                  autosize
                  minRows={3}
                  maxLength={5000}
                  value={note}
                  onChange={(e) => setNote(e.currentTarget.value)}
                />
                <div>
                  <Text size="sm" fw={500} mb={4}>
                    {t("attachments.title")}
                  </Text>
                  <FileDrop onFiles={(more) => setFiles([...files, ...more])} />
                  {files.length > 0 && uploads.length === 0 && (
                    <Text size="sm" mt={4} data-testid="chosen-files">
                      {files.map((f) => f.name).join(", ")}
                    </Text>
                  )}
                  <UploadList uploads={uploads} />
                </div>
                {place.isError && <ErrorNote error={place.error} />}
                {place.data && place.data.failed > 0 && (
                  <Alert color="orange">
                    {t("order.someUploadsFailed")}{" "}
                    <Button
                      variant="subtle"
                      size="xs"
                      onClick={() => navigate(`/orders/${place.data.order.id}`)}
                    >
                      {t("order.open")}
                    </Button>
                  </Alert>
                )}
                <Button
                  type="submit"
                  loading={place.isPending}
                  disabled={!providerId || chosen.length === 0}
                  w="fit-content"
                >
                  {t("order.place")}
                </Button>
              </Stack>
            </form>
          );
        }}
      </QueryState>
    </Stack>
  );
}
