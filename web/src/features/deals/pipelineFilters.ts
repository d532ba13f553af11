// The pipeline's filter bar (owner, close date, amount) → list/aggregate query params.
import type { User } from '../../api/types';
import { parseMoney } from '../../lib/format';

export type OwnerScope = 'all' | 'me' | 'team';
export type ClosePeriod = '' | 'month' | 'quarter' | 'year';

export interface PipelineFilters {
  owner: OwnerScope;
  close: ClosePeriod;
  min: string;
  max: string;
}

function iso(y: number, m: number, d: number): string {
  return new Date(Date.UTC(y, m, d)).toISOString().slice(0, 10);
}

/** First and last day of the period containing `today` (local calendar). */
export function periodRange(period: Exclude<ClosePeriod, ''>, today: Date): [string, string] {
  const y = today.getFullYear();
  const m = today.getMonth();
  if (period === 'month') return [iso(y, m, 1), iso(y, m + 1, 0)];
  if (period === 'quarter') {
    const q = Math.floor(m / 3) * 3;
    return [iso(y, q, 1), iso(y, q + 3, 0)];
  }
  return [iso(y, 0, 1), iso(y, 11, 31)];
}

export function pipelineQuery(
  f: PipelineFilters,
  me: User | null | undefined,
  users: User[],
  today: Date = new Date(),
): Record<string, string | undefined> {
  const q: Record<string, string | undefined> = {};
  if (f.owner === 'me' && me) q.owner_id = me.id;
  if (f.owner === 'team' && me) {
    const team = me.team_id ? users.filter((u) => u.team_id === me.team_id).map((u) => u.id) : [me.id];
    q['owner_id[in]'] = [...new Set([...team, me.id])].join(',');
  }
  if (f.close) {
    const [from, to] = periodRange(f.close, today);
    q['expected_close_date[gte]'] = from;
    q['expected_close_date[lte]'] = to;
  }
  const min = parseMoney(f.min);
  const max = parseMoney(f.max);
  if (min !== null) q['amount[gte]'] = String(min);
  if (max !== null) q['amount[lte]'] = String(max);
  return q;
}
