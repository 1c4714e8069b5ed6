// What docs/troubleshooting.md documents, for tests that check the code against it.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './mcp.js';

/** The examples docs/troubleshooting.md gives in the Message line of `code`'s section. */
export function documentedMessages(code: string): string[] {
  const text = readFileSync(path.join(REPO_ROOT, 'docs', 'troubleshooting.md'), 'utf8');
  const section = text.split(new RegExp(`^### \`${code}\` \\(\\d{3}\\)$`, 'm'))[1]?.split(/^###? /m)[0] ?? '';
  const message = /- \*\*Message:\*\*([\s\S]*?)\n- \*\*/.exec(section)?.[1] ?? '';
  return [...message.matchAll(/``(.+?)``|`([^`]+)`/gs)].map((m) => (m[1] ?? m[2]!).replace(/\s*\n\s*/g, ' '));
}
