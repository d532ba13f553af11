import { useMemo } from 'react';
import { useUsers } from '../../api/records';
import { field, useEntity } from '../../api/schema';
import type { SelectOption, User } from '../../api/types';

export function useUserMap(): Map<string, User> {
  const users = useUsers().data;
  return useMemo(() => new Map((users ?? []).map((u) => [u.id, u])), [users]);
}

/** A select field's options, from the schema. */
export function useOptions(entity: string, name: string): SelectOption[] {
  return field(useEntity(entity), name)?.options ?? [];
}

export function optionOf(options: SelectOption[], value: unknown): SelectOption | undefined {
  return options.find((o) => o.value === value);
}
