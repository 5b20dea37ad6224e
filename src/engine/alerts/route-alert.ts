import type { AlertsConfig, ChannelMap } from '../../config/health-config-schema.js';
import type { AlertSeverity, Target } from '../../store/health-store.js';

export function channelTargets(map: ChannelMap): Target[] {
  return Object.entries(map)
    .filter((e): e is [string, string] => typeof e[1] === 'string' && e[1].length > 0)
    .map(([platform, channel]) => ({ platform, channel }));
}

/** Every route matching the cluster and severity receives the alert; with none, the default channels. */
export function routeAlert(config: AlertsConfig, cluster: string, severity: AlertSeverity): Target[] {
  const matched = config.routes.filter(
    (r) => (!r.clusters || r.clusters.includes(cluster)) && (!r.severities || r.severities.includes(severity)),
  );
  const all = (matched.length ? matched.map((r) => r.channels) : [config.defaultChannels]).flatMap(channelTargets);
  const seen = new Set<string>();
  return all.filter((t) => {
    const k = `${t.platform}|${t.channel}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export const targetsKey = (ts: readonly Target[]) =>
  ts.map((t) => `${t.platform}|${t.channel}`).sort().join(',');
