import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useUsers } from '../../api/records';
import { Badge, OwnerLabel, PageHeader } from '../../components/ui';
import { formatDate, formatMoney } from '../../lib/format';
import { RecordFormModal } from '../records/RecordForm';
import { RecordList, type Column } from '../records/RecordList';
import { useCompanyColumn } from '../records/companyColumn';
import { optionOf, useOptions, useUserMap } from '../records/lookups';

export function DealsList() {
  const stages = useOptions('deals', 'stage');
  const priorities = useOptions('deals', 'priority');
  const users = useUsers().data ?? [];
  const userMap = useUserMap();
  const [creating, setCreating] = useState(false);
  const navigate = useNavigate();
  const companyColumn = useCompanyColumn('deals', ['stage', 'priority', 'owner_id'], 'hide-sm');

  const columns: Column[] = [
    {
      key: 'title',
      label: 'Title',
      sort: 'title',
      render: (r) => (
        <Link className="row-link" to={`/deals/${r.id}`}>
          {String(r.title)}
        </Link>
      ),
    },
    companyColumn,
    { key: 'stage', label: 'Stage', sort: 'stage', render: (r) => String(r.stage) },
    {
      key: 'amount',
      label: 'Amount',
      sort: 'amount',
      className: 'num',
      render: (r) => (r.amount === null ? '—' : formatMoney(r.amount as number, String(r.currency ?? 'USD'))),
    },
    { key: 'close', label: 'Expected close', sort: 'expected_close_date', render: (r) => formatDate(r.expected_close_date as string | null), className: 'hide-sm' },
    { key: 'priority', label: 'Priority', render: (r) => <Badge value={r.priority as string | null} option={optionOf(priorities, r.priority)} />, className: 'hide-sm' },
    { key: 'owner', label: 'Owner', sort: 'owner_id', render: (r) => <OwnerLabel user={userMap.get(String(r.owner_id))} />, className: 'hide-sm' },
  ];
  return (
    <>
      <PageHeader
        title="Deals"
        actions={
          <Link className="btn" to="/deals/pipeline">
            Pipeline view
          </Link>
        }
      />
      <RecordList
        entity="deals"
        columns={columns}
        searchPlaceholder="Search deal titles"
        filters={[
          { param: 'stage', label: 'Stage', options: stages },
          { param: 'priority', label: 'Priority', options: priorities },
          { param: 'owner_id', label: 'Owner', options: users.map((u) => ({ value: u.id, label: u.name })) },
        ]}
        emptyText="No deals yet — create your first deal."
        createLabel="New Deal"
        onCreate={() => setCreating(true)}
      />
      <RecordFormModal entity="deals" open={creating} onOpenChange={setCreating} onSaved={(r) => navigate(`/deals/${r.id}`)} />
    </>
  );
}
