import { expect, it } from 'vitest';
import type { User } from '../../api/types';
import { periodRange, pipelineQuery } from './pipelineFilters';

const user = (id: string, team: string | null) => ({ id, team_id: team, name: id }) as unknown as User;

it('computes calendar periods', () => {
  const d = new Date(2026, 10, 24);
  expect(periodRange('month', d)).toEqual(['2026-11-01', '2026-11-30']);
  expect(periodRange('quarter', d)).toEqual(['2026-10-01', '2026-12-31']);
  expect(periodRange('year', d)).toEqual(['2026-01-01', '2026-12-31']);
});

it('turns the filter bar into API filters', () => {
  const me = user('me', 't1');
  const users = [me, user('mate', 't1'), user('other', 't2')];
  const today = new Date(2026, 1, 10);
  expect(pipelineQuery({ owner: 'me', close: '', min: '', max: '' }, me, users, today)).toEqual({ owner_id: 'me' });
  expect(pipelineQuery({ owner: 'team', close: 'month', min: '10,000', max: 'x' }, me, users, today)).toEqual({
    'owner_id[in]': 'me,mate',
    'expected_close_date[gte]': '2026-02-01',
    'expected_close_date[lte]': '2026-02-28',
    'amount[gte]': '1000000',
  });
  expect(pipelineQuery({ owner: 'all', close: '', min: '', max: '' }, me, users, today)).toEqual({});
});
