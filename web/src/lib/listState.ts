// A list view's state (search, filters, sort, page) lives in the URL, so a view can be
// bookmarked, shared and restored with the back button.
import { useCallback, useMemo } from 'react';
import { useSearchParams } from 'react-router';

export interface ListState {
  q: string;
  sort: string;
  cursor: string | undefined;
  page: number;
  filters: Record<string, string>;
}

const RESERVED = new Set(['q', 'sort', 'cursor', 'page']);

export function readListState(params: URLSearchParams, defaultSort: string, filterKeys: string[]): ListState {
  const filters: Record<string, string> = {};
  for (const key of filterKeys) {
    const v = params.get(key);
    if (v) filters[key] = v;
  }
  return {
    q: params.get('q') ?? '',
    sort: params.get('sort') ?? defaultSort,
    cursor: params.get('cursor') ?? undefined,
    page: Math.max(1, Number(params.get('page') ?? '1') || 1),
    filters,
  };
}

/** API query parameters for a list state. */
export function listQuery(state: ListState, limit: number): Record<string, string | number | boolean | undefined> {
  return { ...state.filters, q: state.q || undefined, sort: state.sort, cursor: state.cursor, limit, count: true };
}

/** Clicking a column header: sort by it ascending, again descending. */
export function toggleSort(current: string, field: string): string {
  if (current === field) return `-${field}`;
  return field;
}

export function useListState(defaultSort: string, filterKeys: string[]) {
  const [params, setParams] = useSearchParams();
  const keysKey = filterKeys.join(',');
  const state = useMemo(
    () => readListState(params, defaultSort, keysKey ? keysKey.split(',') : []),
    [params, defaultSort, keysKey],
  );

  const update = useCallback(
    (changes: Partial<Record<string, string | undefined>>, keepPage = false) => {
      setParams(
        (prev) => {
          const next = new URLSearchParams(prev);
          for (const [k, v] of Object.entries(changes)) {
            if (v === undefined || v === '') next.delete(k);
            else next.set(k, v);
          }
          if (!keepPage) {
            next.delete('cursor');
            next.delete('page');
          }
          return next;
        },
        { replace: !keepPage },
      );
    },
    [setParams],
  );
  return { state, update, reserved: RESERVED };
}
