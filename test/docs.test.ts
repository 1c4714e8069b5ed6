// The documentation in step with the code: every error code explained with its
// status, the configuration page generated, and the commands, options, links and
// environment variables written in README.md and docs/*.md all real.

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isTargetVariable } from '../src/config/targets.js';
import { CONFIG_VARIABLES, isSecretVariable, secretFileVariable } from '../src/config/index.js';
import { CONFIG_GROUPS, OTHER_GROUP_TITLE, configurationDocMarkdown, groupedConfigVariables } from '../scripts/config-table-markdown.js';
import { ERROR_CODES, type ErrorCode } from '../src/errors.js';
import { runCli } from './support/cli.js';
import { documentedCodes, TROUBLESHOOTING_CODES_A, TROUBLESHOOTING_CODES_B, TROUBLESHOOTING_CODES_C } from './support/docs.js';
import { CLI_ENTRY, REPO_ROOT } from './support/mcp.js';

interface Doc {
  /** Relative to the repository, e.g. `docs/security.md`. */
  name: string;
  text: string;
}

function readDoc(name: string): Doc {
  return { name, text: readFileSync(path.join(REPO_ROOT, name), 'utf8') };
}

/** README.md and every docs/*.md, read when called so pages added meanwhile count too. */
function allDocs(): Doc[] {
  const pages = readdirSync(path.join(REPO_ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...pages].map(readDoc);
}

const FENCE = /^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm;

/** The contents of fenced code blocks, one string per block. */
function fencedBlocks(text: string): string[] {
  return [...text.matchAll(FENCE)].map((m) => m[0].split('\n').slice(1, -1).join('\n'));
}

/** The text outside fenced code blocks. */
function prose(text: string): string {
  return text.replace(FENCE, '');
}

/**
 * Inline code spans of prose, line breaks inside a span read as spaces (a span
 * may wrap, but not across a blank line); ``double`` spans first, so a backtick
 * inside one does not split it.
 */
function inlineCode(text: string): string[] {
  const spans: string[] = [];
  const rest = prose(text).replace(/``((?:[^`\n]|\n(?![ \t]*\n))+?)``/g, (_, inner: string) => {
    spans.push(inner.replace(/\s+/g, ' ').trim());
    return ' ';
  });
  for (const m of rest.matchAll(/`((?:[^`\n]|\n(?![ \t]*\n))+)`/g)) spans.push(m[1]!.replace(/\s+/g, ' '));
  return spans;
}

/** Shell lines of fenced blocks, `\`-continued lines joined and `# comments` dropped. */
function codeLines(text: string): string[] {
  return fencedBlocks(text).flatMap((block) =>
    block
      .replace(/\\\n/g, ' ')
      .split('\n')
      .map((line) => line.replace(/(^|\s)#\s.*$/, '')),
  );
}

// ---------------------------------------------------------------------------

describe('docs/troubleshooting.md', () => {
  const text = readDoc('docs/troubleshooting.md').text;
  const codes = Object.keys(ERROR_CODES) as ErrorCode[];

  it('explains every error code under a heading that gives its HTTP status', () => {
    for (const code of codes) {
      const heading = new RegExp(`^#{2,4} \`${code}\` \\((\\d{3})\\)[ \\t]*$`, 'm').exec(text);
      assert.ok(heading, `no "### \`${code}\` (${ERROR_CODES[code]})" heading`);
      assert.equal(Number(heading[1]), ERROR_CODES[code], `${code} is ${ERROR_CODES[code]} in src/errors.ts`);
    }
  });

  it('lists every error code in its index table with its HTTP status', () => {
    for (const code of codes) {
      const row = new RegExp(`^\\| \`${code}\` \\| (\\d{3}) \\|`, 'm').exec(text);
      assert.ok(row, `no "| \`${code}\` | ${ERROR_CODES[code]} |" row`);
      assert.equal(Number(row[1]), ERROR_CODES[code], `${code} is ${ERROR_CODES[code]} in src/errors.ts`);
    }
  });

  it('has every documented code produced by exactly one of the troubleshooting message tests', () => {
    const both = [...TROUBLESHOOTING_CODES_A, ...TROUBLESHOOTING_CODES_B, ...TROUBLESHOOTING_CODES_C];
    assert.equal(new Set(both).size, both.length, 'a code is in both lists');
    assert.deepEqual([...both].sort(), [...documentedCodes()].sort());
  });

  it('explains no error code the gateway does not have', () => {
    const named = [...text.matchAll(/^#{2,4} `([A-Z_]+)` \(\d{3}\)/gm), ...text.matchAll(/^\| `([A-Z_]+)` \| \d{3} \|/gm)].map((m) => m[1]!);
    assert.deepEqual(named.filter((code) => !Object.hasOwn(ERROR_CODES, code)), []);
  });
});

// ---------------------------------------------------------------------------

describe('docs/configuration.md', () => {
  it('is exactly what scripts/config-table.ts generates from CONFIG_VARIABLES', () => {
    const text = readDoc('docs/configuration.md').text;
    assert.ok(text === configurationDocMarkdown(), 'docs/configuration.md differs: run `npx tsx scripts/config-table.ts`');
  });

  it('places every variable in a named group, and groups only real variables, each once', () => {
    const other = groupedConfigVariables().find((g) => g.title === OTHER_GROUP_TITLE);
    assert.equal(other, undefined, `add ${other?.variables.map((v) => v.name).join(', ')} to a group in CONFIG_GROUPS (scripts/config-table-markdown.ts)`);
    const grouped = CONFIG_GROUPS.flatMap((g) => g.names);
    const real = new Set<string>(CONFIG_VARIABLES.map((v) => v.name));
    assert.deepEqual(grouped.filter((name) => !real.has(name)), [], 'CONFIG_GROUPS names variables that do not exist');
    assert.deepEqual(grouped.filter((name, i) => grouped.indexOf(name) !== i), [], 'CONFIG_GROUPS names a variable twice');
  });
});

// ---------------------------------------------------------------------------

/** One `falkordb-mcp-gateway <command> [<subcommand>] [--options]` written in a doc. */
interface CommandMention {
  doc: string;
  text: string;
  command: string;
  subcommand: string | undefined;
  options: string[];
}

const ENTRY = /(?:^|[\s(])(?:falkordb-mcp-gateway|src\/cli\/index\.ts)[ \t]+([^\n]*)/g;

/** What follows each mention of the command, up to the end of the shell command it is part of. */
function commandMentions(doc: Doc): CommandMention[] {
  const mentions: CommandMention[] = [];
  for (const snippet of [...inlineCode(doc.text), ...codeLines(doc.text)]) {
    for (const m of snippet.matchAll(ENTRY)) {
      const rest = m[1]!.split(/(?<!\\)\||;|&&|\)|`/)[0]!.trim();
      const words = rest.split(/\s+/);
      const command = words[0] ?? '';
      if (!/^[a-z][a-z-]*$/.test(command)) continue;
      const subcommand = /^[a-z][a-z-]*/.exec(words[1] ?? '')?.[0];
      const options = [...rest.matchAll(/(?:^|[\s[(])(--[a-z][a-z0-9-]*)/g)].map((o) => o[1]!);
      mentions.push({ doc: doc.name, text: `falkordb-mcp-gateway ${rest}`, command, subcommand, options });
    }
  }
  return mentions;
}

/** A command of the CLI as commander holds it: its name, long options and subcommands. */
interface CommandNode {
  name: string;
  options: string[];
  commands: CommandNode[];
}

// Loads the CLI entry with commander's parse methods replaced by one that prints the
// program tree, so one process yields every command, subcommand and option exactly.
const DUMP_PROGRAM = `
import { Command } from 'commander';
const tree = (c) => ({ name: c.name(), options: c.options.map((o) => o.long).filter(Boolean), commands: c.commands.map(tree) });
const dump = function () { process.stdout.write(JSON.stringify(tree(this))); return this; };
Command.prototype.parse = dump;
Command.prototype.parseAsync = async function () { return dump.call(this); };
await import(process.argv[1]);
`;

function programTree(): Promise<CommandNode> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', DUMP_PROGRAM, pathToFileURL(CLI_ENTRY).href], { cwd: REPO_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve(JSON.parse(stdout) as CommandNode);
      } catch {
        reject(new Error(`the CLI entry printed no program tree (exit ${code}); does it still build a commander program and call parse()? ${stderr}`));
      }
    });
  });
}

/** The names commander lists under "Commands:" in a help text. */
function helpCommands(help: string): string[] {
  const lines = help.split('\n');
  const names: string[] = [];
  for (const line of lines.slice(lines.indexOf('Commands:') + 1)) {
    if (!line.startsWith(' ')) break;
    const entry = /^ {2}([a-z][a-z-]*)/.exec(line);
    if (entry && entry[1] !== 'help') names.push(entry[1]!);
  }
  return names;
}

describe('commands written in README.md and docs/*.md', { timeout: 120_000 }, () => {
  const mentions = allDocs().flatMap(commandMentions);
  let program: CommandNode = { name: '', options: [], commands: [] };
  const find = (node: CommandNode | undefined, name: string | undefined) => node?.commands.find((c) => c.name === name);

  before(async () => {
    const [tree, help] = await Promise.all([programTree(), runCli(['--help'], {})]);
    program = tree;
    // The tree read from inside the process is the one users meet: the same commands as --help lists.
    assert.equal(help.code, 0, help.stderr);
    assert.deepEqual(program.commands.map((c) => c.name).sort(), helpCommands(help.stdout).sort(), 'the program tree and --help disagree');
  });

  it('are found in the docs at all', () => {
    assert.ok(mentions.length > 20, `only ${mentions.length} commands found; has the way they are written changed?`);
  });

  it('name only commands and subcommands the CLI has', () => {
    const wrong = new Set<string>();
    for (const m of mentions) {
      const command = find(program, m.command);
      if (command === undefined) {
        wrong.add(`${m.doc}: "${m.text}": no command "${m.command}" (commands: ${program.commands.map((c) => c.name).join(', ')})`);
      } else if (command.commands.length > 0 && m.subcommand !== undefined && find(command, m.subcommand) === undefined) {
        wrong.add(`${m.doc}: "${m.text}": "${m.command}" has no subcommand "${m.subcommand}" (it has: ${command.commands.map((c) => c.name).join(', ')})`);
      }
    }
    assert.deepEqual([...wrong], []);
  });

  it('give only options those commands take', () => {
    const wrong = new Set<string>();
    for (const m of mentions) {
      const command = find(program, m.command);
      const leaf = command !== undefined && command.commands.length > 0 ? find(command, m.subcommand) : command;
      if (leaf === undefined || leaf.commands.length > 0) continue;
      for (const option of m.options) {
        if (option !== '--help' && !leaf.options.includes(option)) {
          wrong.add(`${m.doc}: "${m.text}": ${option} is not an option of "${[m.command, m.subcommand].filter(Boolean).join(' ')}"`);
        }
      }
    }
    assert.deepEqual([...wrong], []);
  });
});

// ---------------------------------------------------------------------------

/** GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces made hyphens, `-1`, `-2` … on repeats. */
function headingAnchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const m of prose(text).matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const base = m[1]!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}_\- ]/gu, '')
      .replace(/ /g, '-');
    const repeats = seen.get(base);
    anchors.add(repeats === undefined ? base : `${base}-${repeats}`);
    seen.set(base, (repeats ?? 0) + 1);
  }
  return anchors;
}

describe('links in README.md and docs/*.md', () => {
  it('point at files that exist, and at headings that exist in them', () => {
    const broken: string[] = [];
    for (const doc of allDocs()) {
      const text = prose(doc.text).replace(/`[^`\n]*`/g, '');
      const targets = [...text.matchAll(/\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g), ...text.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/gm)].map((m) => m[1]!);
      for (const target of targets) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
        const [pathPart = '', anchor] = target.split('#', 2);
        const file = pathPart === '' ? path.join(REPO_ROOT, doc.name) : path.resolve(REPO_ROOT, path.dirname(doc.name), decodeURIComponent(pathPart.replace(/\?.*$/, '')));
        if (!existsSync(file)) {
          broken.push(`${doc.name}: ${target} (no such file)`);
        } else if (anchor !== undefined && file.endsWith('.md') && !headingAnchors(readFileSync(file, 'utf8')).has(decodeURIComponent(anchor))) {
          broken.push(`${doc.name}: ${target} (no such heading)`);
        }
      }
    }
    assert.deepEqual(broken, []);
  });
});

// ---------------------------------------------------------------------------

/**
 * Upper-case names the docs may write that are not the gateway's variables.
 * Each is another program's: keep this list short, and say whose.
 */
const OTHER_PROGRAMS_VARIABLES: Readonly<Record<string, string>> = {
  AUTH_HEADER: "mcp-remote's header value in Claude Desktop configs (set in the client's env)",
  HOME: 'where client config files live',
  APPDATA: "where Claude Desktop's config file lives on Windows",
  PATH: 'where the embedded launcher looks for a server binary',
  THREAD_COUNT: "FalkorDB's own setting for how many queries it runs at once",
  TIMEOUT_MAX: "FalkorDB's longest query TIMEOUT (the gateway sets it)",
  TIMEOUT_DEFAULT: "FalkorDB's TIMEOUT for queries sent without one (the gateway sets it)",
  QUERY_MEM_CAPACITY: "FalkorDB's memory limit per query (the gateway sets it)",
  RESULTSET_SIZE: "FalkorDB's most rows per reply (the gateway sets it)",
  MAX_INFO_QUERIES: "FalkorDB's count of recent queries it records (the gateway sets it to 0)",
  FALKORDB_ARGS: "the falkordb/falkordb image's module arguments",
  FALKORDB_ACME_PASSWORD: "docker-compose.dedicated.yml's password of tenant acme's own FalkorDB (.env)",
  ACME_PUBLIC_URL: "docker-compose.dedicated.yml's address of acme's own gateway (.env), its PUBLIC_URL",
  SOAK_SECONDS: "the soak test's load time (test/soak.test.ts), not the gateway's",
  NODE_OPTIONS: "Node.js's own flags (docs/deployment.md: the young generation's size)",
};

describe('environment variables written in README.md and docs/*.md', () => {
  const known = new Set<string>([
    ...CONFIG_VARIABLES.map((v) => v.name),
    ...CONFIG_VARIABLES.filter(isSecretVariable).map((v) => secretFileVariable(v.name)),
    ...Object.keys(OTHER_PROGRAMS_VARIABLES),
  ]);

  it('are configuration variables, their _FILE forms, or another program\'s listed variables', () => {
    const unknown = new Set<string>();
    for (const doc of allDocs()) {
      const assigned = [...doc.text.matchAll(/(?<![A-Za-z0-9_$])([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)=/g)].map((m) => m[1]!);
      // A code span that is nothing but an upper-case SNAKE_CASE name is a variable, unless it is an error code.
      const quoted = inlineCode(doc.text).filter((span) => /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/.test(span) && !Object.hasOwn(ERROR_CODES, span));
      for (const name of [...assigned, ...quoted]) {
        // A database target's own variables are named after the target (DATABASE_TARGET_<NAME>_URL).
        if (name.length > 1 && !known.has(name) && !isTargetVariable(name)) unknown.add(`${doc.name}: ${name}`);
      }
    }
    assert.deepEqual([...unknown], []);
  });
});
