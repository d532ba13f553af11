// Optimistic moves on the pipeline board: a card leaves one stage's cached pages and
// joins the top of another's, and the per-stage totals shift with it. The caller keeps
// the snapshot and puts it back if the server refuses.
import type { InfiniteData, QueryClient, QueryKey } from '@tanstack/react-query';
import type { Aggregate, CrmRecord, Page } from '../../api/types';

export type Pages = InfiniteData<Page, string | undefined>;

export interface Snapshot {
  entries: [QueryKey, unknown][];
}

export function snapshot(qc: QueryClient, keys: QueryKey[]): Snapshot {
  return { entries: keys.map((k) => [k, qc.getQueryData(k)]) };
}

export function restore(qc: QueryClient, snap: Snapshot) {
  for (const [k, v] of snap.entries) qc.setQueryData(k, v);
}

export function removeCard(data: Pages | undefined, id: string): Pages | undefined {
  if (!data) return data;
  return { ...data, pages: data.pages.map((p) => ({ ...p, data: p.data.filter((r) => r.id !== id) })) };
}

export function addCard(data: Pages | undefined, card: CrmRecord): Pages | undefined {
  if (!data || data.pages.length === 0) return data;
  const [first, ...rest] = data.pages;
  if (!first) return data;
  return { ...data, pages: [{ ...first, data: [card, ...first.data.filter((r) => r.id !== card.id)] }, ...rest] };
}

/** Per-stage totals after moving one deal (amount may be null when redacted). */
export function moveTotals(
  agg: Aggregate | undefined,
  from: string,
  to: string,
  amount: number,
  probability: { from: number; to: number },
): Aggregate | undefined {
  if (!agg?.groups) return agg;
  const groups = agg.groups.map((g) => ({ ...g, sum: { ...g.sum } }));
  const find = (stage: string) => groups.find((g) => g.key === stage);
  const src = find(from);
  if (src) {
    src.count -= 1;
    src.sum.amount = (src.sum.amount ?? 0) - amount;
    if (src.weighted_amount !== undefined) src.weighted_amount -= Math.round((amount * probability.from) / 100);
  }
  let dst = find(to);
  if (!dst) {
    dst = { key: to, count: 0, sum: { amount: 0 }, weighted_amount: 0 };
    groups.push(dst);
  }
  dst.count += 1;
  dst.sum.amount = (dst.sum.amount ?? 0) + amount;
  if (dst.weighted_amount !== undefined) dst.weighted_amount += Math.round((amount * probability.to) / 100);
  return { ...agg, groups };
}
