import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import type { User } from './types';

export const meKey = ['me'] as const;

/** The signed-in user, or null when there is no session. */
export function useMe() {
  return useQuery({
    queryKey: meKey,
    queryFn: async (): Promise<User | null> => {
      try {
        return await api<User>('/api/v1/auth/me');
      } catch (e) {
        if (e instanceof Error && 'status' in e && (e as { status: number }).status === 401) return null;
        throw e;
      }
    },
    staleTime: 5 * 60_000,
  });
}

export function useSignIn() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { email: string; password: string; totp_code?: string }) =>
      api<{ user: User }>('/api/v1/auth/login', { method: 'POST', body }),
    onSuccess: (res) => {
      qc.clear();
      qc.setQueryData(meKey, res.user);
    },
  });
}

export function useSignOut() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => api<unknown>('/api/v1/auth/logout', { method: 'POST', body: {} }),
    onSettled: () => {
      qc.clear();
      qc.setQueryData(meKey, null);
    },
  });
}
