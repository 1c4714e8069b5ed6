// README's configuration table, generated from CONFIG_VARIABLES so the two never drift.

import { CONFIG_VARIABLES } from './config.js';

export function configTableMarkdown(): string {
  const rows = CONFIG_VARIABLES.map((v) => `| \`${v.name}\` | ${v.description.replace(/\|/g, '\\|')} | ${v.default === undefined ? '' : `\`${v.default}\``} |`);
  return ['| variable | meaning | default |', '|---|---|---|', ...rows].join('\n');
}
