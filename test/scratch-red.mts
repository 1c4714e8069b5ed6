import { startTestFalkorDB } from './support/falkordb.js';
import { readEmbeddedState } from '../src/falkordb/launcher.js';
import { connectDatabase } from '../src/falkordb/connection.js';
import { createLogger } from '../src/observability/logger.js';
import { readFileSync } from 'node:fs';
const db = await startTestFalkorDB();
const pid = readEmbeddedState(db.dataDir)!.serverPid;
const rss = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const c = await connectDatabase({ url: db.url, connectTimeoutMs: 5000, logger: createLogger('silent') });
for (const [k, v] of [['TIMEOUT_MAX', '10000'], ['TIMEOUT_DEFAULT', '10000'], ['QUERY_MEM_CAPACITY', String(256 * 1024 * 1024)]]) await c.sendCommand(['GRAPH.CONFIG', 'SET', k!, v!]);
for (const q of process.argv.slice(2)) {
  const t = Date.now();
  let r: unknown;
  try { r = await c.sendCommand(['GRAPH.QUERY', 'g', q, 'TIMEOUT', '3000']); } catch (e) { r = String(e); }
  console.log(q, '->', JSON.stringify(r).slice(0, 150), Date.now() - t, 'ms, peak RSS MB', rss().toFixed(0));
}
await c.close(); await db.cleanup();
