// DATABASE_TARGETS, SERVE_TENANTS and INSTANCE_NAME through loadConfig: what
// each target is read into, and the words of every refusal, which name the
// target's own variables and never show a secret.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isGatewayError } from '../errors.js';
import { servesTenants } from '../tenancy/tenant-id.js';
import { loadConfig } from './load.js';
import { isTargetVariable, targetVariablePrefix } from './targets.js';

const SECRET = 'target-password-9f8e7d';

/** loadConfig's CONFIG_INVALID error for `env`: its message and the variable it blames. */
function refusal(env: Record<string, string>): { message: string; variable: string | undefined } {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(isGatewayError(error) && error.code === 'CONFIG_INVALID', String(error));
    assert.ok(!error.message.includes(SECRET), `the message shows no secret: ${error.message}`);
    return { message: error.message, variable: error.details['variable'] };
  }
  assert.fail(`expected ${JSON.stringify(env)} to be refused`);
}

describe('DATABASE_TARGETS', () => {
  it('reads each named target from its own variables, `-` written as `_`', () => {
    const config = loadConfig({
      DATABASE_TARGETS: 'dedicated-1, eu',
      DATABASE_TARGET_DEDICATED_1_URL: `redis://:${SECRET}@db-1:6379`,
      DATABASE_TARGET_DEDICATED_1_REPLICA_URLS: `redis://:${SECRET}@db-1r:6379`,
      DATABASE_TARGET_EU_CLUSTER_URLS: 'redis://a:7000,redis://b:7000',
    });
    assert.deepEqual(Object.keys(config.targets), ['dedicated-1', 'eu']);
    assert.equal(config.targets['dedicated-1']?.url, `redis://:${SECRET}@db-1:6379`);
    assert.deepEqual(config.targets['dedicated-1']?.replicaUrls, [`redis://:${SECRET}@db-1r:6379`]);
    assert.equal(config.targets['dedicated-1']?.clusterUrls, undefined);
    assert.deepEqual(config.targets['eu']?.clusterUrls, ['redis://a:7000', 'redis://b:7000']);
    assert.equal(config.targets['eu']?.url, undefined);
    // The shared database is untouched by the targets.
    assert.equal(config.falkordb.url, undefined);
  });

  it('is empty when unset or empty', () => {
    assert.deepEqual(loadConfig({}).targets, {});
    assert.deepEqual(loadConfig({ DATABASE_TARGETS: '' }).targets, {});
  });

  it('reads a Sentinel target with its master name and passwords', () => {
    const target = loadConfig({
      DATABASE_TARGETS: 'ha',
      DATABASE_TARGET_HA_SENTINELS: 's1:26379,s2:26379',
      DATABASE_TARGET_HA_SENTINEL_MASTER: 'falkordb',
      DATABASE_TARGET_HA_SENTINEL_DATA_PASSWORD: SECRET,
    }).targets['ha'];
    assert.equal(target?.sentinel?.masterName, 'falkordb');
    assert.equal(target?.sentinel?.password, SECRET);
    assert.equal(target?.sentinel?.nodes.length, 2);
  });

  it('reads a _FILE form, without its trailing newline', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'targets-test-'));
    try {
      const file = path.join(dir, 'url');
      writeFileSync(file, `redis://:${SECRET}@db-file:6379\n`);
      const config = loadConfig({ DATABASE_TARGETS: 'filed', DATABASE_TARGET_FILED_URL_FILE: file });
      assert.equal(config.targets['filed']?.url, `redis://:${SECRET}@db-file:6379`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a _FILE form that cannot be read, naming it', () => {
    const { message, variable } = refusal({ DATABASE_TARGETS: 'filed', DATABASE_TARGET_FILED_URL_FILE: '/nonexistent/target-url' });
    assert.equal(variable, 'DATABASE_TARGET_FILED_URL_FILE');
    assert.match(message, /DATABASE_TARGET_FILED_URL_FILE .*cannot be read \(ENOENT\)/);
  });

  it('refuses a _FILE form of a variable that is no secret, which would not be read', () => {
    const { message, variable } = refusal({ DATABASE_TARGETS: 'ha', DATABASE_TARGET_HA_SENTINELS_FILE: '/run/secrets/sentinels', DATABASE_TARGET_HA_SENTINEL_MASTER: 'falkordb' });
    assert.equal(variable, 'DATABASE_TARGET_HA_SENTINELS_FILE');
    assert.match(message, /DATABASE_TARGET_HA_SENTINELS_FILE is not read: only secrets have a _FILE form; set DATABASE_TARGET_HA_SENTINELS itself/);
  });

  it('refuses a variable and its _FILE form together', () => {
    const { message } = refusal({ DATABASE_TARGETS: 'both', DATABASE_TARGET_BOTH_URL: `redis://:${SECRET}@x:1`, DATABASE_TARGET_BOTH_URL_FILE: '/run/secrets/url' });
    assert.match(message, /DATABASE_TARGET_BOTH_URL and DATABASE_TARGET_BOTH_URL_FILE are both set/);
  });

  it("refuses a target's variable when DATABASE_TARGETS is unset, naming the variable", () => {
    const { message, variable } = refusal({ DATABASE_TARGET_STRAY_URL: `redis://:${SECRET}@stray:6379` });
    assert.equal(variable, 'DATABASE_TARGET_STRAY_URL');
    assert.match(message, /DATABASE_TARGET_STRAY_URL is set, but DATABASE_TARGETS names no target it belongs to \(DATABASE_TARGETS is unset\)/);
  });

  it('refuses a misspelt suffix, which would leave a setting unread, naming the variable', () => {
    const { message, variable } = refusal({
      DATABASE_TARGETS: 'acme',
      DATABASE_TARGET_ACME_URL: `redis://:${SECRET}@acme:6379`,
      DATABASE_TARGET_ACME_REPLICA_URL: `redis://:${SECRET}@acme-replica:6379`,
    });
    assert.equal(variable, 'DATABASE_TARGET_ACME_REPLICA_URL');
    assert.match(message, /DATABASE_TARGET_ACME_REPLICA_URL is set, but no target variable has that name; .*REPLICA_URLS/);
  });

  it('refuses a variable of a target the list does not name (a typo), naming the targets listed', () => {
    const { message, variable } = refusal({
      DATABASE_TARGETS: 'dedicated1',
      DATABASE_TARGET_DEDICATED1_URL: `redis://:${SECRET}@d1:6379`,
      DATABASE_TARGET_DEDICATED_1_URL_FILE: '/run/secrets/d1',
    });
    assert.equal(variable, 'DATABASE_TARGET_DEDICATED_1_URL_FILE');
    assert.match(message, /it names dedicated1\); add the target's name to DATABASE_TARGETS, or unset DATABASE_TARGET_DEDICATED_1_URL_FILE/);
  });

  it('refuses a target without an address, naming its own variables', () => {
    const { message, variable } = refusal({ DATABASE_TARGETS: 'lonely' });
    assert.equal(variable, 'DATABASE_TARGET_LONELY_URL');
    assert.match(message, /names "lonely", but none of DATABASE_TARGET_LONELY_URL, DATABASE_TARGET_LONELY_CLUSTER_URLS or DATABASE_TARGET_LONELY_SENTINELS/);
  });

  it('refuses a target with both a URL and cluster seeds', () => {
    const { message, variable } = refusal({ DATABASE_TARGETS: 'two', DATABASE_TARGET_TWO_URL: `redis://:${SECRET}@x:1`, DATABASE_TARGET_TWO_CLUSTER_URLS: `redis://:${SECRET}@a:7000` });
    assert.equal(variable, 'DATABASE_TARGET_TWO_CLUSTER_URLS');
    assert.match(message, /DATABASE_TARGET_TWO_CLUSTER_URLS and another address of target "two" are both set/);
  });

  it("words the shared checks with the target's variables (Sentinel without a master name)", () => {
    const { message, variable } = refusal({ DATABASE_TARGETS: 'ha', DATABASE_TARGET_HA_SENTINELS: 's1:26379' });
    assert.equal(variable, 'DATABASE_TARGET_HA_SENTINEL_MASTER');
    assert.match(message, /DATABASE_TARGET_HA_SENTINEL_MASTER is required with DATABASE_TARGET_HA_SENTINELS/);
    assert.ok(!/FALKORDB_/.test(message), message);
  });

  it('hides the value of a bad URL, which holds the password', () => {
    const { message, variable } = refusal({ DATABASE_TARGETS: 'bad', DATABASE_TARGET_BAD_URL: `mysql://user:${SECRET}@db:3306` });
    assert.equal(variable, 'DATABASE_TARGET_BAD_URL');
    assert.match(message, /DATABASE_TARGET_BAD_URL \(value hidden\) must be redis:\/\//);
  });

  it('hides a bad replica URL too', () => {
    const { variable } = refusal({ DATABASE_TARGETS: 'rep', DATABASE_TARGET_REP_URL: `redis://:${SECRET}@p:1`, DATABASE_TARGET_REP_REPLICA_URLS: `http://:${SECRET}@r:1` });
    assert.equal(variable, 'DATABASE_TARGET_REP_REPLICA_URLS');
  });

  it('refuses `default` as a name: it is the shared database', () => {
    const { message, variable } = refusal({ DATABASE_TARGETS: 'default', DATABASE_TARGET_DEFAULT_URL: `redis://:${SECRET}@x:1` });
    assert.equal(variable, 'DATABASE_TARGETS');
    assert.match(message, /has "default", which is not a target name .*`default` is the shared database/);
  });

  it('refuses a name given twice', () => {
    const { message } = refusal({ DATABASE_TARGETS: 'twin,other,twin', DATABASE_TARGET_TWIN_URL: 'redis://x:1', DATABASE_TARGET_OTHER_URL: 'redis://y:1' });
    assert.match(message, /DATABASE_TARGETS \(got "twin,other,twin"\) names "twin" twice/);
  });

  for (const bad of ['Upper', 'under_score', 'has space', '-leading', 'a'.repeat(64), 'dot.ted']) {
    it(`refuses the name ${JSON.stringify(bad)}, saying what a name is`, () => {
      const { message, variable } = refusal({ DATABASE_TARGETS: bad });
      assert.equal(variable, 'DATABASE_TARGETS');
      assert.match(message, /which is not a target name \(1 to 63 lower-case letters, digits and -/);
    });
  }

  it('names variables after the target, and knows them from any other variable', () => {
    assert.equal(targetVariablePrefix('dedicated-1'), 'DATABASE_TARGET_DEDICATED_1_');
    assert.ok(isTargetVariable('DATABASE_TARGET_DEDICATED_1_URL'));
    assert.ok(isTargetVariable('DATABASE_TARGET_X_SENTINEL_PASSWORD_FILE'));
    assert.ok(!isTargetVariable('DATABASE_TARGETS'));
    assert.ok(!isTargetVariable('FALKORDB_URL'));
  });
});

describe('SERVE_TENANTS', () => {
  it('reads ids and patterns, spaces around them trimmed', () => {
    assert.deepEqual(loadConfig({ SERVE_TENANTS: 'acme, prem-*' }).instance.serveTenants, ['acme', 'prem-*']);
    assert.equal(loadConfig({}).instance.serveTenants, undefined);
  });

  it('refuses an entry with a space inside, naming it', () => {
    const { message, variable } = refusal({ SERVE_TENANTS: 'acme, big corp' });
    assert.equal(variable, 'SERVE_TENANTS');
    assert.match(message, /has "big corp", which is not a tenant id or pattern \(no spaces/);
  });

  it('refuses an empty value: a dedicated instance whose list came out empty must not serve every tenant', () => {
    for (const empty of ['', ' ']) {
      const { message, variable } = refusal({ SERVE_TENANTS: empty });
      assert.equal(variable, 'SERVE_TENANTS');
      assert.match(message, /SERVE_TENANTS is set but empty/);
    }
  });

  it('refuses a list of nothing but commas', () => {
    assert.match(refusal({ SERVE_TENANTS: ' , ' }).message, /must name at least one tenant/);
  });

  it('matches exact ids and `*` patterns only', () => {
    const serves = servesTenants(['acme', 'prem-*']);
    assert.ok(serves !== undefined);
    assert.ok(serves('acme'));
    assert.ok(serves('prem-1'));
    assert.ok(serves('prem-'));
    assert.ok(!serves('acme2'));
    assert.ok(!serves('xacme'));
    assert.ok(!serves('premium'));
    assert.ok(!serves('x-prem-1'));
    assert.equal(servesTenants(undefined), undefined, 'unset: every tenant');
  });
});

describe('INSTANCE_NAME', () => {
  it('names the instance in the config and the audit trail, else the host name', () => {
    const named = loadConfig({ INSTANCE_NAME: 'gw-acme-0' });
    assert.equal(named.instance.name, 'gw-acme-0');
    assert.equal(named.audit.instance, 'gw-acme-0');
    assert.equal(loadConfig({}).instance.name, os.hostname());
  });

  it('refuses a name with spaces', () => {
    assert.equal(refusal({ INSTANCE_NAME: 'gw acme' }).variable, 'INSTANCE_NAME');
  });
});
