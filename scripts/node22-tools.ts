// Installs the Node.js 22 tools some tests run (test/support/node22.ts) before the test run starts.

import { node22Tools } from '../test/support/node22.js';

const tools = await node22Tools();
console.log(`Node.js 22 tools ready: ${tools.node}`);
