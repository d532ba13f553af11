import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useUsers } from '../../api/records';
import { OwnerLabel, PageHeader } from '../../components/ui';
import { formatRelative } from '../../lib/format';
import { RecordFormModal } from '../records/RecordForm';
import { RecordList, type Column } from '../records/RecordList';
import { useCompanyColumn } from '../records/companyColumn';
import { useOptions, useUserMap } from '../records/lookups';

export function ContactsList() {
  const departments = useOptions('contacts', 'department');
  const users = useUsers().data ?? [];
  const userMap = useUserMap();
  const [creating, setCreating] = useState(false);
  const navigate = useNavigate();
  const companyColumn = useCompanyColumn('contacts', ['department', 'owner_id']);

  const columns: Column[] = [
    {
      key: 'name',
      label: 'Name',
      sort: 'last_name',
      fields: ['first_name', 'last_name'],
      render: (r) => (
        <Link className="row-link" to={`/contacts/${r.id}`}>
          {String(r.full_name || r.email || '—')}
        </Link>
      ),
    },
    { key: 'title', label: 'Title', render: (r) => String(r.title ?? '—'), className: 'hide-sm' },
    companyColumn,
    { key: 'email', label: 'Email', sort: 'email', render: (r) => String(r.email ?? '—') },
    { key: 'owner', label: 'Owner', sort: 'owner_id', render: (r) => <OwnerLabel user={userMap.get(String(r.owner_id))} />, className: 'hide-sm' },
    { key: 'created', label: 'Created', sort: 'created_at', render: (r) => formatRelative(r.created_at), className: 'hide-sm' },
  ];
  return (
    <>
      <PageHeader title="Contacts" />
      <RecordList
        entity="contacts"
        columns={columns}
        searchPlaceholder="Search name or email"
        filters={[
          { param: 'department', label: 'Department', options: departments },
          { param: 'owner_id', label: 'Owner', options: users.map((u) => ({ value: u.id, label: u.name })) },
        ]}
        emptyText="No contacts yet — add your first contact."
        createLabel="New Contact"
        onCreate={() => setCreating(true)}
      />
      <RecordFormModal entity="contacts" open={creating} onOpenChange={setCreating} onSaved={(r) => navigate(`/contacts/${r.id}`)} />
    </>
  );
}
