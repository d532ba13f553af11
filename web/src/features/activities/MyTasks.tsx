import { useState } from 'react';
import { Link } from 'react-router';
import { errorMessage } from '../../api/client';
import { useList, useRecordsById, useUpdateRecord } from '../../api/records';
import { useMe } from '../../api/session';
import type { CrmRecord } from '../../api/types';
import { useToast } from '../../components/toast';
import { EmptyState, ErrorState, PageHeader, Skeleton } from '../../components/ui';
import { formatDateTime } from '../../lib/format';
import { RecordFormModal } from '../records/RecordForm';
import { recordTitle } from '../records/ReferenceInput';
import { ACTIVITY_ICONS } from './Timeline';

function dayBounds(now: Date): [string, string] {
  const start = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const end = new Date(start.getTime() + 24 * 3600 * 1000);
  return [start.toISOString(), end.toISOString()];
}

/** My open tasks, grouped the way people plan a day: overdue, today, upcoming. */
export function MyTasks() {
  const me = useMe().data;
  const [creating, setCreating] = useState(false);
  const [start, end] = dayBounds(new Date());
  const base = { assigned_to: me?.id, completed: 'false', sort: 'due_date', limit: 100 };
  const enabled = Boolean(me);
  const groups = [
    { key: 'overdue', title: 'Overdue', q: useList('activities', { ...base, 'due_date[lt]': start }, enabled) },
    { key: 'today', title: 'Today', q: useList('activities', { ...base, 'due_date[gte]': start, 'due_date[lt]': end }, enabled) },
    { key: 'upcoming', title: 'Upcoming', q: useList('activities', { ...base, 'due_date[gte]': end }, enabled) },
    { key: 'someday', title: 'No due date', q: useList('activities', { ...base, 'due_date[is_null]': 'true', sort: '-created_at' }, enabled) },
  ];
  const loading = groups.some((g) => g.q.isPending);
  const failed = groups.find((g) => g.q.isError);
  const empty = !loading && groups.every((g) => (g.q.data?.data.length ?? 0) === 0);

  return (
    <>
      <PageHeader
        title="My tasks"
        actions={
          <button className="btn btn-primary" onClick={() => setCreating(true)}>
            + New Task
          </button>
        }
      />
      {failed ? (
        <ErrorState error={failed.q.error} retry={() => groups.forEach((g) => g.q.refetch())} />
      ) : loading ? (
        <Skeleton lines={8} />
      ) : empty ? (
        <EmptyState title="You're all caught up — no open tasks.">
          <button className="btn btn-primary" onClick={() => setCreating(true)}>
            + New Task
          </button>
        </EmptyState>
      ) : (
        groups.map((g) =>
          (g.q.data?.data.length ?? 0) === 0 ? null : (
            <section key={g.key} className={`task-group task-${g.key}`} aria-label={g.title}>
              <h2>
                {g.title} <span className="muted">({g.q.data?.data.length})</span>
              </h2>
              <TaskList tasks={g.q.data?.data ?? []} overdue={g.key === 'overdue'} />
            </section>
          ),
        )
      )}
      <RecordFormModal
        entity="activities"
        open={creating}
        onOpenChange={setCreating}
        preset={{ type: 'Task', assigned_to: me?.id }}
      />
    </>
  );
}

function TaskList({ tasks, overdue }: { tasks: CrmRecord[]; overdue: boolean }) {
  const update = useUpdateRecord('activities');
  const toast = useToast();
  const deals = useRecordsById('deals', tasks.map((t) => t.deal_id as string | null));
  const contacts = useRecordsById('contacts', tasks.map((t) => t.contact_id as string | null));
  return (
    <ul className="task-list">
      {tasks.map((t) => {
        const deal = deals.get(String(t.deal_id));
        const contact = contacts.get(String(t.contact_id));
        return (
          <li key={t.id} className="task-row">
            <input
              type="checkbox"
              aria-label={`Complete ${String(t.subject)}`}
              disabled={update.isPending}
              onChange={() =>
                update.mutate(
                  { id: t.id, version: t.version, changes: { completed: true } },
                  {
                    onSuccess: () =>
                      toast.show(`Completed “${String(t.subject)}”`, 'success', {
                        label: 'Undo',
                        run: () => update.mutate({ id: t.id, changes: { completed: false } }),
                      }),
                    onError: (e) => toast.show(errorMessage(e), 'error'),
                  },
                )
              }
            />
            <span aria-hidden="true">{ACTIVITY_ICONS[String(t.type)] ?? '•'}</span>
            <span className="task-subject">{String(t.subject)}</span>
            {deal && (
              <Link className="small" to={`/deals/${deal.id}`}>
                {recordTitle('deals', deal)}
              </Link>
            )}
            {contact && (
              <Link className="small" to={`/contacts/${contact.id}`}>
                {recordTitle('contacts', contact)}
              </Link>
            )}
            <span className={`small ${overdue ? 'text-danger' : 'muted'}`}>
              {t.due_date ? formatDateTime(String(t.due_date)) : ''}
            </span>
          </li>
        );
      })}
    </ul>
  );
}
