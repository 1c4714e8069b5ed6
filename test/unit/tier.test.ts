// What keeps the two test tiers apart: the unit tier (src/**/*.test.ts and this
// folder, `npm run test:unit`) uses no database and none of test/support/, and
// every test file has a name of its own, so a report's file name points at one file.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { refuseDatabaseAccess, UnitTierViolation } from './no-database.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function filesUnder(dir: string): string[] {
  return readdirSync(path.join(REPO, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.relative(REPO, path.join(entry.parentPath, entry.name)));
}

const TEST_FILES = [...filesUnder('src'), ...filesUnder('test')].filter((file) => file.endsWith('.test.ts'));
const UNIT_FILES = [...filesUnder('src').filter((file) => file.endsWith('.test.ts')), ...filesUnder('test/unit')];

describe('the test tiers', () => {
  it('give every test file a name no other test file has', () => {
    const byName = new Map<string, string[]>();
    for (const file of TEST_FILES) byName.set(path.basename(file), [...(byName.get(path.basename(file)) ?? []), file]);
    assert.ok(TEST_FILES.length > 50, `only ${TEST_FILES.length} test files found`);
    assert.deepEqual([...byName.values()].filter((files) => files.length > 1), []);
  });

  it('keep the unit tier off test/support/, whose helpers start FalkorDB and gateways', () => {
    const wrong = UNIT_FILES.filter((file) => /from '(?:\.\.\/)+(?:test\/)?support\//.test(readFileSync(path.join(REPO, file), 'utf8')));
    assert.ok(UNIT_FILES.includes('src/tools/handlers.test.ts'), 'the unit files are found');
    assert.deepEqual(wrong, []);
  });

  it('refuse, in the unit tier, every connection and every process but a --version probe', () => {
    // Installed by the preload in the unit tier; installed here too so that npm test checks it as well.
    refuseDatabaseAccess();
    assert.throws(() => net.connect(6379, '127.0.0.1'), UnitTierViolation);
    assert.throws(() => spawn('redis-server'), UnitTierViolation);
  });
});
