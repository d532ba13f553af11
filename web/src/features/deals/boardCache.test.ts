import { expect, it } from 'vitest';
import type { CrmRecord } from '../../api/types';
import { addCard, moveTotals, removeCard, type Pages } from './boardCache';

const deal = (id: string, amount: number): CrmRecord =>
  ({ id, amount, created_at: '', updated_at: '', version: 1, stage: 'Proposal' }) as CrmRecord;

const pages = (...ids: string[]): Pages => ({
  pages: [{ data: ids.map((id) => deal(id, 100)), next_cursor: null }],
  pageParams: [undefined],
});

it('moves a card from one column cache to the top of another', () => {
  expect(removeCard(pages('a', 'b'), 'a')?.pages[0]?.data.map((d) => d.id)).toEqual(['b']);
  expect(addCard(pages('b'), deal('a', 1))?.pages[0]?.data.map((d) => d.id)).toEqual(['a', 'b']);
  expect(addCard(undefined, deal('a', 1))).toBeUndefined();
});

it('shifts counts, totals and weighted totals between stages', () => {
  const agg = {
    total: { count: 2, sum: { amount: 300 } },
    groups: [
      { key: 'Proposal', count: 2, sum: { amount: 300 }, weighted_amount: 150 },
      { key: 'Negotiation', count: 0, sum: { amount: 0 }, weighted_amount: 0 },
    ],
  };
  const after = moveTotals(agg, 'Proposal', 'Negotiation', 100, { from: 50, to: 75 });
  expect(after?.groups).toEqual([
    { key: 'Proposal', count: 1, sum: { amount: 200 }, weighted_amount: 100 },
    { key: 'Negotiation', count: 1, sum: { amount: 100 }, weighted_amount: 75 },
  ]);
  // The original is untouched, so it can be restored if the server refuses.
  expect(agg.groups[0]?.count).toBe(2);
});
