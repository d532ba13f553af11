import { useState } from 'react';
import { useParams } from 'react-router';
import { errorMessage } from '../../api/client';
import { useRecord, useUpdateRecord } from '../../api/records';
import { field, useEntity } from '../../api/schema';
import { useToast } from '../../components/toast';
import { ErrorState, PageHeader, Skeleton } from '../../components/ui';
import { formatMoney, formatRelative } from '../../lib/format';
import { Timeline } from '../activities/Timeline';
import { SummariseMeeting } from '../assistant/SummariseMeeting';
import { DeleteButton, TrashBanner } from '../records/DetailActions';
import { DetailsCard } from '../records/FieldValue';
import { RecordFormModal } from '../records/RecordForm';

export function DealDetail() {
  const { id = '' } = useParams();
  const def = useEntity('deals');
  const deal = useRecord('deals', id);
  const update = useUpdateRecord('deals');
  const toast = useToast();
  const [editing, setEditing] = useState(false);
  const [summarising, setSummarising] = useState(false);
  if (deal.isError) return <ErrorState error={deal.error} retry={() => deal.refetch()} />;
  if (deal.isPending || !def) return <Skeleton lines={8} />;
  const d = deal.data;
  const stages = field(def, 'stage')?.options ?? [];
  const currentIndex = stages.findIndex((s) => s.value === d.stage);

  return (
    <div className="detail-page">
      <PageHeader
        back={{ to: '/deals', label: 'Deals' }}
        title={String(d.title)}
        actions={
          <>
            <button className="btn" onClick={() => setSummarising(true)}>
              ✦ Summarise meeting
            </button>
            <button className="btn" onClick={() => setEditing(true)}>
              Edit
            </button>
            <DeleteButton def={def} record={d} listPath="/deals" />
          </>
        }
      />
      <div className="header-meta">
        <strong className="big-amount">
          {d.amount === null ? '—' : formatMoney(d.amount as number, String(d.currency ?? 'USD'))}
        </strong>
        <span className="muted small">Updated {formatRelative(d.updated_at)}</span>
      </div>
      <TrashBanner def={def} record={d} />
      <ol className="stage-path" aria-label="Stage">
        {stages.map((s, i) => (
          <li key={s.value} className={`${i < currentIndex ? 'done' : ''} ${i === currentIndex ? 'current' : ''} ${s.closed ? `closed-${s.closed}` : ''}`}>
            <button
              aria-current={i === currentIndex ? 'step' : undefined}
              disabled={update.isPending || i === currentIndex || Boolean(d.deleted_at)}
              onClick={() =>
                update.mutate(
                  { id: d.id, version: d.version, changes: { stage: s.value } },
                  {
                    onSuccess: () => toast.show(`Stage changed to ${s.value}`),
                    onError: (e) => toast.show(errorMessage(e), 'error'),
                  },
                )
              }
            >
              {s.label}
            </button>
          </li>
        ))}
      </ol>
      <div className="detail-grid">
        <DetailsCard
          def={def}
          record={d}
          fields={['company_id', 'contact_id', 'stage', 'probability', 'expected_close_date', 'actual_close_date', 'source', 'priority', 'owner_id', 'notes']}
          onEdit={() => setEditing(true)}
        />
        <section className="card">
          <div className="card-head">
            <h2>Activity</h2>
          </div>
          <Timeline entity="deals" id={d.id} preset={{ deal_id: d.id, company_id: d.company_id, contact_id: d.contact_id }} />
        </section>
      </div>
      <RecordFormModal entity="deals" open={editing} onOpenChange={setEditing} record={d} />
      <SummariseMeeting dealId={d.id} open={summarising} onOpenChange={setSummarising} />
    </div>
  );
}
