import { useMemo, useState } from 'react';
import { useNavigate } from 'react-router';
import { errorMessage } from '../../api/client';
import { formFields } from '../../api/schema';
import type { CrmRecord, EntityDef } from '../../api/types';
import { Modal } from '../../components/Modal';
import { useToast } from '../../components/toast';
import { FieldValue } from '../records/FieldValue';
import { type DuplicateEntity, useMerge, useUndoMerge } from './api';

function label(def: EntityDef, r: CrmRecord): string {
  const name = def.name === 'companies' ? r.name : r.full_name || r.email;
  return String(name || r.id);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** Merge two or more records: pick the survivor and, for every field where they differ,
 *  the record whose value is kept. Related records move to the survivor on the server. */
export function MergeDialog({
  def,
  records,
  open,
  onOpenChange,
}: {
  def: EntityDef;
  records: CrmRecord[];
  open: boolean;
  onOpenChange: (open: boolean) => void;
}) {
  const entity = def.name as DuplicateEntity;
  const [survivor, setSurvivor] = useState(records[0]?.id ?? '');
  const [choices, setChoices] = useState<Record<string, string>>({});
  const merge = useMerge(entity);
  const undo = useUndoMerge();
  const toast = useToast();
  const navigate = useNavigate();
  const differing = useMemo(
    () => formFields(def).filter((f) => records.some((r) => !same(r[f.name], records[0]?.[f.name]))),
    [def, records],
  );
  const chosen = (field: string) => choices[field] ?? survivor;

  const submit = () => {
    const fields: Record<string, string> = {};
    for (const f of differing) fields[f.name] = chosen(f.name);
    const others = records.map((r) => r.id).filter((id) => id !== survivor);
    merge.mutate(
      { survivor, others, fields },
      {
        onSuccess: (res) => {
          onOpenChange(false);
          toast.show(`Merged ${others.length + 1} ${def.label.toLowerCase()}`, 'success', {
            label: 'Undo',
            run: async () => {
              await undo.mutateAsync(res.merge.id);
              toast.show('Merge undone', 'info');
            },
          });
          navigate(`/${entity}/${survivor}`);
        },
      },
    );
  };

  return (
    <Modal open={open} onOpenChange={onOpenChange} title={`Merge ${def.label.toLowerCase()}`} wide>
      <div className="modal-body merge-dialog">
        <table className="table merge-table">
          <thead>
            <tr>
              <th scope="col">Field</th>
              {records.map((r) => (
                <th scope="col" key={r.id}>
                  <label>
                    <input
                      type="radio"
                      name="survivor"
                      checked={survivor === r.id}
                      onChange={() => setSurvivor(r.id)}
                      aria-label={`Keep ${label(def, r)}`}
                    />{' '}
                    Keep {label(def, r)}
                  </label>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {differing.map((f) => (
              <tr key={f.name}>
                <th scope="row">{f.label}</th>
                {records.map((r) => (
                  <td key={r.id}>
                    <label>
                      <input
                        type="radio"
                        name={`field-${f.name}`}
                        checked={chosen(f.name) === r.id}
                        onChange={() => setChoices((c) => ({ ...c, [f.name]: r.id }))}
                        aria-label={`${f.label} from ${label(def, r)}`}
                      />{' '}
                      {r[f.name] === null || r[f.name] === undefined ? <span className="muted">—</span> : <FieldValue field={f} record={r} />}
                    </label>
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        {differing.length === 0 && <p className="muted">These records hold the same values.</p>}
        <p className="muted small">
          Deals, activities{def.name === 'companies' ? ', contacts' : ''} and shares of the others move to the record you
          keep; the others go to the trash. You can undo this for 30 days.
        </p>
        {merge.isError && (
          <p className="error" role="alert">
            {errorMessage(merge.error)}
          </p>
        )}
        <div className="form-actions">
          <button className="btn" onClick={() => onOpenChange(false)}>
            Cancel
          </button>
          <button className="btn btn-primary" onClick={submit} disabled={merge.isPending || records.length < 2}>
            {merge.isPending ? 'Merging…' : `Merge ${records.length} records`}
          </button>
        </div>
      </div>
    </Modal>
  );
}
