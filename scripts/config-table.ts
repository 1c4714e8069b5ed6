// Rewrites README's configuration table from src/config.ts: `npx tsx scripts/config-table.ts`.

import { readFileSync, writeFileSync } from 'node:fs';
import { configTableMarkdown } from '../src/config-table.js';

const file = new URL('../README.md', import.meta.url);
const readme = readFileSync(file, 'utf8');
const next = readme.replace(/(<!-- config-table:start -->)[\s\S]*?(<!-- config-table:end -->)/, `$1\n${configTableMarkdown()}\n$2`);
writeFileSync(file, next);
