// The list page every entity shares: search, filters, sortable columns, keyset paging,
// row selection with bulk actions. All of its state is in the URL.
import { useEffect, useRef, useState, type ReactNode } from 'react';
import * as DropdownMenu from '@radix-ui/react-dropdown-menu';
import { ApiError, errorMessage, withQuery } from '../../api/client';
import { useBulk, useList } from '../../api/records';
import { useEntity } from '../../api/schema';
import { FieldValue } from './FieldValue';
import { UserSelect } from './ReferenceInput';
import type { CrmRecord } from '../../api/types';
import { Confirm, Modal } from '../../components/Modal';
import { useToast } from '../../components/toast';
import { EmptyState, ErrorState, Skeleton } from '../../components/ui';
import { formatNumber } from '../../lib/format';
import { listQuery, toggleSort, useListState, type ListState } from '../../lib/listState';
import { useMe } from '../../api/session';

export interface Column {
  key: string;
  label: string;
  /** The field a click on the header sorts by (only indexed fields are sortable). */
  sort?: string;
  render: (r: CrmRecord) => ReactNode;
  className?: string;
  /** The fields this column shows, for CSV export (default: `sort`, else `key`). */
  fields?: string[];
}

export interface FilterDef {
  param: string;
  label: string;
  options: { value: string; label: string }[];
}

const PAGE_SIZE = 25;

