import { expect, it } from 'vitest';
import { listQuery, readListState, toggleSort } from './listState';

it('reads a bookmarked list view from the URL', () => {
  const s = readListState(new URLSearchParams('q=acme&industry=Technology&sort=name&page=2&cursor=abc&junk=1'), '-updated_at', [
    'industry',
    'size',
  ]);
  expect(s).toEqual({ q: 'acme', sort: 'name', cursor: 'abc', page: 2, filters: { industry: 'Technology' } });
  expect(listQuery(s, 25)).toEqual({ industry: 'Technology', q: 'acme', sort: 'name', cursor: 'abc', limit: 25, count: true });
});

it('defaults and sanitises', () => {
  const s = readListState(new URLSearchParams('page=-3'), '-updated_at', []);
  expect(s.sort).toBe('-updated_at');
  expect(s.page).toBe(1);
});

it('toggles a column between ascending and descending', () => {
  expect(toggleSort('-updated_at', 'name')).toBe('name');
  expect(toggleSort('name', 'name')).toBe('-name');
  expect(toggleSort('-name', 'name')).toBe('name');
});
