import {
  Alert,
  Button,
  MultiSelect,
  NumberInput,
  Stack,
  TagsInput,
  Textarea,
  TextInput,
  Title,
} from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { unwrap } from "../../api/client";
import {
  myProfileApiOrdersProvidersMeGet,
  updateMyProfileApiOrdersProvidersMePut,
} from "../../api/generated/sdk.gen";
import type { ProfileChanges, ProviderOut } from "../../api/generated/types.gen";
import { flagOf } from "../../components/flags";
import { useMarkets } from "../../components/MarketSelect";
import { ErrorNote, QueryState } from "../../components/QueryState";

/** What a provider offers: markets, requirements covered, evidence, accreditations, turnaround. */
export default function Profile() {
  const { t } = useTranslation();
  const profile = useQuery({
    queryKey: ["provider-profile"],
    queryFn: () => unwrap(myProfileApiOrdersProvidersMeGet()),
  });
  return (
    <Stack maw={720}>
      <Title order={1}>{t("provider.profile")}</Title>
      <QueryState query={profile}>{(p) => <Editor profile={p} />}</QueryState>
    </Stack>
  );
}

function Editor({ profile }: { profile: ProviderOut }) {
  const { t } = useTranslation();
  const queries = useQueryClient();
  const markets = useMarkets();
  const [form, setForm] = useState<ProfileChanges>({});
  useEffect(() => {
    setForm({
      display_name: profile.display_name,
      description: profile.description,
      markets: profile.markets,
      requirement_codes: profile.requirement_codes,
      evidence_types: profile.evidence_types,
      turnaround_days: profile.turnaround_days,
      currency: profile.currency ?? "EUR",
      contact_email: profile.contact_email,
    });
  }, [profile]);
  const save = useMutation({
    mutationFn: () => {
      const body = Object.fromEntries(
        Object.entries(form).filter(([, v]) => v !== null && v !== ""),
      ) as ProfileChanges;
      return unwrap(updateMyProfileApiOrdersProvidersMePut({ body }));
    },
    onSuccess: (saved) => queries.setQueryData(["provider-profile"], saved),
  });
  const set = (change: Partial<ProfileChanges>) => setForm({ ...form, ...change });
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <Stack>
        <TextInput
          label={t("provider.displayName")}
          value={form.display_name ?? ""}
          onChange={(e) => set({ display_name: e.currentTarget.value })}
        />
        <Textarea
          label={t("provider.description")}
          autosize
          minRows={3}
          value={form.description ?? ""}
          onChange={(e) => set({ description: e.currentTarget.value })}
        />
        <MultiSelect
          label={t("providers.markets")}
          searchable
          data={(markets.data?.items ?? []).map((m) => ({
            value: m.code,
            label: `${flagOf(m.code)} ${m.name}`,
          }))}
          value={form.markets ?? []}
          onChange={(v) => set({ markets: v })}
        />
        <TagsInput
          label={t("provider.requirements")}
          description={t("provider.requirementsHint")}
          value={form.requirement_codes ?? []}
          onChange={(v) => set({ requirement_codes: v.map((c) => c.trim().toUpperCase()) })}
        />
        <TagsInput
          label={t("provider.evidence")}
          value={form.evidence_types ?? []}
          onChange={(v) => set({ evidence_types: v })}
        />
        <NumberInput
          label={t("provider.turnaround")}
          min={1}
          max={365}
          value={form.turnaround_days ?? ""}
          onChange={(v) => set({ turnaround_days: typeof v === "number" ? v : null })}
        />
        <TextInput
          label={t("order.currency")}
          maxLength={3}
          value={form.currency ?? ""}
          onChange={(e) => set({ currency: e.currentTarget.value.toUpperCase() })}
        />
        <TextInput
          label={t("provider.contactEmail")}
          type="email"
          value={form.contact_email ?? ""}
          onChange={(e) => set({ contact_email: e.currentTarget.value })}
        />
        {save.isError && <ErrorNote error={save.error} />}
        {save.isSuccess && (
          <Alert color="brand" role="status">
            {t("common.saved")}
          </Alert>
        )}
        <Button type="submit" w="fit-content" loading={save.isPending}>
          {t("common.save")}
        </Button>
      </Stack>
    </form>
  );
}
