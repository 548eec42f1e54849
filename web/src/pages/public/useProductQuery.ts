import { useSearchParams } from "react-router";

/** The product and market searched, kept in the URL so a search can be shared and reloaded. */
export type ProductQuery = { market: string; q?: string; hs_code?: string; category?: string };

export function useProductQuery(): ProductQuery | null {
  const [params] = useSearchParams();
  const market = params.get("market");
  if (!market) return null;
  const query: ProductQuery = { market };
  for (const key of ["q", "hs_code", "category"] as const) {
    const value = params.get(key);
    if (value) query[key] = value;
  }
  if (!query.q && !query.hs_code && !query.category) return null;
  return query;
}

export function toSearch(query: ProductQuery): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value) params.set(key, value);
  return params.toString();
}
