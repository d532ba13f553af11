import { useQuery } from '@tanstack/react-query';
import * as Dialog from '@radix-ui/react-dialog';
import { useEffect, useState } from 'react';
import { useNavigate } from 'react-router';
import { api } from '../../api/client';
import type { CrmRecord, Page } from '../../api/types';
import { formatMoney } from '../../lib/format';

const SOURCES = [
  { entity: 'companies', label: 'Companies', title: (r: CrmRecord) => String(r.name ?? ''), sub: (r: CrmRecord) => String(r.domain ?? '') },
  {
    entity: 'contacts',
    label: 'Contacts',
    title: (r: CrmRecord) => String(r.full_name ?? r.email ?? ''),
    sub: (r: CrmRecord) => String(r.email ?? ''),
  },
  {
    entity: 'deals',
    label: 'Deals',
    title: (r: CrmRecord) => String(r.title ?? ''),
    sub: (r: CrmRecord) => `${r.stage ?? ''} · ${formatMoney(r.amount as number | null, String(r.currency ?? 'USD'))}`,
  },
] as const;

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = window.setTimeout(() => setV(value), ms);
    return () => window.clearTimeout(t);
  }, [value, ms]);
  return v;
}

interface Hit {
  entity: string;
  id: string;
  title: string;
  sub: string;
}

/** Ctrl/Cmd-K: one box searching companies, contacts and deals (full-text, prefix terms). */
export function CommandPalette({ open, onOpenChange }: { open: boolean; onOpenChange: (o: boolean) => void }) {
  const [text, setText] = useState('');
  const [active, setActive] = useState(0);
  const q = useDebounced(text.trim(), 150);
  const navigate = useNavigate();

  const results = useQuery({
    queryKey: ['search', q],
    enabled: open && q.length > 0,
    queryFn: async ({ signal }) => {
      const pages = await Promise.all(
        SOURCES.map((s) => api<Page>(`/api/v1/${s.entity}`, { query: { q, limit: 5 }, signal })),
      );
      return SOURCES.map((s, i) => ({
        label: s.label,
        hits: (pages[i]?.data ?? []).map((r): Hit => ({ entity: s.entity, id: r.id, title: s.title(r), sub: s.sub(r) })),
      }));
    },
  });
  const flat = (results.data ?? []).flatMap((g) => g.hits);

  const go = (hit: Hit | undefined) => {
    if (!hit) return;
    onOpenChange(false);
    setText('');
    navigate(`/${hit.entity}/${hit.id}`);
  };

  return (
    <Dialog.Root open={open} onOpenChange={onOpenChange}>
      <Dialog.Portal>
        <Dialog.Overlay className="modal-overlay" />
        <Dialog.Content className="palette" aria-describedby={undefined}>
          <Dialog.Title className="sr-only">Search</Dialog.Title>
          <input
            autoFocus
            className="palette-input"
            placeholder="Search companies, contacts, deals…"
            aria-label="Search"
            value={text}
            role="combobox"
            aria-expanded={flat.length > 0}
            aria-controls="palette-results"
            aria-activedescendant={flat[active] ? `hit-${flat[active].id}` : undefined}
            onChange={(e) => {
              setText(e.target.value);
              setActive(0);
            }}
            onKeyDown={(e) => {
              if (e.key === 'ArrowDown') {
                e.preventDefault();
                setActive((a) => Math.min(a + 1, flat.length - 1));
              } else if (e.key === 'ArrowUp') {
                e.preventDefault();
                setActive((a) => Math.max(a - 1, 0));
              } else if (e.key === 'Enter') {
                e.preventDefault();
                go(flat[active]);
              }
            }}
          />
          <div id="palette-results" role="listbox" className="palette-results">
            {q && results.isFetching && flat.length === 0 && <p className="muted pad">Searching…</p>}
            {q && results.isSuccess && flat.length === 0 && <p className="muted pad">No matches for “{q}”.</p>}
            {(results.data ?? []).map((g) =>
              g.hits.length === 0 ? null : (
                <div key={g.label} role="group" aria-label={g.label}>
                  <div className="palette-group">{g.label}</div>
                  {g.hits.map((h) => {
                    const idx = flat.indexOf(h);
                    return (
                      <div
                        key={h.id}
                        id={`hit-${h.id}`}
                        role="option"
                        aria-selected={idx === active}
                        className={`palette-hit ${idx === active ? 'active' : ''}`}
                        onMouseEnter={() => setActive(idx)}
                        onClick={() => go(h)}
                      >
                        <span>{h.title}</span>
                        <span className="muted small">{h.sub}</span>
                      </div>
                    );
                  })}
                </div>
              ),
            )}
          </div>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
