import { Select } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { unwrap } from "../api/client";
import { marketsApiRulesMarketsGet } from "../api/generated/sdk.gen";
import { flagOf } from "./flags";

export function useMarkets() {
  return useQuery({
    queryKey: ["markets"],
    queryFn: () => unwrap(marketsApiRulesMarketsGet()),
    staleTime: 10 * 60_000,
  });
}

/** A searchable market picker showing each market's flag and name. */
export function MarketSelect({
  value,
  onChange,
  label,
  error,
}: {
  value: string | null;
  onChange: (code: string | null) => void;
  label?: string;
  error?: string | undefined;
}) {
  const { t } = useTranslation();
  const markets = useMarkets();
  const data = (markets.data?.items ?? []).map((m) => ({
    value: m.code,
    label: `${flagOf(m.code)} ${m.name} (${m.code})`,
  }));
  return (
    <Select
      label={label ?? t("search.market")}
      placeholder={t("search.marketPlaceholder")}
      data={data}
      value={value}
      onChange={onChange}
      searchable
      nothingFoundMessage={t("common.nothingFound")}
      disabled={markets.isPending}
      error={markets.isError ? t("common.unexpected") : error}
      comboboxProps={{ withinPortal: true }}
      allowDeselect={false}
    />
  );
}
