// Preloaded into the benchmark's gateway process (with --expose-gc): on the
// message "collect", runs a full GC and answers with the JS heap in use, so that
// the memory cells read the gateway's RSS and heap after a collection.
// Plain JavaScript: the gateway runs compiled, without tsx.

import process from 'node:process';

process.on('message', (message) => {
  if (message !== 'collect') return;
  globalThis.gc?.();
  process.send?.({ heapUsed: process.memoryUsage().heapUsed });
});
// The channel must not keep the process alive on its own (SIGTERM still ends it cleanly).
process.channel?.unref();
