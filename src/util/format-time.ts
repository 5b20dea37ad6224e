/**
 * A stored time as replies show it: to the second, with the zone spelled out ("2026-11-21 03:04:05 UTC"),
 * so two entries a few seconds apart in a timeline are told apart and nobody guesses the zone.
 */
export function formatTime(iso: string | undefined): string {
  return iso ? `${iso.slice(0, 19).replace('T', ' ')} UTC` : '-';
}
