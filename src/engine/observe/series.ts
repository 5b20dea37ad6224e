/** A named time series (metric points in ms since the epoch), as read from Prometheus or the probe history. */
export interface Series {
  name: string;
  points: { t: number; v: number }[];
}
