import { useState } from 'react';
import { errorMessage } from '../../api/client';
import { useRelated, useUpdateRecord } from '../../api/records';
import type { CrmRecord } from '../../api/types';
import { useToast } from '../../components/toast';
import { EmptyState, ErrorState, Skeleton } from '../../components/ui';
import { formatDateTime, formatRelative } from '../../lib/format';
import { RecordFormModal } from '../records/RecordForm';
import { useUserMap } from '../records/lookups';

export const ACTIVITY_ICONS: Record<string, string> = { Call: '📞', Email: '✉️', Meeting: '👥', Note: '📝', Task: '☑️' };

/** A record's activities, newest first, with "Log Activity". */
export function Timeline({ entity, id, preset }: { entity: string; id: string; preset: Record<string, unknown> }) {
  const list = useRelated(entity, id, 'activities', { sort: '-created_at', limit: 50 });
  const [logging, setLogging] = useState(false);
  const users = useUserMap();
  return (
    <div>
      <div className="tab-toolbar">
        <button className="btn btn-primary" onClick={() => setLogging(true)}>
          + Log Activity
        </button>
      </div>
      {list.isError ? (
        <ErrorState error={list.error} retry={() => list.refetch()} />
      ) : list.isPending ? (
        <Skeleton lines={4} />
      ) : list.data.data.length === 0 ? (
        <EmptyState title="No activity yet — log a call, email or meeting." />
      ) : (
        <ol className="timeline">
          {list.data.data.map((a) => (
            <li key={a.id} className="timeline-item">
              <span className="timeline-icon" aria-hidden="true">
                {ACTIVITY_ICONS[String(a.type)] ?? '•'}
              </span>
              <div className="timeline-body">
                <div className="timeline-head">
                  <strong>{String(a.subject)}</strong>
                  <span className="muted small">
                    {String(a.type)} · {users.get(String(a.created_by))?.name ?? ''} ·{' '}
                    <time dateTime={a.created_at} title={formatDateTime(a.created_at)}>
                      {formatRelative(a.created_at)}
                    </time>
                  </span>
                </div>
                {a.description && <p className="timeline-text">{String(a.description)}</p>}
                {a.type === 'Task' && <TaskState task={a} />}
              </div>
            </li>
          ))}
        </ol>
      )}
      <RecordFormModal entity="activities" open={logging} onOpenChange={setLogging} preset={preset} />
    </div>
  );
}

function TaskState({ task }: { task: CrmRecord }) {
  const update = useUpdateRecord('activities');
  const toast = useToast();
  return (
    <label className="task-check">
      <input
        type="checkbox"
        checked={Boolean(task.completed)}
        disabled={update.isPending}
        onChange={(e) =>
          update.mutate(
            { id: task.id, version: task.version, changes: { completed: e.target.checked } },
            { onError: (err) => toast.show(errorMessage(err), 'error') },
          )
        }
      />
      {task.completed ? 'Done' : task.due_date ? `Due ${formatDateTime(task.due_date as string)}` : 'Open'}
    </label>
  );
}
