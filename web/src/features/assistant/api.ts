// The assistant over `/api/v1/assistant/*`. It runs as the signed-in user and never
// writes on its own: changes come back as proposals that the user confirms.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';

export interface Citation {
  entity: string;
  id: string;
  title: string;
  url: string;
}

export interface ProposalStep {
  action: 'create' | 'update';
  entity: string;
  id?: string;
  input: Record<string, unknown>;
  label: string;
}

export interface Proposal {
  id: string;
  kind: string;
  summary: string;
  status: 'pending' | 'running' | 'confirmed' | 'cancelled';
  steps: ProposalStep[];
  expires_at: string;
  records?: Citation[];
}

export interface ChatReply {
  conversation_id: string;
  reply: string;
  citations: Citation[];
  proposals: Proposal[];
  engine: string;
}

export interface EmailDraft {
  subject: string;
  body: string;
  to: string | null;
}

export interface MeetingSummary {
  summary: string;
  key_points: string[];
  action_items: { text: string; owner: string | null; due_date: string | null }[];
  next_steps: string[];
  sentiment: { label: string; score: number };
  recommended_stage: string | null;
  stage_reason: string | null;
  proposal: Proposal | null;
}

export function useChat() {
  return useMutation({
    mutationFn: (body: { conversation_id?: string; message: string }) =>
      api<ChatReply>('/api/v1/assistant/chat', { method: 'POST', body }),
  });
}

export function useDecideProposal() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, decision }: { id: string; decision: 'confirm' | 'cancel' }) =>
      api<Proposal>(`/api/v1/assistant/proposals/${id}/${decision}`, { method: 'POST', body: {} }),
    // A confirmed proposal wrote records: every list and figure may have changed.
    onSuccess: () => qc.invalidateQueries({ queryKey: ['records'] }),
  });
}

export function useEmailDraft() {
  return useMutation({
    mutationFn: (body: { contact_id: string; purpose: string; notes?: string }) =>
      api<EmailDraft>('/api/v1/assistant/email-draft', { method: 'POST', body }),
  });
}

export function useMeetingSummary() {
  return useMutation({
    mutationFn: (body: { deal_id?: string; contact_id?: string; transcript: string }) =>
      api<MeetingSummary>('/api/v1/assistant/meeting-summary', { method: 'POST', body }),
  });
}
