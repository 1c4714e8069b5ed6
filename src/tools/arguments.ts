// Tool argument errors in plain words: which field, and the rule it broke
// ("readOnly: expected a boolean"), never the value that was sent.

import type { z } from 'zod';

type Issue = z.core.$ZodIssue;

const KINDS: Readonly<Record<string, string>> = {
  string: 'a string',
  boolean: 'a boolean',
  number: 'a number',
  int: 'an integer',
  record: 'an object',
  object: 'an object',
  array: 'a list',
};

function bound(issue: Extract<Issue, { code: 'too_small' | 'too_big' }>): string {
  const limit = String(issue.code === 'too_small' ? issue.minimum : issue.maximum);
  if (issue.origin === 'string') {
    if (issue.code === 'too_small' && limit === '1') return 'must not be empty';
    return `must be ${issue.code === 'too_small' ? 'at least' : 'at most'} ${limit} characters long`;
  }
  if (issue.code === 'too_small') return `must be ${issue.inclusive === false ? 'greater than' : 'at least'} ${limit}`;
  return `must be ${issue.inclusive === false ? 'less than' : 'at most'} ${limit}`;
}

function describeIssue(issue: Issue, args: Record<string, unknown>): string {
  const field = issue.path.length === 0 ? 'arguments' : issue.path.map(String).join('.');
  switch (issue.code) {
    case 'invalid_type': {
      const kind = KINDS[issue.expected] ?? issue.expected;
      const missing = issue.path.length === 1 && args[String(issue.path[0])] === undefined;
      return missing ? `${field}: required, ${kind}` : `${field}: expected ${kind}`;
    }
    case 'too_small':
    case 'too_big':
      return `${field}: ${bound(issue)}`;
    default:
      // zod's own words for the rarer rules; they name the rule, not the value.
      return `${field}: ${issue.message}`;
  }
}

/** `query: required, a string; readOnly: expected a boolean` for zod's issues with `args`. */
export function describeArgumentIssues(issues: readonly Issue[], args: Record<string, unknown>): string {
  return issues.map((issue) => describeIssue(issue, args)).join('; ');
}
