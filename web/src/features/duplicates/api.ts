// Duplicate suggestions, merging and undo: the public endpoints of docs/API.md
// "Duplicates and merge".
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import type { CrmRecord } from '../../api/types';

export type DuplicateEntity = 'contacts' | 'companies';

export interface Reason {
  rule: string;
  fields: string[];
  similarity?: number;
  score: number;
}

export interface DuplicatePair {
  score: number;
  reasons: Reason[];
  records: [CrmRecord, CrmRecord];
}

export interface DuplicateMatch {
  score: number;
  reasons: Reason[];
  record: CrmRecord;
}

export interface MergeInfo {
  id: string;
  entity: DuplicateEntity;
  survivor_id: string;
  other_ids: string[];
  merged_at: string;
  undo_until: string;
  undone_at: string | null;
  can_undo: boolean;
  repointed: number;
  shares_moved: number;
}

export interface UndoResult {
  restored: string[];
  moved_back: number;
  kept_fields: { field: string }[];
  skipped: { entity: string; id: string; reason: string }[];
}

const RULE_LABELS: Record<string, string> = {
  same_email: 'Same email',
  same_phone: 'Same phone',
  similar_name_same_company: 'Similar name, same company',
  same_domain: 'Same domain',
  same_normalized_name: 'Same name',
  similar_name: 'Similar name',
};

export function reasonLabel(r: Reason): string {
  const label = RULE_LABELS[r.rule] ?? r.rule;
  return r.similarity !== undefined && r.similarity < 1 ? `${label} (${Math.round(r.similarity * 100)}%)` : label;
}

export function useDuplicates(entity: DuplicateEntity, cursor: string | null) {
  return useQuery({
    queryKey: ['records', entity, 'duplicates', cursor],
    queryFn: ({ signal }) =>
      api<{ data: DuplicatePair[]; next_cursor: string | null }>(`/api/v1/${entity}/duplicates`, {
        query: { limit: 25, cursor },
        signal,
      }),
  });
}

export function useDuplicatesOf(entity: DuplicateEntity, id: string, enabled: boolean) {
  return useQuery({
    queryKey: ['records', entity, 'duplicates-of', id],
    queryFn: ({ signal }) => api<{ data: DuplicateMatch[] }>(`/api/v1/${entity}/${id}/duplicates`, { signal }),
    enabled,
  });
}

export function useMerges() {
  return useQuery({
    queryKey: ['records', 'merges'],
    queryFn: ({ signal }) => api<{ data: MergeInfo[]; next_cursor: string | null }>('/api/v1/merges', { signal }),
  });
}

export function useMerge(entity: DuplicateEntity) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { survivor: string; others: string[]; fields: Record<string, string> }) =>
      api<{ merge: MergeInfo; survivor: CrmRecord }>(`/api/v1/${entity}/merge`, { method: 'POST', body }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['records'] }),
  });
}

export function useUndoMerge() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<UndoResult>(`/api/v1/merges/${id}/undo`, { method: 'POST', body: {} }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['records'] }),
  });
}
