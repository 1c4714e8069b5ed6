// The configuration: the variable table, its parsers, the typed Config and
// loadConfig. Importers take what they need from here.

export { CONFIG_VARIABLES, isSecretVariable, secretFileVariable, type ConfigVariable, type ConfigVariableName } from './variables.js';
export { parseSentinelNode, type SentinelNode } from './parsers.js';
export type { Config, DatabaseTarget, SentinelConfig, TraceSampler, TracingConfig, UpstreamOAuthConfig } from './types.js';
export { isLoopbackHost, publicBaseUrl } from './hosts.js';
export { loadConfig } from './load.js';
export { DEFAULT_TARGET, isTargetVariable, targetVariablePrefix } from './targets.js';
