import { useQuery } from '@tanstack/react-query';
import { api } from './client';
import type { EntityDef, FieldDef, Schema } from './types';

export function useSchema() {
  return useQuery({
    queryKey: ['schema'],
    queryFn: () => api<Schema>('/api/v1/schema'),
    staleTime: Infinity,
  });
}

/** One entity's metadata; undefined while the schema loads. */
export function useEntity(name: string): EntityDef | undefined {
  return useSchema().data?.entities[name];
}

export function field(entity: EntityDef | undefined, name: string): FieldDef | undefined {
  return entity?.fields.find((f) => f.name === name);
}

/** Fields a user fills in on a form: writable ones, in schema order. */
export function formFields(entity: EntityDef): FieldDef[] {
  return entity.fields.filter((f) => f.access === 'writable');
}
