// README's configuration table, generated from CONFIG_VARIABLES so the two never drift.

import { CONFIG_VARIABLES, isSecretVariable, secretFileVariable, type ConfigVariable } from './config.js';

function meaning(v: ConfigVariable): string {
  return isSecretVariable(v) ? `${v.description} Also as \`${secretFileVariable(v.name)}\`.` : v.description;
}

export function configTableMarkdown(): string {
  const rows = CONFIG_VARIABLES.map((v) => `| \`${v.name}\` | ${meaning(v).replace(/\|/g, '\\|')} | ${v.default === undefined ? '' : `\`${v.default}\``} |`);
  return ['| variable | meaning | default |', '|---|---|---|', ...rows].join('\n');
}
