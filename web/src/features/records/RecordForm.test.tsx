// The generated form against a schema like the server's: client checks first, then the
// server's field errors next to their fields. The network is a stub here; the real
// server is exercised by the end-to-end suite (web/e2e).
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, expect, it, vi } from 'vitest';
import type { Schema } from '../../api/types';
import { ToastProvider } from '../../components/toast';
import { RecordForm } from './RecordForm';

const schema: Schema = {
  entities: {
    companies: {
      name: 'companies',
      singular: 'company',
      label: 'Companies',
      owned: true,
      default_sort: '-updated_at',
      fields: [
        { name: 'id', label: 'ID', type: 'id', required: false, access: 'system', unique: false, sortable: true, searchable: false },
        { name: 'name', label: 'Name', type: 'text', required: true, access: 'writable', max_length: 200, unique: true, sortable: true, searchable: true },
        { name: 'domain', label: 'Domain', type: 'text', required: false, access: 'writable', unique: true, sortable: true, searchable: true },
        {
          name: 'industry',
          label: 'Industry',
          type: 'select',
          required: false,
          access: 'writable',
          unique: false,
          sortable: true,
          searchable: false,
          options: [{ value: 'Technology', label: 'Technology' }],
        },
      ],
    },
  },
};

function setup() {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  qc.setQueryData(['schema'], schema);
  const onSaved = vi.fn();
  render(
    <QueryClientProvider client={qc}>
      <ToastProvider>
        <RecordForm entity="companies" onSaved={onSaved} onCancel={() => undefined} />
      </ToastProvider>
    </QueryClientProvider>,
  );
  return { onSaved };
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

it('renders the writable fields with their inputs', () => {
  setup();
  expect(screen.getByLabelText(/Name/)).toBeTruthy();
  expect(screen.getByLabelText('Industry').tagName).toBe('SELECT');
  expect(screen.queryByLabelText('ID')).toBeNull();
});

it('shows a required field error without calling the server', () => {
  const fetch = vi.fn();
  vi.stubGlobal('fetch', fetch);
  setup();
  fireEvent.click(screen.getByRole('button', { name: 'Save' }));
  expect(screen.getByText('Name is required')).toBeTruthy();
  expect(fetch).not.toHaveBeenCalled();
});

it("puts the server's field errors next to their fields", async () => {
  const problem = {
    status: 409,
    code: 'duplicate',
    detail: 'A company with this name exists',
    errors: [{ field: 'name', code: 'duplicate', message: 'A company named “Acme” already exists' }],
  };
  const fetch = vi.fn(async () => new Response(JSON.stringify(problem), { status: 409 }));
  vi.stubGlobal('fetch', fetch);
  const { onSaved } = setup();
  fireEvent.change(screen.getByLabelText(/Name/), { target: { value: 'Acme' } });
  fireEvent.click(screen.getByRole('button', { name: 'Save' }));
  await waitFor(() => expect(screen.getByText('A company named “Acme” already exists')).toBeTruthy());
  expect(onSaved).not.toHaveBeenCalled();
  const [, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
  expect(JSON.parse(String(init.body))).toEqual({ name: 'Acme' });
});
