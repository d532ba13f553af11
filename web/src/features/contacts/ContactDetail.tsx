import * as Tabs from '@radix-ui/react-tabs';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useRecord, useRecordsById, useRelated } from '../../api/records';
import { useEntity } from '../../api/schema';
import { Avatar, EmptyState, ErrorState, PageHeader, Skeleton } from '../../components/ui';
import { formatRelative } from '../../lib/format';
import { Timeline } from '../activities/Timeline';
import { DealMiniTable } from '../deals/DealMiniTable';
import { ComposeEmail } from '../assistant/ComposeEmail';
import { DuplicatesButton } from '../duplicates/DuplicatesButton';
import { DeleteButton, TrashBanner } from '../records/DetailActions';
import { DetailsCard } from '../records/FieldValue';
import { RecordFormModal } from '../records/RecordForm';

export function ContactDetail() {
  const { id = '' } = useParams();
  const def = useEntity('contacts');
  const contact = useRecord('contacts', id);
  const [editing, setEditing] = useState(false);
  const [composing, setComposing] = useState(false);
  const company = useRecordsById('companies', [contact.data?.company_id as string | null]).get(
    String(contact.data?.company_id),
  );
  if (contact.isError) return <ErrorState error={contact.error} retry={() => contact.refetch()} />;
  if (contact.isPending || !def) return <Skeleton lines={8} />;
  const c = contact.data;
  const name = String(c.full_name || c.email || 'Contact');
  return (
    <div className="detail-page">
      <PageHeader
        back={{ to: '/contacts', label: 'Contacts' }}
        title={
          <span className="title-with-avatar">
            <Avatar name={name} size={36} /> {name}
          </span>
        }
        actions={
          <>
            <button className="btn" onClick={() => setComposing(true)}>
              ✦ Compose email
            </button>
            <button className="btn" onClick={() => setEditing(true)}>
              Edit
            </button>
            <DuplicatesButton def={def} record={c} />
            <DeleteButton def={def} record={c} listPath="/contacts" />
          </>
        }
      />
      <div className="header-meta">
        {c.title && <span>{String(c.title)}</span>}
        {company && (
          <span>
            at <Link to={`/companies/${company.id}`}>{String(company.name)}</Link>
          </span>
        )}
        <span className="muted small">Created {formatRelative(c.created_at)}</span>
      </div>
      <TrashBanner def={def} record={c} />
      <div className="detail-grid">
        <DetailsCard
          def={def}
          record={c}
          fields={['email', 'phone', 'mobile', 'title', 'department', 'company_id', 'is_primary', 'linkedin_url', 'owner_id', 'notes']}
          onEdit={() => setEditing(true)}
        />
        <Tabs.Root className="card tabs" defaultValue="activity">
          <Tabs.List className="tab-list" aria-label="Related records">
            <Tabs.Trigger value="activity">Activity</Tabs.Trigger>
            <Tabs.Trigger value="deals">Deals</Tabs.Trigger>
          </Tabs.List>
          <Tabs.Content value="activity">
            <Timeline entity="contacts" id={c.id} preset={{ contact_id: c.id, company_id: c.company_id }} />
          </Tabs.Content>
          <Tabs.Content value="deals">
            <ContactDeals contactId={c.id} />
          </Tabs.Content>
        </Tabs.Root>
      </div>
      <RecordFormModal entity="contacts" open={editing} onOpenChange={setEditing} record={c} />
      <ComposeEmail contactId={c.id} open={composing} onOpenChange={setComposing} />
    </div>
  );
}

function ContactDeals({ contactId }: { contactId: string }) {
  const list = useRelated('contacts', contactId, 'deals', { limit: 100 });
  if (list.isError) return <ErrorState error={list.error} retry={() => list.refetch()} />;
  if (list.isPending) return <Skeleton lines={3} />;
  if (list.data.data.length === 0) return <EmptyState title="No deals with this contact." />;
  return (
    <DealMiniTable deals={list.data.data} />
  );
}
