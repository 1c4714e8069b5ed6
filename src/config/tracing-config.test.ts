// The OpenTelemetry variables through loadConfig: off unless an endpoint is
// set, the endpoint forms of the OTLP specification, and the words of each refusal.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isGatewayError } from '../errors.js';
import { loadConfig } from './load.js';

/** loadConfig's CONFIG_INVALID message for `env`. */
function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(isGatewayError(error) && error.code === 'CONFIG_INVALID', String(error));
    return error.message;
  }
  assert.fail(`expected ${JSON.stringify(env)} to be refused`);
}

const ENDPOINT = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };

describe('tracing configuration', () => {
  it('is off by default, and with the sampler variables alone', () => {
    assert.equal(loadConfig({}).tracing, undefined);
    assert.equal(loadConfig({ OTEL_TRACES_SAMPLER: 'always_on', OTEL_SERVICE_NAME: 'x' }).tracing, undefined);
  });

  it('is on with an endpoint: /v1/traces appended, http/protobuf, parentbased_always_on', () => {
    assert.deepEqual(loadConfig(ENDPOINT).tracing, {
      url: 'http://collector:4318/v1/traces',
      protocol: 'http/protobuf',
      headers: {},
      sampler: 'parentbased_always_on',
      ratio: 1,
      serviceName: 'falkordb-mcp-gateway',
      resourceAttributes: {},
    });
    assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com/base/' }).tracing?.url, 'https://otlp.example.com/base/v1/traces');
  });

  it('uses OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, before the base endpoint', () => {
    assert.equal(loadConfig({ ...ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://other:4318/traces' }).tracing?.url, 'http://other:4318/traces');
  });

  it('stays off with OTEL_SDK_DISABLED=true', () => {
    assert.equal(loadConfig({ ...ENDPOINT, OTEL_SDK_DISABLED: 'true' }).tracing, undefined);
  });

  it('reads the ratio, headers (percent-decoded) and resource attributes; service.name from them unless OTEL_SERVICE_NAME is set', () => {
    const tracing = loadConfig({
      ...ENDPOINT,
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.01',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=a%2Cb%3D,x-team=ops',
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=graphs,deployment.environment.name=prod',
    }).tracing;
    assert.equal(tracing?.ratio, 0.01);
    assert.deepEqual(tracing?.headers, { 'x-api-key': 'a,b=', 'x-team': 'ops' });
    assert.equal(tracing?.serviceName, 'graphs');
    assert.equal(loadConfig({ ...ENDPOINT, OTEL_SERVICE_NAME: 'eu', OTEL_RESOURCE_ATTRIBUTES: 'service.name=graphs' }).tracing?.serviceName, 'eu');
  });

  it('refuses grpc, saying to use the OTLP/HTTP port', () => {
    assert.match(refusal({ ...ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }), /^OTEL_EXPORTER_OTLP_PROTOCOL \(got "grpc"\) is grpc, which this gateway does not send: set http\/protobuf .*4318/);
  });

  it('refuses an unknown sampler, a ratio outside 0 to 1, and a ratio the sampler would ignore', () => {
    assert.match(refusal({ OTEL_TRACES_SAMPLER: 'ratio' }), /^OTEL_TRACES_SAMPLER \(got "ratio"\) must be one of always_on, always_off, traceidratio/);
    assert.match(refusal({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' }), /OTEL_TRACES_SAMPLER_ARG \(got "1.5"\) must be a number from 0 to 1/);
    assert.match(refusal({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1%' }), /must be a number from 0 to 1/);
    assert.match(refusal({ ...ENDPOINT, OTEL_TRACES_SAMPLER_ARG: '0.01' }), /OTEL_TRACES_SAMPLER_ARG \(got "0.01"\) is read only with OTEL_TRACES_SAMPLER=traceidratio or parentbased_traceidratio, but the sampler is parentbased_always_on/);
  });

  it('refuses a bad endpoint, and a bad header entry without quoting it', () => {
    assert.match(refusal({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }), /^OTEL_EXPORTER_OTLP_ENDPOINT \(got "collector:4318"\) must be an http:\/\/ or https:\/\/ URL/);
    const message = refusal({ ...ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=good,secret-without-equals' });
    assert.match(message, /^OTEL_EXPORTER_OTLP_HEADERS \(value hidden\) has an entry \(number 2\) that is not an HTTP header name=value/);
    assert.ok(!message.includes('secret-without-equals') && !message.includes('good'));
    assert.match(refusal({ OTEL_RESOURCE_ATTRIBUTES: 'a=%zz' }), /OTEL_RESOURCE_ATTRIBUTES \(got "a=%zz"\) has "a=%zz" that is not an attribute key=value/);
  });
});
