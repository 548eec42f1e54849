import { useQuery } from "@tanstack/react-query";
import { unwrap } from "../api/client";
import {
  listClearancesApiOrdersClearancesGet,
  listOrdersApiOrdersOrdersGet,
  myChecklistsApiRulesChecklistsGet,
  readChecklistApiRulesChecklistsChecklistIdGet,
} from "../api/generated/sdk.gen";

/** Queries several pages share, under one key each so a change refreshes them all. */
export function useChecklists() {
  return useQuery({
    queryKey: ["checklists"],
    queryFn: () => unwrap(myChecklistsApiRulesChecklistsGet({ query: { limit: 100 } })),
  });
}

export function useChecklist(id: string | null | undefined) {
  return useQuery({
    queryKey: ["checklists", id],
    queryFn: () =>
      unwrap(readChecklistApiRulesChecklistsChecklistIdGet({ path: { checklist_id: id ?? "" } })),
    enabled: Boolean(id),
  });
}

export function useOrders(refetchInterval?: number) {
  return useQuery({
    queryKey: ["orders"],
    queryFn: () => unwrap(listOrdersApiOrdersOrdersGet({ query: { limit: 100 } })),
    ...(refetchInterval ? { refetchInterval } : {}),
  });
}

export function useClearances() {
  return useQuery({
    queryKey: ["clearances"],
    queryFn: () => unwrap(listClearancesApiOrdersClearancesGet({ query: { limit: 100 } })),
  });
}
