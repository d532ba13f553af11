import { useState } from 'react';
import { Link } from 'react-router';
import { errorMessage } from '../../api/client';
import { useEntity } from '../../api/schema';
import type { CrmRecord } from '../../api/types';
import { EmptyState, ErrorState, PageHeader, Skeleton } from '../../components/ui';
import { useToast } from '../../components/toast';
import { formatRelative } from '../../lib/format';
import { type DuplicateEntity, reasonLabel, useDuplicates, useMerges, useUndoMerge } from './api';
import { MergeDialog } from './MergeDialog';

function name(entity: DuplicateEntity, r: CrmRecord): string {
  return String((entity === 'companies' ? r.name : r.full_name || r.email) ?? r.id);
}

/** Suggested duplicates per entity, a merge dialog for each pair, and recent merges to undo. */
export function DuplicatesPage() {
  const [entity, setEntity] = useState<DuplicateEntity>('contacts');
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1] ?? null;
  const def = useEntity(entity);
  const page = useDuplicates(entity, cursor);
  const [merging, setMerging] = useState<CrmRecord[] | null>(null);

  const pick = (e: DuplicateEntity) => {
    setEntity(e);
    setCursors([null]);
  };

  return (
    <div>
      <PageHeader title="Duplicates" />
      <div className="segmented" role="tablist" aria-label="Entity">
        {(['contacts', 'companies'] as const).map((e) => (
          <button key={e} role="tab" aria-selected={entity === e} className={`btn ${entity === e ? 'btn-primary' : ''}`} onClick={() => pick(e)}>
            {e === 'contacts' ? 'Contacts' : 'Companies'}
          </button>
        ))}
      </div>
      {page.isError ? (
        <ErrorState error={page.error} retry={() => page.refetch()} />
      ) : page.isPending || !def ? (
        <Skeleton lines={6} />
      ) : page.data.data.length === 0 && !page.data.next_cursor ? (
        <EmptyState title="No likely duplicates">Nothing here looks like a duplicate.</EmptyState>
      ) : (
        <table className="table duplicates-table">
          <thead>
            <tr>
              <th scope="col">Score</th>
              <th scope="col">Records</th>
              <th scope="col">Why</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {page.data.data.map((p) => (
              <tr key={`${p.records[0].id}-${p.records[1].id}`}>
                <td>{p.score}</td>
                <td>
                  <Link to={`/${entity}/${p.records[0].id}`}>{name(entity, p.records[0])}</Link> ·{' '}
                  <Link to={`/${entity}/${p.records[1].id}`}>{name(entity, p.records[1])}</Link>
                </td>
                <td>{p.reasons.map(reasonLabel).join(', ')}</td>
                <td>
                  <button className="btn" onClick={() => setMerging(p.records)}>
                    Merge…
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="pager">
        {cursors.length > 1 && (
          <button className="btn" onClick={() => setCursors((c) => c.slice(0, -1))}>
            Previous
          </button>
        )}
        {page.data?.next_cursor && (
          <button className="btn" onClick={() => setCursors((c) => [...c, page.data?.next_cursor ?? null])}>
            Next
          </button>
        )}
      </div>
      {def && merging && <MergeDialog def={def} records={merging} open onOpenChange={(o) => !o && setMerging(null)} />}
      <RecentMerges />
    </div>
  );
}

function RecentMerges() {
  const merges = useMerges();
  const undo = useUndoMerge();
  const toast = useToast();
  if (merges.isError) return <ErrorState error={merges.error} retry={() => merges.refetch()} />;
  if (merges.isPending) return <Skeleton lines={3} />;
  if (merges.data.data.length === 0) return null;
  return (
    <section className="card recent-merges">
      <h2>Recent merges</h2>
      <ul>
        {merges.data.data.map((m) => (
          <li key={m.id}>
            <Link to={`/${m.entity}/${m.survivor_id}`}>
              {m.other_ids.length + 1} {m.entity}
            </Link>{' '}
            <span className="muted small">merged {formatRelative(m.merged_at)}</span>{' '}
            {m.undone_at ? (
              <span className="muted small">undone</span>
            ) : m.can_undo ? (
              <button
                className="btn"
                disabled={undo.isPending}
                onClick={() =>
                  undo.mutate(m.id, {
                    onSuccess: (r) =>
                      toast.show(
                        `Merge undone${r.kept_fields.length ? `; kept newer ${r.kept_fields.map((k) => k.field).join(', ')}` : ''}`,
                        'success',
                      ),
                    onError: (e) => toast.show(errorMessage(e), 'error'),
                  })
                }
              >
                Undo
              </button>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