export function RecordList({
  entity,
  columns: pageColumns,
  filters,
  searchPlaceholder,
  emptyText,
  onCreate,
  createLabel,
}: {
  entity: string;
  columns: Column[];
  filters: FilterDef[];
  searchPlaceholder: string;
  emptyText: string;
  onCreate: () => void;
  createLabel: string;
}) {
  const def = useEntity(entity);
  // Custom fields get a column each, after the page's own columns.
  const columns: Column[] = [
    ...pageColumns,
    ...(def?.fields ?? [])
      .filter((f) => f.custom)
      .map((f) => ({
        key: f.name,
        label: f.label,
        sort: f.sortable ? f.name : undefined,
        fields: [f.name],
        render: (r: CrmRecord) => <FieldValue field={f} record={r} />,
        className: 'hide-sm',
      })),
  ];
  const defaultSort = '-updated_at';
  const { state, update } = useListState(defaultSort, filters.map((f) => f.param));
  const list = useList(entity, listQuery(state, PAGE_SIZE));
  // Selection belongs to one view: changing the search, filters, sort or page clears it.
  const viewKey = JSON.stringify(listQuery(state, PAGE_SIZE));
  const [selection, setSelection] = useState<{ view: string; ids: Set<string> }>({ view: viewKey, ids: new Set() });
  const selected = selection.view === viewKey ? selection.ids : new Set<string>();
  const setSelected = (next: Set<string> | ((s: Set<string>) => Set<string>)) =>
    setSelection({ view: viewKey, ids: typeof next === 'function' ? next(selected) : next });
  const [search, setSearch] = useState(state.q);
  const cursors = useRef<Map<number, string | undefined>>(new Map([[1, undefined]]));

  // The search box writes to the URL a moment after typing stops.
  useEffect(() => {
    if (search === state.q) return;
    const t = window.setTimeout(() => update({ q: search }), 250);
    return () => window.clearTimeout(t);
  }, [search, state.q, update]);

  const rows = list.data?.data ?? [];
  const total = list.data?.total;
  const start = (state.page - 1) * PAGE_SIZE;
  const allSelected = rows.length > 0 && rows.every((r) => selected.has(r.id));

  const goPage = (page: number) => {
    if (page === 1) return update({ cursor: undefined, page: undefined });
    const cursor = cursors.current.get(page);
    update({ cursor, page: String(page) }, true);
  };
  const next = () => {
    if (!list.data?.next_cursor) return;
    cursors.current.set(state.page + 1, list.data.next_cursor);
    goPage(state.page + 1);
  };
  const filtersActive = Object.keys(state.filters).length > 0 || state.q !== '';

  return (
    <div className="list-page">
      <div className="toolbar">
        <input
          type="search"
          className="search-input"
          placeholder={searchPlaceholder}
          aria-label={searchPlaceholder}
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
        {filters.map((f) => (
          <select
            key={f.param}
            aria-label={f.label}
            className={state.filters[f.param] ? 'filter-active' : ''}
            value={state.filters[f.param] ?? ''}
            onChange={(e) => update({ [f.param]: e.target.value })}
          >
            <option value="">{f.label}: all</option>
            {f.options.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        ))}
        {filtersActive && (
          <button
            className="btn btn-link"
            onClick={() => {
              setSearch('');
              update(Object.fromEntries([['q', undefined], ...filters.map((f) => [f.param, undefined])]));
            }}
          >
            Clear
          </button>
        )}
        <span className="spacer" />
        <ExportMenu entity={entity} columns={columns} state={state} />
        <button className="btn btn-primary" onClick={onCreate}>
          + {createLabel}
        </button>
      </div>

      {selected.size > 0 && def && (
        <BulkBar entity={entity} ids={[...selected]} label={def.label.toLowerCase()} onDone={() => setSelected(new Set())} />
      )}

      {list.isError ? (
        <ErrorState error={list.error} retry={() => list.refetch()} />
      ) : list.isPending ? (
        <Skeleton lines={10} height={28} />
      ) : rows.length === 0 ? (
        filtersActive ? (
          <EmptyState title="Nothing matches these filters.">
            <button
              className="btn"
              onClick={() => {
                setSearch('');
                update(Object.fromEntries([['q', undefined], ...filters.map((f) => [f.param, undefined])]));
              }}
            >
              Clear filters
            </button>
          </EmptyState>
        ) : (
          <EmptyState title={emptyText}>
            <button className="btn btn-primary" onClick={onCreate}>
              + {createLabel}
            </button>
          </EmptyState>
        )
      ) : (
        <div className="table-wrap" aria-busy={list.isFetching}>
          <table className="data-table">
            <thead>
              <tr>
                <th className="col-check">
                  <input
                    type="checkbox"
                    aria-label="Select all on this page"
                    checked={allSelected}
                    onChange={() =>
                      setSelected(allSelected ? new Set() : new Set(rows.map((r) => r.id)))
                    }
                  />
                </th>
                {columns.map((c) => {
                  const dir = state.sort === c.sort ? 'ascending' : state.sort === `-${c.sort}` ? 'descending' : undefined;
                  return (
                    <th key={c.key} className={c.className} aria-sort={dir ?? 'none'}>
                      {c.sort ? (
                        <button className="th-sort" onClick={() => update({ sort: toggleSort(state.sort, c.sort ?? '') })}>
                          {c.label}
                          <span aria-hidden="true" className="sort-arrow">
                            {dir === 'ascending' ? '▲' : dir === 'descending' ? '▼' : ''}
                          </span>
                        </button>
                      ) : (
                        c.label
                      )}
                    </th>
                  );
                })}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id} className={selected.has(r.id) ? 'selected' : ''}>
                  <td className="col-check">
                    <input
                      type="checkbox"
                      aria-label="Select row"
                      checked={selected.has(r.id)}
                      onChange={() =>
                        setSelected((s) => {
                          const n = new Set(s);
                          if (n.has(r.id)) n.delete(r.id);
                          else n.add(r.id);
                          return n;
                        })
                      }
                    />
                  </td>
                  {columns.map((c) => (
                    <td key={c.key} className={c.className} data-label={c.label}>
                      {c.render(r)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {rows.length > 0 && (
        <nav className="pager" aria-label="Pages">
          <span className="muted">
            {formatNumber(start + 1)}–{formatNumber(start + rows.length)}
            {total !== undefined && ` of ${formatNumber(total)}`}
          </span>
          <button className="btn" disabled={state.page <= 1} onClick={() => goPage(cursors.current.has(state.page - 1) ? state.page - 1 : 1)}>
            ← Previous
          </button>
          <button className="btn" disabled={!list.data?.next_cursor} onClick={next}>
            Next →
          </button>
        </nav>
      )}
    </div>
  );
}

function BulkBar({ entity, ids, label, onDone }: { entity: string; ids: string[]; label: string; onDone: () => void }) {
  const bulk = useBulk(entity);
  const toast = useToast();
  const [confirm, setConfirm] = useState<'delete' | 'cascade' | null>(null);
  const [ownerOpen, setOwnerOpen] = useState(false);
  const [owner, setOwner] = useState('');

  const remove = (cascade: boolean) =>
    bulk.remove.mutate(
      { ids, cascade },
      {
        onSuccess: () => {
          toast.show(`${ids.length} ${label} moved to the trash`);
          setConfirm(null);
          onDone();
        },
        onError: (e) => {
          if (e instanceof ApiError && e.code === 'has_deals') setConfirm('cascade');
          else {
            setConfirm(null);
            toast.show(errorMessage(e), 'error');
          }
        },
      },
    );

  return (
    <div className="bulk-bar" role="region" aria-label="Bulk actions">
      <strong>{ids.length} selected</strong>
      <button className="btn" onClick={() => setOwnerOpen(true)}>
        Change owner
      </button>
      <button className="btn btn-danger" onClick={() => setConfirm('delete')}>
        Delete
      </button>
      <button className="btn btn-link" onClick={onDone}>
        Clear selection
      </button>
      <Confirm
        open={confirm !== null}
        onOpenChange={(o) => !o && setConfirm(null)}
        title={`Delete ${ids.length} ${label}?`}
        body={
          confirm === 'cascade'
            ? 'Some of these companies have deals. Delete their deals too? Everything goes to the trash and can be restored.'
            : 'They go to the trash and can be restored.'
        }
        confirmLabel={confirm === 'cascade' ? 'Delete with their deals' : 'Delete'}
        danger
        busy={bulk.remove.isPending}
        onConfirm={() => remove(confirm === 'cascade')}
      />
      <Modal open={ownerOpen} onOpenChange={setOwnerOpen} title={`Change owner of ${ids.length} ${label}`}>
        <label className="field">
          <span>New owner</span>
          <UserSelect value={owner || null} onChange={(id) => setOwner(id ?? '')} placeholder="Choose…" />
        </label>
        <div className="form-actions">
          <button className="btn" onClick={() => setOwnerOpen(false)}>
            Cancel
          </button>
          <button
            className="btn btn-primary"
            disabled={!owner || bulk.changeOwner.isPending}
            onClick={() =>
              bulk.changeOwner.mutate(
                { ids, owner_id: owner },
                {
                  onSuccess: () => {
                    toast.show(`Owner changed on ${ids.length} ${label}`);
                    setOwnerOpen(false);
                    onDone();
                  },
                  onError: (e) => toast.show(errorMessage(e), 'error'),
                },
              )
            }
          >
            Change owner
          </button>
        </div>
      </Modal>
    </div>
  );
}

/**
 * Download the current view (its search, filters, sort and columns) as CSV. Only roles
 * the policy lets export see the button; the server still decides (limits, audit).
 */
function ExportMenu({ entity, columns, state }: { entity: string; columns: Column[]; state: ListState }) {
  const me = useMe().data;
  const def = useEntity(entity);
  const toast = useToast();
  const [busy, setBusy] = useState(false);
  if (!me || !def || !['admin', 'manager'].includes(me.role)) return null;
  const known = new Set(def.fields.map((f) => f.name));
  const fields = ['id', ...columns.flatMap((c) => c.fields ?? [c.sort ?? c.key])].filter((f) => known.has(f));

  const download = async (bom: boolean) => {
    setBusy(true);
    try {
      const query = { ...listQuery(state, 1), cursor: undefined, limit: undefined, count: undefined };
      const url = withQuery(`/api/v1/${entity}/export.csv`, { ...query, columns: [...new Set(fields)].join(','), bom });
      const res = await fetch(url, { credentials: 'same-origin' });
      if (!res.ok) {
        const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
        throw new ApiError(res.status, body);
      }
      const blob = await res.blob();
      const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? `${entity}.csv`;
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = name;
      a.click();
      URL.revokeObjectURL(a.href);
      toast.show(`Exported ${res.headers.get('x-export-rows') ?? ''} ${def.label.toLowerCase()}`);
    } catch (e) {
      toast.show(errorMessage(e), 'error');
    } finally {
      setBusy(false);
    }
  };

  return (
    <DropdownMenu.Root>
      <DropdownMenu.Trigger className="btn" disabled={busy}>
        {busy ? 'Exporting…' : 'Export'}
      </DropdownMenu.Trigger>
      <DropdownMenu.Portal>
        <DropdownMenu.Content className="menu" align="end" sideOffset={4}>
          <DropdownMenu.Item className="menu-item" onSelect={() => void download(false)}>
            CSV
          </DropdownMenu.Item>
          <DropdownMenu.Item className="menu-item" onSelect={() => void download(true)}>
            CSV for Excel
          </DropdownMenu.Item>
        </DropdownMenu.Content>
      </DropdownMenu.Portal>
    </DropdownMenu.Root>
  );
}
