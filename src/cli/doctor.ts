// `doctor`: compares this command's environment with every running gateway that
// announces itself in the same database, and says what differs and which
// variable to set. Exit 0 when everything matches, 1 otherwise.

import type { Command } from 'commander';
import { liveGateways, type GatewayPresence, type NewGatewayPresence } from '../auth/gateways.js';
import { withCliContext } from './context.js';
import { describeGateway, differences, environmentFacts, type Difference } from './gateway-match.js';
import { isoSeconds, printJson, printLines } from './output.js';
import { EXIT, runCommand } from './run.js';

function environmentLines(here: NewGatewayPresence): string[] {
  return [
    'This environment:',
    `  database:       ${here.database}`,
    `  signs with:     ${here.signingKid === undefined ? 'no key' : `kid ${here.signingKid}${here.devMode ? ' (dev key)' : ''}`}`,
    `  issuer:         ${here.issuer}`,
    `  audience:       ${here.audience}`,
    `  tenant claim:   ${here.tenantClaim}`,
  ];
}

function gatewayLines(gateway: GatewayPresence, found: readonly Difference[]): string[] {
  const head = `Gateway at ${gateway.url} (pid ${gateway.pid} on ${gateway.host}, version ${gateway.version}, started ${isoSeconds(Math.floor(gateway.startedAt / 1000))}; database ${gateway.database}):`;
  if (found.length === 0) return [head, '  matches: tokens issued here are accepted, and `token inspect` here judges as it does.'];
  return [
    head,
    ...found.map((d) => `  differs: ${d.what}: here ${d.here}; gateway ${d.gateway}; set ${d.variable}${d.refusesTokens ? ' (it refuses tokens signed here)' : ''}`),
  ];
}

async function doctor(options: { json?: boolean }): Promise<void> {
  await withCliContext(process.env, async (ctx) => {
    const here = await environmentFacts(ctx);
    const gateways = (await liveGateways(ctx.state.store)).map((gateway) => ({ gateway, differences: differences(here, gateway) }));
    const matches = gateways.length > 0 && gateways.every((g) => g.differences.length === 0);
    if (!matches) process.exitCode = EXIT.failure;
    if (options.json) return printJson({ matches, environment: here, gateways });
    const lines = environmentLines(here);
    if (gateways.length === 0) {
      lines.push(
        '',
        `No running gateway announces itself in this database (${here.database}): none is running, or it uses another database. Set FALKORDB_URL (or FALKORDB_DATA_DIR) as the gateway has it.`,
      );
    }
    for (const { gateway, differences: found } of gateways) lines.push('', ...gatewayLines(gateway, found));
    if (gateways.length > 0) {
      const count = gateways.reduce((n, g) => n + g.differences.length, 0);
      lines.push('', matches ? `Everything matches ${gateways.length} running gateway(s).` : `${count} difference(s) with ${gateways.filter((g) => g.differences.length > 0).map((g) => describeGateway(g.gateway)).join(', ')}.`);
    }
    printLines(...lines);
  });
}

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description(
      "Compare this environment with every running gateway in the same database (each instance announces, while it runs, the key it signs with, the keys it verifies, its issuer, audience, tenant claim and registration rule): says what differs and which variable to set. Exit 0 when all match; 1 when something differs or no running gateway is found in this database (FALKORDB_URL or FALKORDB_DATA_DIR differ, or none runs).",
    )
    .option('--json', 'print {matches, environment, gateways: [{gateway, differences}]}')
    .action((options: { json?: boolean }) => runCommand(() => doctor(options)));
}
