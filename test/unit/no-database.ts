// Preloaded by `npm run test:unit` (node --import): the fast tier runs without
// a database, so in each test file's process every outgoing connection (TCP or
// unix socket) and every child process but a `--version` probe fails loudly,
// and test/support/falkordb.ts refuses to load. A test that needs more belongs in test/.

import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

/** Set to `unit` in the fast tier's processes; test/support/falkordb.ts reads it. */
export const TEST_TIER_VARIABLE = 'GATEWAY_TEST_TIER';

export class UnitTierViolation extends Error {
  override readonly name = 'UnitTierViolation';
}

function violation(what: string): UnitTierViolation {
  return new UnitTierViolation(`${what}: the unit tier (npm run test:unit) runs without a database, network or servers. Move this test to test/, where npm test starts a real FalkorDB.`);
}

let installed = false;

/** Makes this process refuse connections and child processes (a `--version` probe excepted). */
export function refuseDatabaseAccess(): void {
  if (installed) return;
  installed = true;
  net.Socket.prototype.connect = function connect(): never {
    throw violation('A unit test opened a connection');
  } as typeof net.Socket.prototype.connect;
  const refuse = (name: string) => (): never => {
    throw violation(`A unit test started a process (child_process.${name})`);
  };
  const processes = childProcess as unknown as Record<string, unknown>;
  for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFileSync', 'fork']) processes[name] = refuse(name);
  const execFile = childProcess.execFile;
  // server-binary.test.ts probes stand-in binaries with `--version`; nothing else runs.
  processes.execFile = (file: string, args: unknown, ...rest: unknown[]) => {
    if (!(Array.isArray(args) && args.length === 1 && args[0] === '--version')) refuse('execFile')();
    return (execFile as (...a: unknown[]) => unknown)(file, args, ...rest);
  };
  syncBuiltinESMExports();
}

process.env[TEST_TIER_VARIABLE] = 'unit';
// The runner's own process starts the test files' processes; the guard applies in those.
if (process.env.NODE_TEST_CONTEXT !== undefined) refuseDatabaseAccess();
