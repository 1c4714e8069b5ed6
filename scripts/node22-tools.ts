// Installs the Node.js 22 tools some tests run (test/support/node22.ts) before the test run starts:
// the Node.js 22 binary, the MCP Inspector CLI and the MCP conformance suite, each at its pinned version.

import { CONFORMANCE_VERSION, INSPECTOR_VERSION, NODE22_VERSION, node22Tools } from '../test/support/node22.js';

const tools = await node22Tools();
console.log(`Node.js 22 tools ready: ${tools.node} (Node.js ${NODE22_VERSION}, MCP Inspector ${INSPECTOR_VERSION}, MCP conformance suite ${CONFORMANCE_VERSION})`);
