import * as Tabs from '@radix-ui/react-tabs';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useRecord, useRelated } from '../../api/records';
import { field, useEntity } from '../../api/schema';
import { Badge, EmptyState, ErrorState, PageHeader, Skeleton } from '../../components/ui';
import { formatRelative } from '../../lib/format';
import { Timeline } from '../activities/Timeline';
import { DealMiniTable } from '../deals/DealMiniTable';
import { DealBoard } from '../deals/DealBoard';
import { DuplicatesButton } from '../duplicates/DuplicatesButton';
import { DeleteButton, TrashBanner } from '../records/DetailActions';
import { DetailsCard } from '../records/FieldValue';
import { RecordFormModal } from '../records/RecordForm';
import { optionOf } from '../records/lookups';

export function CompanyDetail() {
  const { id = '' } = useParams();
  const def = useEntity('companies');
  const company = useRecord('companies', id);
  const [editing, setEditing] = useState(false);

  if (company.isError) return <ErrorState error={company.error} retry={() => company.refetch()} />;
  if (company.isPending || !def) return <Skeleton lines={8} />;
  const c = company.data;
  const address = [c.address, c.city, c.state, c.country].filter(Boolean).join(', ');

  return (
    <div className="detail-page">
      <PageHeader
        back={{ to: '/companies', label: 'Companies' }}
        title={String(c.name)}
        actions={
          <>
            <button className="btn" onClick={() => setEditing(true)}>
              Edit
            </button>
            <DuplicatesButton def={def} record={c} />
            <DeleteButton def={def} record={c} listPath="/companies" />
          </>
        }
      />
      <div className="header-meta">
        <Badge value={c.industry as string} option={optionOf(field(def, 'industry')?.options ?? [], c.industry)} />
        {c.size && <span className="meta-chip">{String(c.size)} employees</span>}
        <span className="muted small">Created {formatRelative(c.created_at)}</span>
      </div>
      <TrashBanner def={def} record={c} />
      <div className="detail-grid">
        <DetailsCard
          def={def}
          record={c}
          fields={['industry', 'size', 'domain', 'website', 'phone', 'owner_id']}
          extra={[{ label: 'Address', value: address || <span className="muted">—</span> }]}
          onEdit={() => setEditing(true)}
        />
        <Tabs.Root className="card tabs" defaultValue="contacts">
          <Tabs.List className="tab-list" aria-label="Related records">
            <Tabs.Trigger value="contacts">Contacts</Tabs.Trigger>
            <Tabs.Trigger value="deals">Deals</Tabs.Trigger>
            <Tabs.Trigger value="activity">Activity</Tabs.Trigger>
          </Tabs.List>
          <Tabs.Content value="contacts">
            <CompanyContacts companyId={c.id} />
          </Tabs.Content>
          <Tabs.Content value="deals">
            <CompanyDeals companyId={c.id} />
          </Tabs.Content>
          <Tabs.Content value="activity">
            <Timeline entity="companies" id={c.id} preset={{ company_id: c.id }} />
          </Tabs.Content>
        </Tabs.Root>
      </div>
      <RecordFormModal entity="companies" open={editing} onOpenChange={setEditing} record={c} />
    </div>
  );
}

function CompanyContacts({ companyId }: { companyId: string }) {
  const list = useRelated('companies', companyId, 'contacts', { sort: 'last_name', limit: 100 });
  const [adding, setAdding] = useState(false);
  return (
    <div>
      <div className="tab-toolbar">
        <button className="btn btn-primary" onClick={() => setAdding(true)}>
          + Add Contact
        </button>
      </div>
      {list.isError ? (
        <ErrorState error={list.error} retry={() => list.refetch()} />
      ) : list.isPending ? (
        <Skeleton lines={3} />
      ) : list.data.data.length === 0 ? (
        <EmptyState title="No contacts at this company yet." />
      ) : (
        <table className="data-table mini">
          <thead>
            <tr>
              <th>Name</th>
              <th>Title</th>
              <th>Email</th>
              <th className="hide-sm">Phone</th>
            </tr>
          </thead>
          <tbody>
            {list.data.data.map((r) => (
              <tr key={r.id}>
                <td data-label="Name">
                  <Link to={`/contacts/${r.id}`}>{String(r.full_name || r.email || '—')}</Link>
                </td>
                <td data-label="Title">{String(r.title ?? '—')}</td>
                <td data-label="Email">{r.email ? <a href={`mailto:${String(r.email)}`}>{String(r.email)}</a> : '—'}</td>
                <td className="hide-sm">{String(r.phone ?? '—')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <RecordFormModal entity="contacts" open={adding} onOpenChange={setAdding} preset={{ company_id: companyId }} />
    </div>
  );
}

function CompanyDeals({ companyId }: { companyId: string }) {
  const def = useEntity('deals');
  const stages = field(def, 'stage')?.options ?? [];
  const [view, setView] = useState<'board' | 'list'>('board');
  const [adding, setAdding] = useState(false);
  const list = useRelated('companies', companyId, 'deals', { sort: '-updated_at', limit: 100 });
  return (
    <div>
      <div className="tab-toolbar">
        <div className="segmented" role="group" aria-label="View">
          <button aria-pressed={view === 'board'} onClick={() => setView('board')}>
            Board
          </button>
          <button aria-pressed={view === 'list'} onClick={() => setView('list')}>
            List
          </button>
        </div>
        <button className="btn btn-primary" onClick={() => setAdding(true)}>
          + New Deal
        </button>
      </div>
      {view === 'board' ? (
        <div className="board-compact">
          <DealBoard stages={stages} filters={{ company_id: companyId }} />
        </div>
      ) : list.isPending ? (
        <Skeleton lines={3} />
      ) : list.isError ? (
        <ErrorState error={list.error} retry={() => list.refetch()} />
      ) : list.data.data.length === 0 ? (
        <EmptyState title="No deals with this company yet." />
      ) : (
        <DealMiniTable deals={list.data.data} />
      )}
      <RecordFormModal entity="deals" open={adding} onOpenChange={setAdding} preset={{ company_id: companyId }} />
    </div>
  );
}
