import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { ApiError, api, errorMessage } from '../../api/client';
import { useDeleteRecord, useRestoreRecord } from '../../api/records';
import type { CrmRecord, EntityDef } from '../../api/types';
import { Confirm } from '../../components/Modal';
import { useToast } from '../../components/toast';
import { capitalize, formatRelative } from '../../lib/format';

/** Delete to the trash (with Undo), asking before taking a company's deals along. */
export function DeleteButton({ def, record, listPath }: { def: EntityDef; record: CrmRecord; listPath: string }) {
  const remove = useDeleteRecord(def.name);
  const qc = useQueryClient();
  const toast = useToast();
  const navigate = useNavigate();
  const [confirm, setConfirm] = useState<null | { cascade: boolean; deals?: number }>(null);

  const run = (cascade: boolean) =>
    remove.mutate(
      { id: record.id, cascade },
      {
        onSuccess: () => {
          setConfirm(null);
          // The Undo outlives this page (it is unmounted by then), so it calls the API
          // itself rather than through this component's mutation.
          toast.show(`${capitalize(def.singular)} moved to the trash`, 'success', {
            label: 'Undo',
            run: async () => {
              try {
                await api(`/api/v1/${def.name}/${record.id}/restore`, { method: 'POST', body: {} });
                await qc.invalidateQueries({ queryKey: ['records'] });
                toast.show(`${capitalize(def.singular)} restored`);
                navigate(`${listPath}/${record.id}`);
              } catch (e) {
                toast.show(errorMessage(e), 'error');
              }
            },
          });
          navigate(listPath);
        },
        onError: (e) => {
          if (e instanceof ApiError && e.code === 'has_deals') {
            setConfirm({ cascade: true, deals: Number(e.body.deal_count ?? 0) });
          } else {
            setConfirm(null);
            toast.show(errorMessage(e), 'error');
          }
        },
      },
    );

  return (
    <>
      <button className="btn btn-danger-outline" onClick={() => setConfirm({ cascade: false })}>
        Delete
      </button>
      <Confirm
        open={confirm !== null}
        onOpenChange={(o) => !o && setConfirm(null)}
        title={`Delete this ${def.singular}?`}
        body={
          confirm?.cascade
            ? `It has ${confirm.deals ?? 'some'} deal(s). They will go to the trash with it, and come back if you restore it.`
            : 'It goes to the trash and can be restored.'
        }
        confirmLabel={confirm?.cascade ? 'Delete with its deals' : 'Delete'}
        danger
        busy={remove.isPending}
        onConfirm={() => run(Boolean(confirm?.cascade))}
      />
    </>
  );
}

/** Shown on a record that is in the trash. */
export function TrashBanner({ def, record }: { def: EntityDef; record: CrmRecord }) {
  const restore = useRestoreRecord(def.name);
  const toast = useToast();
  if (!record.deleted_at) return null;
  return (
    <div className="banner banner-warn" role="status">
      This {def.singular} was deleted {formatRelative(record.deleted_at)}.
      <button
        className="btn"
        disabled={restore.isPending}
        onClick={() =>
          restore.mutate(record.id, {
            onSuccess: () => toast.show(`${capitalize(def.singular)} restored`),
            onError: (e) => toast.show(errorMessage(e), 'error'),
          })
        }
      >
        Restore
      </button>
    </div>
  );
}
