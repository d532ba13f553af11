import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useUsers } from '../../api/records';
import { Badge, ExternalLink, OwnerLabel, PageHeader } from '../../components/ui';
import { formatRelative } from '../../lib/format';
import { RecordFormModal } from '../records/RecordForm';
import { RecordList, type Column } from '../records/RecordList';
import { optionOf, useOptions, useUserMap } from '../records/lookups';

export function CompaniesList() {
  const industries = useOptions('companies', 'industry');
  const sizes = useOptions('companies', 'size');
  const users = useUsers().data ?? [];
  const userMap = useUserMap();
  const [creating, setCreating] = useState(false);
  const navigate = useNavigate();

  const columns: Column[] = [
    {
      key: 'name',
      label: 'Name',
      sort: 'name',
      render: (r) => (
        <Link className="row-link" to={`/companies/${r.id}`}>
          {String(r.name)}
        </Link>
      ),
    },
    { key: 'industry', label: 'Industry', sort: 'industry', render: (r) => <Badge value={r.industry as string} option={optionOf(industries, r.industry)} /> },
    { key: 'size', label: 'Size', sort: 'size', render: (r) => (r.size as string) ?? '—' },
    { key: 'website', label: 'Website', render: (r) => <ExternalLink href={r.website as string | null} />, className: 'hide-sm' },
    { key: 'owner', label: 'Owner', sort: 'owner_id', render: (r) => <OwnerLabel user={userMap.get(String(r.owner_id))} />, className: 'hide-sm' },
    {
      key: 'created',
      label: 'Created',
      sort: 'created_at',
      render: (r) => <time dateTime={r.created_at} title={new Date(r.created_at).toLocaleString()}>{formatRelative(r.created_at)}</time>,
      className: 'hide-sm',
    },
  ];

  return (
    <>
      <PageHeader title="Companies" />
      <RecordList
        entity="companies"
        columns={columns}
        searchPlaceholder="Search name or domain"
        filters={[
          { param: 'industry', label: 'Industry', options: industries },
          { param: 'size', label: 'Size', options: sizes },
          { param: 'owner_id', label: 'Owner', options: users.map((u) => ({ value: u.id, label: u.name })) },
        ]}
        emptyText="No companies yet — add your first company."
        createLabel="New Company"
        onCreate={() => setCreating(true)}
      />
      <RecordFormModal
        entity="companies"
        open={creating}
        onOpenChange={setCreating}
        onSaved={(r) => navigate(`/companies/${r.id}`)}
      />
    </>
  );
}
