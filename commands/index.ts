import type { CommandGroupDef } from '../src/framework/define-command.js';
import audit from './audit.js';
import breaker from './breaker.js';
import cluster from './cluster.js';
import help from './help.js';
import history from './history.js';
import killswitch from './killswitch.js';
import ratelimit from './ratelimit.js';
import role from './role.js';
import status from './status.js';
import whoami from './whoami.js';
import health from './health.js';
import alert from './alert.js';
import silence from './silence.js';
import maintenance from './maintenance.js';
import incident from './incident.js';
import schedule from './schedule.js';
import summary from './summary.js';
import apikey from './apikey.js';
import budget from './budget.js';
import costs from './costs.js';
import deploy from './deploy.js';
import rollback from './rollback.js';
import test from './test.js';
import runbook from './runbook.js';
import runs from './runs.js';
import logs from './logs.js';
import metrics from './metrics.js';

/** Every /infra command group, in the order help lists them. */
export const COMMAND_GROUPS: readonly CommandGroupDef[] = [
  help, whoami, status, killswitch, cluster, ratelimit, breaker, role, audit, history,
  health, alert, silence, maintenance, incident, schedule, summary, apikey, budget, costs,
  deploy, rollback, test, runbook, runs, logs, metrics,
];
