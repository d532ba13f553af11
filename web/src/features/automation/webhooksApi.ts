// Outbound webhooks over `/api/v1/webhooks` (admins): subscriptions, their secrets, the
// delivery log, redelivery and test events (docs/API.md, Webhooks).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import type { Json } from './api';

/** Entities and operations a subscription can name (`deals.updated`), or `*`. */
export const WEBHOOK_ENTITIES = ['companies', 'contacts', 'deals', 'activities'] as const;
export const WEBHOOK_OPS = ['created', 'updated', 'deleted', 'restored'] as const;

export interface WebhookBody {
  url: string;
  description: string | null;
  events: string[];
  filter: Json;
  active: boolean;
}

export interface Webhook extends WebhookBody {
  id: string;
  secret: string;
  failures: number;
  disabled_reason: string | null;
  created_by: string | null;
  updated_by: string | null;
  created_at: string;
  updated_at: string;
  version: number;
}

export interface DeliveryAttempt {
  attempt: number;
  at: string;
  succeeded: boolean;
  response_code: number | null;
  latency_ms: number;
  error: string | null;
  response_snippet: string | null;
}

export interface Delivery {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  status: string;
  manual: boolean;
  redelivery_of: string | null;
  response_code: number | null;
  error: string | null;
  created_at: string;
  finished_at: string | null;
  payload: Json;
  attempts: DeliveryAttempt[];
}

const keys = {
  all: ['webhooks'] as const,
  list: ['webhooks', 'list'] as const,
  deliveries: (id: string) => ['webhooks', 'deliveries', id] as const,
};

export function useWebhooks() {
  return useQuery({ queryKey: keys.list, queryFn: () => api<{ data: Webhook[] }>('/api/v1/webhooks').then((r) => r.data) });
}

export function useDeliveries(id: string) {
  return useQuery({
    queryKey: keys.deliveries(id),
    queryFn: () =>
      api<{ data: Delivery[] }>(`/api/v1/webhooks/${id}/deliveries`, { query: { limit: 50 } }).then((r) => r.data),
    // Deliveries finish in the background: keep the log fresh while it is on screen.
    refetchInterval: 5000,
  });
}

export function useWebhookCommands() {
  const qc = useQueryClient();
  const done = () => qc.invalidateQueries({ queryKey: keys.all });
  return {
    save: useMutation({
      mutationFn: ({ id, version, body }: { id?: string; version?: number; body: WebhookBody }) =>
        id
          ? api<Webhook>(`/api/v1/webhooks/${id}`, {
              method: 'PATCH',
              body: { ...body },
              headers: version !== undefined ? { 'If-Match': `"${version}"` } : undefined,
            })
          : api<Webhook>('/api/v1/webhooks', { method: 'POST', body: { ...body } }),
      onSuccess: done,
    }),
    toggle: useMutation({
      mutationFn: (w: Webhook) =>
        api<Webhook>(`/api/v1/webhooks/${w.id}`, {
          method: 'PATCH',
          body: { active: !w.active },
          headers: { 'If-Match': `"${w.version}"` },
        }),
      onSuccess: done,
    }),
    remove: useMutation({
      mutationFn: (id: string) => api<unknown>(`/api/v1/webhooks/${id}`, { method: 'DELETE' }),
      onSuccess: done,
    }),
    rotate: useMutation({
      mutationFn: (id: string) => api<Webhook>(`/api/v1/webhooks/${id}/rotate-secret`, { method: 'POST', body: {} }),
      onSuccess: done,
    }),
    test: useMutation({
      mutationFn: (id: string) => api<Delivery>(`/api/v1/webhooks/${id}/test`, { method: 'POST', body: {} }),
      onSuccess: done,
    }),
    redeliver: useMutation({
      mutationFn: ({ id, delivery }: { id: string; delivery: string }) =>
        api<Delivery>(`/api/v1/webhooks/${id}/deliveries/${delivery}/redeliver`, { method: 'POST', body: {} }),
      onSuccess: done,
    }),
  };
}
