// Shapes of the API's JSON, as `GET /api/v1/schema` and the record endpoints return them.

export type FieldType =
  | 'id'
  | 'text'
  | 'long_text'
  | 'email'
  | 'phone'
  | 'url'
  | 'select'
  | 'integer'
  | 'money'
  | 'currency'
  | 'percent'
  | 'boolean'
  | 'date'
  | 'timestamp'
  | 'reference'
  | 'decimal'
  | 'multi_select';

export interface SelectOption {
  value: string;
  label: string;
  probability?: number;
  closed?: 'won' | 'lost';
  color?: string;
  /** Kept on records that hold it, not offered for new values. */
  retired?: boolean;
}

export interface FieldDef {
  name: string;
  label: string;
  type: FieldType;
  required: boolean;
  access: 'writable' | 'system' | 'derived';
  max_length?: number;
  min?: number;
  max?: number;
  options?: SelectOption[];
  reference?: string;
  unique: boolean;
  sortable: boolean;
  searchable: boolean;
  help?: string;
  /** Defined by an admin (Settings → Fields); its name starts with `cf_`. */
  custom?: boolean;
  /** A custom field's admin-facing type (`rating`, `currency`, `number`, …). */
  kind?: string;
  default?: unknown;
  read_roles?: string[];
  write_roles?: string[];
}

export interface EntityDef {
  name: string;
  singular: string;
  label: string;
  owned: boolean;
  default_sort: string;
  fields: FieldDef[];
}

export interface Schema {
  entities: Record<string, EntityDef>;
}

export type Json = string | number | boolean | null;

export interface CrmRecord {
  id: string;
  created_at: string;
  updated_at: string;
  version: number;
  deleted_at?: string | null;
  owner_id?: string | null;
  _redacted?: string[];
  [field: string]: Json | string[] | undefined;
}

export interface Page<T = CrmRecord> {
  data: T[];
  next_cursor: string | null;
  total?: number;
}

export interface User extends CrmRecord {
  email: string;
  name: string;
  role: string;
  team_id: string | null;
  is_active: boolean;
}

export interface AggregateGroup {
  key: Json;
  count: number;
  sum: Record<string, number>;
  weighted_amount?: number;
}

export interface Aggregate {
  total: Omit<AggregateGroup, 'key'>;
  groups?: AggregateGroup[];
  _redacted_from_sums?: string[];
}
