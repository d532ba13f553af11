import { useState } from 'react';
import type { CrmRecord, EntityDef } from '../../api/types';
import { type DuplicateEntity, useDuplicatesOf } from './api';
import { MergeDialog } from './MergeDialog';

/** On a detail page: "Possible duplicates (n)" opening the merge dialog with this record first. */
export function DuplicatesButton({ def, record }: { def: EntityDef; record: CrmRecord }) {
  const live = !record.deleted_at;
  const matches = useDuplicatesOf(def.name as DuplicateEntity, record.id, live);
  const [open, setOpen] = useState(false);
  const found = matches.data?.data ?? [];
  if (!live || found.length === 0) return null;
  return (
    <>
      <button className="btn" onClick={() => setOpen(true)}>
        Possible duplicates ({found.length})
      </button>
      {open && <MergeDialog def={def} records={[record, ...found.map((m) => m.record)]} open={open} onOpenChange={setOpen} />}
    </>
  );
}
