import { useQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { api } from '../../api/client';
import { useRecordsById, useUsers } from '../../api/records';
import type { CrmRecord, Page } from '../../api/types';

/** The name a record goes by in pickers and links. */
export function recordTitle(entity: string, r: CrmRecord | undefined): string {
  if (!r) return '';
  switch (entity) {
    case 'companies':
    case 'users':
    case 'teams':
      return String(r.name ?? '');
    case 'contacts':
      return String(r.full_name || r.email || '');
    case 'deals':
      return String(r.title ?? '');
    case 'activities':
      return String(r.subject ?? '');
    default:
      return r.id;
  }
}

interface Props {
  id?: string;
  entity: string;
  value: string | null;
  onChange: (id: string | null) => void;
  invalid?: boolean;
  /** Extra list filters for the suggestions (contacts of the chosen company). */
  filter?: Record<string, string>;
}

/** Choose a referenced record: users from a select, others by typing to search. */
export function ReferenceInput(props: Props) {
  if (props.entity === 'users') return <UserSelect {...props} />;
  return <SearchPicker {...props} />;
}

/** Active users to choose from (and the current one, even if deactivated since). */
export function UserSelect({
  id,
  value,
  onChange,
  invalid,
  placeholder = '—',
}: {
  id?: string;
  value: string | null;
  onChange: (id: string | null) => void;
  invalid?: boolean;
  placeholder?: string;
}) {
  const users = useUsers().data ?? [];
  return (
    <select id={id} aria-invalid={invalid} value={value ?? ''} onChange={(e) => onChange(e.target.value || null)}>
      <option value="">{placeholder}</option>
      {users
        .filter((u) => u.is_active || u.id === value)
        .map((u) => (
          <option key={u.id} value={u.id}>
            {u.name}
          </option>
        ))}
    </select>
  );
}

function SearchPicker({ id, entity, value, onChange, invalid, filter }: Props) {
  const current = useRecordsById(entity, [value]).get(value ?? '');
  // What the user typed while searching; otherwise the chosen record's name.
  const [typed, setTyped] = useState<string | null>(null);
  const text = typed ?? recordTitle(entity, current);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const listId = useId();

  const q = text.trim();
  const results = useQuery({
    queryKey: ['records', entity, 'pick', q, filter],
    enabled: open,
    queryFn: ({ signal }) =>
      api<Page>(`/api/v1/${entity}`, { query: { ...filter, q: q || undefined, limit: 8 }, signal }),
  });
  const hits = results.data?.data ?? [];
  const choose = (r: CrmRecord | undefined) => {
    if (!r) return;
    onChange(r.id);
    setTyped(null);
    setOpen(false);
  };

  return (
    <div className="picker">
      <input
        id={id}
        role="combobox"
        aria-invalid={invalid}
        aria-expanded={open}
        aria-controls={listId}
        aria-autocomplete="list"
        autoComplete="off"
        value={text}
        placeholder="Type to search…"
        onFocus={() => setOpen(true)}
        onBlur={() =>
          window.setTimeout(() => {
            setOpen(false);
            setTyped(null);
          }, 150)
        }
        onChange={(e) => {
          setTyped(e.target.value);
          setOpen(true);
          setActive(0);
          if (e.target.value === '') onChange(null);
        }}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') {
            e.preventDefault();
            setActive((a) => Math.min(a + 1, hits.length - 1));
          } else if (e.key === 'ArrowUp') {
            e.preventDefault();
            setActive((a) => Math.max(a - 1, 0));
          } else if (e.key === 'Enter' && open) {
            e.preventDefault();
            choose(hits[active]);
          } else if (e.key === 'Escape') {
            setOpen(false);
          }
        }}
      />
      {open && (
        <ul className="picker-list" role="listbox" id={listId}>
          {hits.length === 0 && <li className="muted pad">{results.isFetching ? 'Searching…' : 'No matches'}</li>}
          {hits.map((r, i) => (
            <li
              key={r.id}
              role="option"
              aria-selected={i === active}
              className={i === active ? 'active' : ''}
              onMouseDown={(e) => {
                e.preventDefault();
                choose(r);
              }}
            >
              {recordTitle(entity, r)}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
