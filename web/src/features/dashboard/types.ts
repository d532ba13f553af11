export interface CountAmount {
  count: number;
  amount: number;
}

/** `GET /api/v1/dashboard` */
export interface DashboardData {
  today: string;
  won_this_month: CountAmount;
  won_last_month: CountAmount;
  closing_next_7_days: CountAmount;
  closing_next_30_days: CountAmount;
  conversion: { won: number; lost: number; rate: number | null };
  revenue_by_month: ({ month: string } & CountAmount)[];
  open_by_stage: ({ stage: string; weighted_amount: number } & CountAmount)[];
  top_companies: ({ company_id: string; name: string | null } & CountAmount)[];
  _redacted_from_sums?: string[];
}
