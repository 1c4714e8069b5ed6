// Reads a transfer file line by line and checks it as it goes: each line is one
// JSON record of a known kind (zod), and the records come in the order the format
// fixes, with counts that add up, ending in the end record. Every problem names
// its line, so a truncated or edited file is refused with a pointer, not a guess.

import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { GatewayError } from '../errors.js';
import {
  RECORD_SCHEMAS,
  TRANSFER_FORMAT,
  TRANSFER_VERSION,
  type GraphEndRecord,
  type HeaderRecord,
  type RecordKind,
  type TransferRecord,
} from './format.js';

export interface NumberedRecord {
  line: number;
  record: TransferRecord;
}

function invalid(file: string, line: number, message: string): GatewayError {
  return new GatewayError('TRANSFER_FILE_INVALID', `${file}, line ${line}: ${message}. The file is not a complete tenant export; nothing was imported.`);
}

function describeIssue(issue: { path: PropertyKey[]; message: string }): string {
  const where = issue.path.map(String).join('.');
  return where === '' ? issue.message : `"${where}" ${issue.message}`;
}

/** Parses and validates one line into a record. */
export function parseRecord(text: string, file: string, line: number): TransferRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw invalid(file, line, 'is not valid JSON (cut off, or edited by hand?)');
  }
  const kind = (json as { kind?: unknown } | null)?.kind;
  if (typeof kind !== 'string' || !(kind in RECORD_SCHEMAS)) {
    throw invalid(file, line, `has no known "kind" (expected one of ${Object.keys(RECORD_SCHEMAS).join(', ')})`);
  }
  const result = RECORD_SCHEMAS[kind as RecordKind].safeParse(json);
  if (!result.success) {
    const issues = result.error.issues.slice(0, 3).map(describeIssue).join('; ');
    throw invalid(file, line, `is not a valid ${kind} record: ${issues}`);
  }
  return result.data as TransferRecord;
}

type Section = 'start' | 'between' | 'nodes' | 'relationships' | 'indexes' | 'constraints' | 'done';

/** Per record kind inside a graph, the sections the file may be in when it comes. */
const ALLOWED_IN: Record<string, Section[]> = {
  node: ['nodes'],
  relationship: ['nodes', 'relationships'],
  index: ['nodes', 'relationships', 'indexes'],
  constraint: ['nodes', 'relationships', 'indexes', 'constraints'],
  'graph-end': ['nodes', 'relationships', 'indexes', 'constraints'],
};

/** The order rules: header, then per graph graph → nodes → relationships → indexes → constraints → graph-end, then end. */
class OrderChecker {
  #section: Section = 'start';
  #header: HeaderRecord | undefined;
  #graph: string | undefined;
  #lastNodeId = -1;
  #counts = { nodes: 0, relationships: 0, indexes: 0, constraints: 0 };
  #graphsSeen = 0;

  constructor(readonly file: string) {}

  get header(): HeaderRecord | undefined {
    return this.#header;
  }

