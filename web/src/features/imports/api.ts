// CSV import over `/api/v1/imports`: the file is the raw request body (text/csv), the
// options are query parameters.
import { useQuery } from '@tanstack/react-query';
import { ApiError, api, withQuery } from '../../api/client';

export interface ColumnMapping {
  column: number;
  header: string;
  field: string | null;
  matched_by: string | null;
}

export interface Preview {
  entity: string;
  encoding: string;
  separator: string;
  headers: string[];
  mapping: ColumnMapping[];
  unmapped_required: string[];
  fields: string[];
  rows: string[][];
}

export interface RowError {
  row: number;
  line: number;
  column: string | null;
  field: string | null;
  code: string;
  message: string;
}

export interface Report {
  id?: string | null;
  status: string;
  entity: string;
  mode: string;
  dry_run?: boolean;
  rows: number;
  created: number;
  updated: number;
  unchanged?: number;
  skipped: number;
  failed: number;
  companies_created: number;
  next_row: number | null;
  error_count: number;
  errors: RowError[];
  elapsed_ms?: number;
  file_name?: string | null;
  started_at?: string;
  /** Background imports: queued, validating, importing or done. */
  phase?: string;
  /** Data rows the phase has finished (of `rows` once the check has counted them). */
  rows_done?: number;
}

/** A background import still queued or running. */
export function inProgress(r: Report): boolean {
  return r.status === 'queued' || r.status === 'running';
}

export type ImportParams = Record<string, string | number | boolean | undefined>;

export async function preview(file: Blob, params: ImportParams): Promise<Preview> {
  // The server reads at most the first MiB for a preview; send no more than that.
  return api<Preview>('/api/v1/imports/preview', {
    method: 'POST',
    query: params,
    rawBody: file.slice(0, 1024 * 1024),
    headers: { 'Content-Type': 'text/csv' },
  });
}

/**
 * Upload and run (or dry-run) an import, reporting upload progress. XMLHttpRequest,
 * because fetch cannot report upload progress. A dry run answers with its report; an
 * import answers 202 with the queued import, to follow with `useImport`. A rejected or
 * stopped import (422/409) still carries its report, which is returned rather than thrown.
 */
export function runImport(file: File, params: ImportParams, onProgress: (fraction: number) => void): Promise<Report> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', withQuery('/api/v1/imports', { ...params, file_name: file.name }));
    xhr.setRequestHeader('Content-Type', 'text/csv');
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onerror = () => reject(new Error('Could not reach Keel. Check your connection and try again.'));
    xhr.onload = () => {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(xhr.responseText) as Record<string, unknown>;
      } catch {
        body = { detail: xhr.responseText };
      }
      if (xhr.status < 300) resolve(body as unknown as Report);
      else if (body.import) resolve(body.import as Report);
      else reject(new ApiError(xhr.status, body));
    };
    xhr.send(file);
  });
}

/**
 * Poll a queued import every half second until it ends, passing each state to `onState`;
 * the final state, or null when `stopped()` says to give up (the page went away).
 */
export async function followImport(
  first: Report,
  onState: (r: Report) => void,
  stopped: () => boolean,
): Promise<Report | null> {
  let r = first;
  while (inProgress(r)) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    if (stopped()) return null;
    r = await api<Report>(`/api/v1/imports/${r.id ?? ''}`);
    onState(r);
  }
  return r;
}

export function useImports() {
  return useQuery({
    queryKey: ['records', 'imports'],
    queryFn: () => api<{ data: Report[] }>('/api/v1/imports', { query: { limit: 20 } }).then((r) => r.data),
  });
}
