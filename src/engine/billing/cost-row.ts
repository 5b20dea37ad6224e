/** Spend of one day, cluster, team, action and currency (what the cost store sums up for reports). */
export interface CostRow {
  cluster: string;
  team: string | null;
  action: string;
  currency: string;
  day: string;
  amount: number;
  count: number;
}