  check(record: TransferRecord, line: number): void {
    const fail = (message: string) => invalid(this.file, line, message);
    if (this.#section === 'start') {
      if (record.kind !== 'header') throw fail('must be the header record: this is not a tenant export file');
      if (record.version !== TRANSFER_VERSION) throw fail(`is format version ${record.version}; this gateway reads version ${TRANSFER_VERSION} of ${TRANSFER_FORMAT}`);
      if (new Set(record.graphs).size !== record.graphs.length) throw fail('lists a graph twice');
      this.#header = record;
      this.#section = 'between';
      return;
    }
    if (this.#section === 'done') throw fail('comes after the end record');
    switch (record.kind) {
      case 'header':
        throw fail('is a second header');
      case 'graph': {
        if (this.#section !== 'between') throw fail(`starts graph "${record.name}" before graph "${this.#graph ?? ''}" ended`);
        const expected = this.#header?.graphs[this.#graphsSeen];
        if (expected !== record.name) throw fail(`starts graph "${record.name}", but the header lists ${expected === undefined ? 'no more graphs' : `"${expected}" next`}`);
        this.#graph = record.name;
        this.#lastNodeId = -1;
        this.#counts = { nodes: 0, relationships: 0, indexes: 0, constraints: 0 };
        this.#section = 'nodes';
        return;
      }
      case 'end':
        if (this.#section !== 'between') throw fail(`ends the file inside graph "${this.#graph ?? ''}"`);
        if (record.graphs !== this.#graphsSeen || this.#graphsSeen !== (this.#header?.graphs.length ?? 0)) throw fail(`counts ${record.graphs} graphs, but the file holds ${this.#graphsSeen} of the ${this.#header?.graphs.length ?? 0} its header lists`);
        this.#section = 'done';
        return;
      default: {
        if (!ALLOWED_IN[record.kind]?.includes(this.#section)) throw fail(`is a ${record.kind} record out of place (${this.#section === 'between' ? 'outside any graph' : `after the ${this.#section} of graph "${this.#graph ?? ''}"`})`);
      }
    }
    switch (record.kind) {
      case 'node':
        if (record.id <= this.#lastNodeId) throw fail(`has node id ${record.id}, but node ids must increase (the previous was ${this.#lastNodeId})`);
        this.#lastNodeId = record.id;
        this.#counts.nodes += 1;
        return;
      case 'relationship':
        if (record.from > this.#lastNodeId || record.to > this.#lastNodeId) throw fail(`connects node ${record.from} to node ${record.to}, but the graph's largest node id is ${this.#lastNodeId}`);
        this.#section = 'relationships';
        this.#counts.relationships += 1;
        return;
      case 'index':
        this.#section = 'indexes';
        this.#counts.indexes += 1;
        return;
      case 'constraint':
        this.#section = 'constraints';
        this.#counts.constraints += 1;
        return;
      case 'graph-end':
        this.#checkEnd(record, fail);
        this.#graphsSeen += 1;
        this.#section = 'between';
        return;
    }
  }

  #checkEnd(record: GraphEndRecord, fail: (m: string) => GatewayError): void {
    if (record.name !== this.#graph) throw fail(`ends graph "${record.name}", but graph "${this.#graph ?? ''}" is open`);
    for (const key of ['nodes', 'relationships', 'indexes', 'constraints'] as const) {
      if (record[key] !== this.#counts[key]) throw fail(`says graph "${record.name}" has ${record[key]} ${key}, but the file holds ${this.#counts[key]}`);
    }
  }

  finish(line: number): void {
    if (this.#section === 'start') throw invalid(this.file, line, 'is the end of an empty file');
    if (this.#section !== 'done') throw invalid(this.file, line, `is the end of the file, but the end record is missing: the file is truncated${this.#graph === undefined ? '' : ` (last graph: "${this.#graph}")`}`);
  }
}

/** Every record of `file`, checked; throws TRANSFER_FILE_INVALID naming the line of the first problem. */
export async function* readTransferFile(file: string): AsyncGenerator<NumberedRecord> {
  const input = createReadStream(file, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    input.once('open', () => resolve());
    input.once('error', reject);
  });
  try {
    await opened;
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new GatewayError('REQUEST_INVALID', `Cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(code ?? error)}.`);
  }
  const lines = createInterface({ input, crlfDelay: Infinity });
  const checker = new OrderChecker(file);
  let line = 0;
  try {
    for await (const text of lines) {
      line += 1;
      if (text.trim() === '') continue;
      const record = parseRecord(text, file, line);
      checker.check(record, line);
      yield { line, record };
    }
    checker.finish(line + 1);
  } finally {
    lines.close();
    input.destroy();
  }
}

/** Reads the whole file once without loading anything: its header, when the file is complete and well-formed. */
export async function checkTransferFile(file: string): Promise<{ header: HeaderRecord; records: number }> {
  let header: HeaderRecord | undefined;
  let records = 0;
  for await (const { record } of readTransferFile(file)) {
    if (record.kind === 'header') header = record;
    records += 1;
  }
  if (header === undefined) throw new GatewayError('TRANSFER_FILE_INVALID', `${file} has no header record.`);
  return { header, records };
}
