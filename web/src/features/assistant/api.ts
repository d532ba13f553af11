// The assistant over `/api/v1/assistant/*`. It runs as the signed-in user and never
// writes on its own: changes come back as proposals that the user confirms.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { ApiError, NetworkError, api } from '../../api/client';

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

/**
 * One chat turn over server-sent events (`POST /api/v1/assistant/chat/stream`): `onDelta`
 * gets pieces of the reply as the model writes them; the promise resolves with the whole
 * answer (the `done` event). fetch + a small SSE reader, because EventSource cannot POST.
 */
export async function chatStream(
  body: { conversation_id?: string; message: string },
  onDelta: (text: string) => void,
): Promise<ChatReply> {
  let res: Response;
  try {
    res = await fetch('/api/v1/assistant/chat/stream', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
      body: JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    throw new NetworkError();
  }
  if (!res.ok || !res.body) {
    const problem = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    throw new ApiError(res.status, problem);
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      const payload = JSON.parse(data.join('\n') || '{}') as Record<string, unknown>;
      if (event === 'delta' && typeof payload.text === 'string') onDelta(payload.text);
      else if (event === 'done') return payload as unknown as ChatReply;
      else if (event === 'error') throw new ApiError(Number(payload.status ?? 500), payload);
    }
  }
  throw new Error('The answer was cut off. Please try again.');
}
