import { Link, useSearchParams } from 'react-router';
import { useList, useRecordsById } from '../../api/records';
import { listQuery, readListState } from '../../lib/listState';
import type { Column } from './RecordList';

/**
 * The "Company" column of a contacts or deals list. The names for the rows on screen come
 * in one batched request; the page itself is RecordList's query, shared through the cache
 * (same entity, URL state and filter keys).
 */
export function useCompanyColumn(entity: string, filterKeys: string[], className?: string): Column {
  const [params] = useSearchParams();
  const page = useList(entity, listQuery(readListState(params, '-updated_at', filterKeys), 25));
  const companies = useRecordsById('companies', (page.data?.data ?? []).map((r) => r.company_id as string | null));
  return {
    key: 'company',
    label: 'Company',
    sort: 'company_id',
    className,
    render: (r) => {
      const c = companies.get(String(r.company_id));
      return c ? <Link to={`/companies/${c.id}`}>{String(c.name)}</Link> : <span className="muted">—</span>;
    },
  };
}
