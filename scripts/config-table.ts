// Rewrites README's configuration table and docs/configuration.md from
// src/config/variables.ts: `npx tsx scripts/config-table.ts`.

import { readFileSync, writeFileSync } from 'node:fs';
import { configTableMarkdown, configurationDocMarkdown } from './config-table-markdown.js';

const readmeFile = new URL('../README.md', import.meta.url);
const readme = readFileSync(readmeFile, 'utf8');
const markers = /(<!-- config-table:start -->)[\s\S]*?(<!-- config-table:end -->)/;
if (!markers.test(readme)) throw new Error('README.md has no <!-- config-table:start --> … <!-- config-table:end --> markers to write the table between.');
writeFileSync(readmeFile, readme.replace(markers, `$1\n${configTableMarkdown()}\n$2`));

writeFileSync(new URL('../docs/configuration.md', import.meta.url), configurationDocMarkdown());
