#!/usr/bin/env node
// The `falkordb-mcp-gateway` command: parses arguments and calls one command module.

import { Command } from 'commander';
import { PRODUCT_ID } from '../product.js';
import { GATEWAY_VERSION } from '../version.js';
import { registerAuditCommand } from './audit.js';
import { registerClientConfigCommand } from './client-config.js';
import { registerDeviceCommands } from './device.js';
import { registerDoctorCommand } from './doctor.js';
import { registerKeysCommand } from './keys.js';
import { EXIT, runCommand } from './run.js';
import { serve } from './serve.js';
import { stdio } from './stdio.js';
import { registerTenantCommands } from './tenant.js';
import { registerTokenCommands } from './token.js';

const program = new Command()
  .name(PRODUCT_ID)
  .description('One MCP gateway for many clients and devices in front of one FalkorDB, each client confined to its tenant\'s graphs.\nConfigured by environment variables; see README.md, "Configuration".')
  .version(GATEWAY_VERSION)
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage);
  })
  .showHelpAfterError('(run with --help for usage)');

program
  .command('serve')
  .description('Run the gateway (HTTP on HOST:PORT, MCP on /mcp and /sse). With no FALKORDB_URL, starts an embedded FalkorDB; with no AUTH_* variable, runs in dev mode and prints a demo token and client configs.')
  .action(() => runCommand(() => serve(process.env)));

program
  .command('stdio')
  .description('Serve the same MCP tools over stdio for one local tenant (no token needed: whoever can start the process is that tenant).')
  .requiredOption('--tenant <id>', 'the tenant whose graphs the tools use')
  .option('--scope <scopes>', 'space-separated scopes: read, write, admin', 'read write')
  .action((options: { tenant: string; scope: string }) => runCommand(() => stdio(process.env, options)));

registerTokenCommands(program);
registerDeviceCommands(program);
registerClientConfigCommand(program);
registerTenantCommands(program);

registerAuditCommand(program);

registerKeysCommand(program);

registerDoctorCommand(program);

await program.parseAsync(process.argv);
