import { Link } from 'react-router';
import { useRecordsById } from '../../api/records';
import type { CrmRecord, EntityDef, FieldDef } from '../../api/types';
import { Badge, ExternalLink, OwnerLabel } from '../../components/ui';
import { formatDate, formatDateTime, formatMoney } from '../../lib/format';
import { useUserMap } from './lookups';
import { recordTitle } from './ReferenceInput';

/** Any field's value, formatted by its type. */
export function FieldValue({ field, record }: { field: FieldDef; record: CrmRecord }) {
  const value = record[field.name];
  const users = useUserMap();
  const refEntity = field.type === 'reference' && field.reference !== 'users' ? (field.reference ?? '') : '';
  const ref = useRecordsById(refEntity || 'companies', refEntity ? [value as string | null] : []);
  if (record._redacted?.includes(field.name)) return <span className="muted" title="Hidden by your role">Hidden</span>;
  if (value === null || value === undefined || value === '') return <span className="muted">—</span>;
  switch (field.type) {
    case 'money':
      return <>{formatMoney(value as number, String(record.currency ?? 'USD'))}</>;
    case 'percent':
      return <>{String(value)}%</>;
    case 'date':
      return <>{formatDate(String(value))}</>;
    case 'timestamp':
      return <>{formatDateTime(String(value))}</>;
    case 'boolean':
      return <>{value ? 'Yes' : 'No'}</>;
    case 'select':
      return <Badge value={String(value)} option={field.options?.find((o) => o.value === value)} />;
    case 'url':
      return <ExternalLink href={String(value)} />;
    case 'email':
      return <a href={`mailto:${String(value)}`}>{String(value)}</a>;
    case 'phone':
      return <a href={`tel:${String(value)}`}>{String(value)}</a>;
    case 'reference': {
      if (field.reference === 'users') return <OwnerLabel user={users.get(String(value))} />;
      const target = ref.get(String(value));
      return <Link to={`/${refEntity}/${String(value)}`}>{target ? recordTitle(refEntity, target) : '…'}</Link>;
    }
    case 'long_text':
      return <span className="pre">{String(value)}</span>;
    case 'multi_select':
      return (
        <>
          {(Array.isArray(value) ? value : []).map((v) => (
            <Badge key={String(v)} value={String(v)} option={field.options?.find((o) => o.value === v)} />
          ))}
        </>
      );
    case 'integer':
      if (field.kind === 'rating') return <span aria-label={`${String(value)} of 5`}>{'★'.repeat(Number(value))}</span>;
      return <>{String(value)}</>;
    default:
      return <>{String(value)}</>;
  }
}

export function DetailsCard({
  def,
  record,
  fields,
  onEdit,
  extra,
}: {
  def: EntityDef;
  record: CrmRecord;
  fields: string[];
  onEdit?: () => void;
  extra?: { label: string; value: React.ReactNode }[];
}) {
  return (
    <section className="card details-card" aria-label="Details">
      <div className="card-head">
        <h2>Details</h2>
        {onEdit && (
          <button className="btn btn-small" onClick={onEdit}>
            Edit
          </button>
        )}
      </div>
      <dl className="details">
        {extra?.map((e) => (
          <div key={e.label}>
            <dt>{e.label}</dt>
            <dd>{e.value}</dd>
          </div>
        ))}
        {[...fields, ...def.fields.filter((f) => f.custom && !fields.includes(f.name)).map((f) => f.name)].map((name) => {
          const f = def.fields.find((x) => x.name === name);
          if (!f) return null;
          return (
            <div key={name}>
              <dt>{f.label}</dt>
              <dd>
                <FieldValue field={f} record={record} />
              </dd>
            </div>
          );
        })}
      </dl>
    </section>
  );
}
