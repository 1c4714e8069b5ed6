// Which shard of a cluster a command goes to, read from the command itself:
// the key it names, or any node for a keyless one.

// Commands that name no key: any node answers them.
const KEYLESS = new Set([
  'PING', 'ECHO', 'INFO', 'TIME', 'MODULE', 'COMMAND', 'CONFIG', 'CLIENT', 'CLUSTER', 'SCRIPT', 'FUNCTION', 'ACL', 'HELLO',
  'DBSIZE', 'KEYS', 'SCAN', 'RANDOMKEY', 'FLUSHALL', 'FLUSHDB', 'SLOWLOG', 'LASTSAVE', 'MEMORY', 'LATENCY',
  'GRAPH.LIST', 'GRAPH.CONFIG', 'GRAPH.INFO', 'GRAPH.UDF',
]);
// Commands whose every argument is a key; on a cluster they are split into one command per key.
export const EACH_ARG_A_KEY = new Set(['MGET', 'DEL', 'UNLINK', 'EXISTS', 'TOUCH']);
const KEY_AFTER_SUBCOMMAND = new Set(['GRAPH.CONSTRAINT', 'GRAPH.MEMORY', 'OBJECT', 'XINFO']);
const SCRIPT_COMMANDS = new Set(['EVAL', 'EVALSHA', 'EVAL_RO', 'EVALSHA_RO', 'FCALL', 'FCALL_RO']);

/**
 * The key a command is routed by: undefined for a keyless command (any node), the
 * first of KEYS for a script, else the first argument. The server refuses
 * (CROSSSLOT) a command whose other keys hash elsewhere, which is why keys used
 * together carry one hash tag (see state/keys.ts).
 */
export function routingKey(args: readonly string[]): string | undefined {
  const name = (args[0] ?? '').toUpperCase();
  if (KEYLESS.has(name)) return undefined;
  if (SCRIPT_COMMANDS.has(name)) return Number(args[2]) > 0 ? args[3] : undefined;
  // `GRAPH.CONSTRAINT CREATE|DROP key …` and `GRAPH.MEMORY USAGE key`: the key follows a subcommand.
  if (KEY_AFTER_SUBCOMMAND.has(name)) return args[2];
  if (name === 'XREAD' || name === 'XREADGROUP') {
    const at = args.findIndex((a) => a.toUpperCase() === 'STREAMS');
    return at < 0 ? undefined : args[at + 1];
  }
  return args[1];
}


/**
 * SCAN over a whole cluster for callers that page with a cursor: every primary
 * in turn, the cursor `<primary index>-<that primary's cursor>` (plain `0`
 * starts and ends the walk). Undefined for a cursor this did not hand out.
 */
export function parseClusterScanCursor(cursor: string): { primary: number; cursor: string } | undefined {
  const match = /^(?:(\d+)-)?(\d+)$/.exec(cursor);
  return match === null ? undefined : { primary: Number(match[1] ?? 0), cursor: match[2]! };
}

/** The cursor to hand back after `primary` answered `next`, out of `primaries`. */
export function nextClusterScanCursor(primary: number, next: string, primaries: number): string {
  if (next !== '0') return `${primary}-${next}`;
  return primary + 1 >= primaries ? '0' : `${primary + 1}-0`;
}
