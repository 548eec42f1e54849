import { Autocomplete } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { unwrap } from "../api/client";
import { hsSearchApiRulesHsGet } from "../api/generated/sdk.gen";
import type { InterpretationOut } from "../api/generated/types.gen";

export type Product = { text: string; hs_code?: string; category?: string };

/** What the suggestion list shows and what choosing it means. */
export function suggestionValue(s: InterpretationOut): string {
  return s.kind === "category" ? s.name : `${s.key} · ${s.name}`;
}

/**
 * The product as HS code, category or free text, with typo-tolerant suggestions while typing.
 * Choosing a suggestion pins the HS code or category; typing again makes it free text.
 */
export function ProductInput({
  value,
  onChange,
}: {
  value: Product;
  onChange: (product: Product) => void;
}) {
  const { t } = useTranslation();
  const [typed] = useDebouncedValue(value.text.trim(), 200);
  const pinned = Boolean(value.hs_code || value.category);
  const suggestions = useQuery({
    queryKey: ["hs-suggest", typed],
    queryFn: () => unwrap(hsSearchApiRulesHsGet({ query: { q: typed } })),
    enabled: typed.length >= 2 && !pinned,
    staleTime: 60_000,
  });
  const items = suggestions.data?.items ?? [];
  const byLabel = new Map(items.map((s) => [suggestionValue(s), s]));
  return (
    <Autocomplete
      label={t("search.product")}
      description={t("search.productHint")}
      placeholder={t("search.productPlaceholder")}
      value={value.text}
      data={[...byLabel.keys()].slice(0, 8)}
      filter={({ options }) => options}
      onChange={(text) => {
        const chosen = byLabel.get(text);
        if (chosen?.kind === "category") onChange({ text, category: chosen.key });
        else if (chosen) onChange({ text, hs_code: chosen.key });
        else onChange({ text });
      }}
      maxDropdownHeight={320}
      comboboxProps={{ withinPortal: true }}
      data-testid="product-input"
    />
  );
}
