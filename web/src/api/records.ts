// Query and mutation hooks over the generic record endpoints. Every list, detail page
// and form uses these, so caching and invalidation live in one place.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import type { Aggregate, CrmRecord, Page, User } from './types';

export type ListParams = Record<string, string | number | boolean | undefined>;

export const recordKeys = {
  entity: (entity: string) => ['records', entity] as const,
  list: (entity: string, params: ListParams) => ['records', entity, 'list', params] as const,
  one: (entity: string, id: string) => ['records', entity, 'one', id] as const,
};

export function useList<T = CrmRecord>(entity: string, params: ListParams, enabled = true) {
  return useQuery({
    queryKey: recordKeys.list(entity, params),
    queryFn: ({ signal }) => api<Page<T>>(`/api/v1/${entity}`, { query: params, signal }),
    placeholderData: keepPreviousData,
    enabled,
  });
}

export function useRecord<T = CrmRecord>(entity: string, id: string | undefined) {
  return useQuery({
    queryKey: recordKeys.one(entity, id ?? ''),
    queryFn: ({ signal }) => api<T>(`/api/v1/${entity}/${id}`, { signal }),
    enabled: Boolean(id),
  });
}

export function useRelated(entity: string, id: string, related: string, params: ListParams = {}) {
  return useQuery({
    queryKey: ['records', related, 'related', entity, id, params],
    queryFn: ({ signal }) => api<Page>(`/api/v1/${entity}/${id}/${related}`, { query: params, signal }),
  });
}

export function useAggregate(entity: string, params: ListParams) {
  return useQuery({
    queryKey: ['records', entity, 'aggregate', params],
    queryFn: ({ signal }) => api<Aggregate>(`/api/v1/${entity}/aggregate`, { query: params, signal }),
    placeholderData: keepPreviousData,
  });
}

/** Records by id, fetched in one request per page of ids (never one request per row). */
export function useRecordsById(entity: string, ids: (string | null | undefined)[]) {
  const unique = [...new Set(ids.filter((x): x is string => Boolean(x)))].sort();
  const q = useQuery({
    queryKey: ['records', entity, 'byId', unique],
    queryFn: ({ signal }) =>
      api<Page>(`/api/v1/${entity}`, { query: { 'id[in]': unique.join(','), limit: 200 }, signal }),
    enabled: unique.length > 0,
    staleTime: 60_000,
    placeholderData: keepPreviousData,
  });
  const map = new Map<string, CrmRecord>();
  for (const r of q.data?.data ?? []) map.set(r.id, r);
  return map;
}

/** Everyone who can own records: a small list, loaded once per session. */
export function useUsers() {
  return useQuery({
    queryKey: ['records', 'users', 'all'],
    queryFn: () => api<Page<User>>('/api/v1/users', { query: { limit: 200, sort: 'name' } }),
    staleTime: 5 * 60_000,
    select: (page) => page.data,
  });
}

export function useCreateRecord(entity: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Record<string, unknown>) =>
      api<CrmRecord>(`/api/v1/${entity}`, {
        method: 'POST',
        body,
        headers: { 'Idempotency-Key': crypto.randomUUID() },
      }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['records'] }),
  });
}

export function useUpdateRecord(entity: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, version, changes }: { id: string; version?: number; changes: Record<string, unknown> }) =>
      api<CrmRecord>(`/api/v1/${entity}/${id}`, {
        method: 'PATCH',
        body: changes,
        headers: version !== undefined ? { 'If-Match': `"${version}"` } : undefined,
      }),
    onSuccess: (rec) => {
      qc.setQueryData(recordKeys.one(entity, rec.id), rec);
      return qc.invalidateQueries({ queryKey: ['records'] });
    },
  });
}

export function useDeleteRecord(entity: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, cascade }: { id: string; cascade?: boolean }) =>
      api<unknown>(`/api/v1/${entity}/${id}`, { method: 'DELETE', query: cascade ? { cascade: true } : undefined }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['records'] }),
  });
}

export function useRestoreRecord(entity: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<CrmRecord>(`/api/v1/${entity}/${id}/restore`, { method: 'POST', body: {} }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['records'] }),
  });
}

export function useBulk(entity: string) {
  const qc = useQueryClient();
  const done = () => qc.invalidateQueries({ queryKey: ['records'] });
  return {
    remove: useMutation({
      mutationFn: ({ ids, cascade }: { ids: string[]; cascade?: boolean }) =>
        api<unknown>(`/api/v1/${entity}/bulk/delete`, { method: 'POST', body: { ids, cascade } }),
      onSuccess: done,
    }),
    changeOwner: useMutation({
      mutationFn: ({ ids, owner_id }: { ids: string[]; owner_id: string }) =>
        api<unknown>(`/api/v1/${entity}/bulk/owner`, { method: 'POST', body: { ids, owner_id } }),
      onSuccess: done,
    }),
  };
}
