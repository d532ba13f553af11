// Workflow automation over `/api/v1/workflows` and `/api/v1/jobs` (admins).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export type Trigger =
  | { type: 'record'; entity: string; on: 'created' | 'updated' | 'deleted' | 'restored'; field?: string; from?: Json; to?: Json }
  | { type: 'manual'; entity: string }
  | { type: 'schedule'; cron: string; time_zone: string };

export interface Action {
  type:
    | 'send_email'
    | 'post_slack'
    | 'post_teams'
    | 'call_webhook'
    | 'create_activity'
    | 'update_record'
    | 'assign_owner'
    | 'run_script';
  only_if?: Json;
  [field: string]: Json | undefined;
}

export interface WorkflowBody {
  name: string;
  description?: string | null;
  enabled: boolean;
  trigger: Trigger;
  conditions?: Json;
  actions: Action[];
}

export interface Workflow extends WorkflowBody {
  id: string;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface Step {
  action_index: number;
  attempt: number;
  action_type: string;
  status: string;
  input: Json;
  output: Json;
  error: string | null;
  duration_ms: number;
  at: string;
}

export interface Run {
  id: string;
  workflow_id: string;
  entity: string | null;
  record_id: string | null;
  trigger: { op?: string; type?: string; at?: string; diff?: Json } & Record<string, Json | undefined>;
  depth: number;
  status: string;
  conditions_met: boolean | null;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  steps: Step[];
}

export interface Job {
  id: string;
  kind: string;
  payload: Json;
  status: string;
  attempts: number;
  max_attempts: number;
  run_after: string;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

export interface Template extends WorkflowBody {
  key: string;
}

const keys = {
  all: ['automation'] as const,
  list: ['automation', 'workflows'] as const,
  one: (id: string) => ['automation', 'workflow', id] as const,
  runs: (id: string) => ['automation', 'runs', id] as const,
  jobs: (status: string) => ['automation', 'jobs', status] as const,
  templates: ['automation', 'templates'] as const,
};

export function useWorkflows() {
  return useQuery({ queryKey: keys.list, queryFn: () => api<{ data: Workflow[] }>('/api/v1/workflows').then((r) => r.data) });
}

export function useWorkflow(id: string | undefined) {
  return useQuery({
    queryKey: keys.one(id ?? ''),
    queryFn: () => api<Workflow>(`/api/v1/workflows/${id}`),
    enabled: Boolean(id),
  });
}

export function useRuns(id: string) {
  return useQuery({
    queryKey: keys.runs(id),
    queryFn: () => api<{ data: Run[] }>(`/api/v1/workflows/${id}/runs`, { query: { limit: 50 } }).then((r) => r.data),
    // Runs finish in the background: keep the history fresh while it is on screen.
    refetchInterval: 5000,
  });
}

export function useJobs(status: string) {
  return useQuery({
    queryKey: keys.jobs(status),
    queryFn: () => api<{ data: Job[] }>('/api/v1/jobs', { query: { status, limit: 100 } }).then((r) => r.data),
  });
}

export function useTemplates() {
  return useQuery({
    queryKey: keys.templates,
    queryFn: () => api<{ data: Template[] }>('/api/v1/workflows/templates').then((r) => r.data),
    staleTime: Infinity,
  });
}

export function useSaveWorkflow() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, version, body }: { id?: string; version?: number; body: WorkflowBody }) =>
      id
        ? api<Workflow>(`/api/v1/workflows/${id}`, {
            method: 'PATCH',
            body,
            headers: version !== undefined ? { 'If-Match': `"${version}"` } : undefined,
          })
        : api<Workflow>('/api/v1/workflows', { method: 'POST', body }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.all }),
  });
}

export function useWorkflowCommands() {
  const qc = useQueryClient();
  const done = () => qc.invalidateQueries({ queryKey: keys.all });
  return {
    toggle: useMutation({
      mutationFn: (w: Workflow) =>
        api<Workflow>(`/api/v1/workflows/${w.id}`, {
          method: 'PATCH',
          body: { enabled: !w.enabled },
          headers: { 'If-Match': `"${w.version}"` },
        }),
      onSuccess: done,
    }),
    remove: useMutation({
      mutationFn: (id: string) => api<unknown>(`/api/v1/workflows/${id}`, { method: 'DELETE' }),
      onSuccess: done,
    }),
    install: useMutation({
      mutationFn: ({ key, overrides }: { key: string; overrides?: Record<string, Json> }) =>
        api<Workflow>(`/api/v1/workflows/templates/${key}/install`, {
          method: 'POST',
          body: { enabled: false, ...overrides },
        }),
      onSuccess: done,
    }),
    run: useMutation({
      mutationFn: ({ id, record_id }: { id: string; record_id: string }) =>
        api<unknown>(`/api/v1/workflows/${id}/run`, { method: 'POST', body: { record_id } }),
      onSuccess: done,
    }),
    dryRun: useMutation({
      mutationFn: ({ id, record_id }: { id: string; record_id: string }) =>
        api<Json>(`/api/v1/workflows/${id}/dry-run`, { method: 'POST', body: { record_id } }),
    }),
    retry: useMutation({
      mutationFn: (id: string) => api<Job>(`/api/v1/jobs/${id}/retry`, { method: 'POST', body: {} }),
      onSuccess: done,
    }),
  };
}

/** "When a deal is updated (stage → Closed Won)" */
export function describeTrigger(t: Trigger): string {
  if (t.type === 'manual') return `Run by hand on a ${t.entity.replace(/s$/, '')}`;
  if (t.type === 'schedule') return `On schedule ${t.cron} (${t.time_zone})`;
  const what = `When a ${t.entity.replace(/ies$/, 'y').replace(/s$/, '')} is ${t.on}`;
  if (!t.field) return what;
  const change = [t.from !== undefined ? `from ${String(t.from)}` : '', t.to !== undefined ? `to ${String(t.to)}` : '']
    .filter(Boolean)
    .join(' ');
  return `${what}: ${t.field} changes${change ? ` ${change}` : ''}`;
}
