// Reads one variable's text from the environment, or from the file its
// `NAME_FILE` form names for a secret, and words the error that blames it.

import { readFileSync } from 'node:fs';
import { GatewayError } from '../errors.js';
import { isSecretVariable, secretFileVariable, type ConfigVariable } from './variables.js';

export type Env = Record<string, string | undefined>;

export function configError(variable: string, value: string | undefined, problem: string, example: string, secret: boolean): GatewayError {
  const shown = value === undefined ? '' : secret ? ' (value hidden)' : ` (got ${JSON.stringify(value)})`;
  return new GatewayError('CONFIG_INVALID', `${variable}${shown} ${problem}; for example ${variable}=${example}`, { variable });
}

/** A variable's text as given, and the name (NAME or NAME_FILE) and example to blame if it is bad. */
export interface RawValue {
  text: string | undefined;
  variable: string;
  example: string;
}

export function given(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

export function readRawValue(variable: ConfigVariable, env: Env): RawValue {
  const direct = given(env[variable.name]);
  const fileVariable = secretFileVariable(variable.name);
  const file = isSecretVariable(variable) ? given(env[fileVariable]) : undefined;
  if (file === undefined) return { text: direct, variable: variable.name, example: variable.example };

  const example = `/run/secrets/${variable.name.toLowerCase()}`;
  if (direct !== undefined) {
    throw new GatewayError('CONFIG_INVALID', `${variable.name} and ${fileVariable} are both set; set only one of them.`, { variable: fileVariable });
  }
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw configError(fileVariable, file, `cannot be read (${reason}); check the path and the file's permissions`, example, false);
  }
  // Editors and `echo` end files with a newline that is not part of the secret.
  const text = content.replace(/\r?\n$/, '');
  if (text === '') throw configError(fileVariable, file, 'names an empty file, but the value must not be empty; write it into the file', example, false);
  return { text, variable: fileVariable, example };
}
