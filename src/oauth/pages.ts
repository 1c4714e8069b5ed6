// The sign-in pages a person sees in the browser (enrolment code, consent,
// outcome): pure functions from facts to HTML and the headers that lock it down.
//
// Every interpolated value goes through escapeHtml, the pages carry no script
// at all, and their one <style> block is allowed by its hash, so the CSP can
// forbid everything else. Client names come from client metadata anyone can
// publish: they are shown beside the redirect host, isolated with <bdi> and
// stripped of direction and control characters so they cannot pose as another app.

import { createHash } from 'node:crypto';
import { PRODUCT_NAME } from '../product.js';

export interface RenderedPage {
  status: number;
  html: string;
  headers: Record<string, string>;
}

/** What the page says about the app asking to connect, e.g. `{ name: 'Claude', redirectHost: 'claude.ai' }`. */
export interface ClientFacts {
  name: string;
  redirectHost: string;
}

/** Escapes text for HTML element content and for double- or single-quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

// C0/C1 controls, bidirectional embeddings/overrides/isolates and marks: they can
// reorder or hide what the person reads ("\u202Eedualc" shows as "claude").
// eslint-disable-next-line no-control-regex
const UNSAFE_DISPLAY = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const DISPLAY_LIMIT = 120;

/**
 * Text fit for display: controls and direction overrides removed, whitespace
 * collapsed, cut to 120 characters, then escaped. Not for form values, which
 * must round-trip exactly.
 */
export function displayText(value: string): string {
  const cleaned = value.replace(UNSAFE_DISPLAY, ' ').replace(/\s+/g, ' ').trim();
  const chars = [...cleaned];
  const cut = chars.length > DISPLAY_LIMIT ? `${chars.slice(0, DISPLAY_LIMIT - 1).join('')}…` : cleaned;
  return escapeHtml(cut === '' ? '(unnamed)' : cut);
}

// Colours chosen for ≥ 4.5:1 contrast on their backgrounds, in light and dark mode
// (the page test measures both).
const STYLE = `
:root{color-scheme:light dark;--page:#f3f5f8;--card:#ffffff;--ink:#1b1f24;--muted:#4a5260;--line:#c9ced6;--code:#eef1f5;--accent:#1f4fd1;--accent-ink:#ffffff;--bad:#a4161a;--bad-bg:#fdecec;--good:#176b36;--focus:#b3400a}
@media (prefers-color-scheme:dark){:root{--page:#111418;--card:#1c2128;--ink:#e8eaed;--muted:#aab2bd;--line:#3a414c;--code:#2a3039;--accent:#8ab4ff;--accent-ink:#0b1320;--bad:#ffa3a3;--bad-bg:#3d1518;--good:#7fd69b;--focus:#ffb37a}}
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;min-height:100vh;background:var(--page);color:var(--ink);font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;overflow-wrap:anywhere}
main{display:block;max-width:30rem;margin:0 auto;padding:1.5rem 1rem 3rem}
.product{margin:0 0 1rem;font-size:.875rem;font-weight:600;letter-spacing:.02em;color:var(--muted)}
.card{background:var(--card);border:1px solid var(--line);border-radius:.75rem;padding:1.25rem}
h1{margin:0 0 .75rem;font-size:1.5rem;line-height:1.25}
p{margin:0 0 1rem}
.app{font-weight:600}
.host{color:var(--muted)}
dl{margin:0 0 1rem}
dt{font-weight:600;margin-top:.5rem}
dd{margin:0}
ul{margin:.25rem 0 1rem;padding-left:1.25rem}
li{margin:.125rem 0}
code{font:inherit;font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;background:var(--code);border-radius:.25rem;padding:0 .25rem}
label{display:block;font-weight:600;margin-bottom:.25rem}
.hint{color:var(--muted);font-size:.9375rem;margin:0 0 .5rem}
input[type=text]{display:block;width:100%;min-height:3rem;padding:.5rem .75rem;font:inherit;font-size:1.125rem;letter-spacing:.08em;color:var(--ink);background:var(--card);border:2px solid var(--muted);border-radius:.5rem}
input[aria-invalid=true]{border-color:var(--bad)}
.alert{margin:0 0 1rem;padding:.75rem;border-radius:.5rem;background:var(--bad-bg);color:var(--bad);font-weight:600}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:1.25rem}
button{flex:1 1 8rem;min-height:3rem;padding:.625rem 1rem;font:inherit;font-weight:600;border-radius:.5rem;border:2px solid var(--accent);background:var(--accent);color:var(--accent-ink);cursor:pointer}
a.button{display:block;text-align:center;min-height:3rem;padding:.625rem 1rem;font-weight:600;border-radius:.5rem;border:2px solid var(--accent);background:var(--accent);color:var(--accent-ink);text-decoration:none}
.or{color:var(--muted);margin:1.25rem 0 .75rem}
button.secondary{background:var(--card);color:var(--ink);border-color:var(--muted)}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.kind-error h1{color:var(--bad)}
.kind-done h1{color:var(--good)}
.small{font-size:.875rem;color:var(--muted);margin:1rem 0 0}
@media (min-width:40rem){main{padding-top:4rem}.card{padding:1.75rem 2rem}}
`;

const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE, 'utf8').digest('base64')}'`;

/**
 * One CSP source for a form's destination (or a redirect after it): the origin
 * of an http(s) URL, or the bare scheme of an app link such as `vscode://…`.
 * Anything else is refused, so no value can add a directive to the policy.
 */
export function formActionSource(uriOrOrigin: string): string {
  let url: URL;
  try {
    url = new URL(uriOrOrigin);
  } catch {
    throw new TypeError(`form-action source ${JSON.stringify(uriOrOrigin)} is not an absolute URL`);
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') return url.origin;
  if (/^[a-z][a-z0-9+.-]*:$/.test(url.protocol) && url.protocol !== 'javascript:' && url.protocol !== 'data:') return url.protocol;
  throw new TypeError(`form-action source ${JSON.stringify(uriOrOrigin)} has a scheme a page must not post to`);
}

/**
 * The pages' Content-Security-Policy. Chromium applies form-action to every
 * redirect that follows a form POST, so a form whose answer redirects to the
 * client (consent → redirect_uri) must list the client's origin here.
 */
export function pageCsp(formActionOrigins: readonly string[] = []): string {
  const targets = [...new Set(formActionOrigins.map(formActionSource))];
  return [
    "default-src 'none'",
    `style-src ${STYLE_HASH}`,
    "img-src 'self' data:",
    ['form-action', "'self'", ...targets].join(' '),
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** The policy of a page whose forms post only to this server. */
export const PAGE_CSP: string = pageCsp();

function pageHeaders(formActionOrigins: readonly string[] = []): Record<string, string> {
  return {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy': pageCsp(formActionOrigins),
    'Cache-Control': 'no-store',
    'X-Frame-Options': 'DENY',
    // Not no-referrer: with it Chromium sends `Origin: null` on the form posts, which the gateway's Origin check refuses.
    // same-origin still tells other sites nothing (the redirect to the app carries no referrer).
    'Referrer-Policy': 'same-origin',
    'X-Content-Type-Options': 'nosniff',
  };
}

function htmlDocument(title: string, body: string, bodyClass = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(title)} · ${PRODUCT_NAME}</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body${bodyClass === '' ? '' : ` class="${bodyClass}"`}>
<main>
<p class="product">${PRODUCT_NAME}</p>
<div class="card">
${body}
</div>
</main>
</body>
</html>
`;
}

function clientLine(client: ClientFacts): string {
  return `<bdi class="app">${displayText(client.name)}</bdi> <span class="host">(<bdi>${displayText(client.redirectHost)}</bdi>)</span>`;
}

function hidden(name: string, value: string): string {
  return `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`;
}

export interface EnrolPageInput {
  action: string;
  csrf: string;
  client: ClientFacts;
  /** Shown in an alert tied to the input; the page answers 400. */
  error?: string;
  /** What the person typed, kept in the input after an error so a typo is easy to fix. */
  code?: string;
  /** Origins the answer to this form may redirect to (see pageCsp). */
  formActionOrigins?: readonly string[];
  /** A sign-in at the operator's OpenID provider, offered above the code: its name and the link that starts it. */
  upstream?: { name: string; href: string };
}

/** Asks for the one-time enrolment code the operator handed out (and offers the OpenID provider's sign-in, when there is one). */
export function enrolPage(input: EnrolPageInput): RenderedPage {
  const hasError = input.error !== undefined && input.error !== '';
  const describedBy = hasError ? 'code-hint code-error' : 'code-hint';
  const upstream = input.upstream === undefined
    ? ''
    : `<p><a class="button" href="${escapeHtml(input.upstream.href)}">Sign in with <bdi>${displayText(input.upstream.name)}</bdi></a></p>
<p class="or">or, with a code from the person who runs the gateway:</p>
`;
  const body = `<h1>${input.upstream === undefined ? 'Enter your enrolment code' : 'Sign in to connect'}</h1>
<p>${clientLine(input.client)} asks to connect to your graphs on ${PRODUCT_NAME}.</p>
${upstream}<form method="post" action="${escapeHtml(input.action)}">
${hidden('csrf', input.csrf)}
<label for="code">Enrolment code</label>
<p class="hint" id="code-hint">The one-time code the person who runs the gateway gave you. It works once and only for a few minutes.</p>
${hasError ? `<p class="alert" id="code-error" role="alert">${escapeHtml(input.error ?? '')}</p>\n` : ''}<input type="text" id="code" name="code" value="${escapeHtml(input.code ?? '')}" required autocomplete="off" autocapitalize="characters" autocorrect="off" spellcheck="false" inputmode="text" aria-describedby="${describedBy}"${hasError ? ' aria-invalid="true"' : ''}>
<div class="actions"><button type="submit">Continue</button></div>
</form>
<p class="small">Did not expect this? Close this window: nothing is connected until you approve on the next page.</p>`;
  return { status: hasError ? 400 : 200, html: htmlDocument(input.upstream === undefined ? 'Enrolment code' : 'Sign in', body), headers: pageHeaders(input.formActionOrigins) };
}

/** Plain words for each gateway scope; an unknown scope is shown as it is. */
export const SCOPE_WORDS: Readonly<Record<string, string>> = Object.freeze({
  read: 'read your graphs',
  write: 'change your graphs',
  admin: 'delete graphs',
});

export interface ConsentPageInput {
  action: string;
  csrf: string;
  client: ClientFacts;
  tenant: string;
  device: string;
  scopes: readonly string[];
  /** Graph name patterns the grant is limited to; none means every graph of the tenant. */
  graphs?: readonly string[];
  /** The enrolment code typed on the previous page, carried in a hidden field. */
  code?: string;
  /** Instead of a code: the one-time ticket of a sign-in at the OpenID provider, in a hidden field. */
  ticket?: string;
  /** Who signed in at the OpenID provider, e.g. `alice@acme.com at Acme SSO`. */
  signedInAs?: string;
  /** The client's redirect URI origins: the approve and deny answers redirect there. */
  formActionOrigins?: readonly string[];
}

/** Shows exactly what approval grants, with Allow and Deny in one form. */
export function consentPage(input: ConsentPageInput): RenderedPage {
  const scopes = input.scopes.length === 0
    ? '<li>nothing (no scopes)</li>'
    : [...new Set(input.scopes)].map((s) => `<li>${Object.hasOwn(SCOPE_WORDS, s) ? escapeHtml(SCOPE_WORDS[s] ?? s) : `<code>${escapeHtml(s)}</code>`}</li>`).join('');
  const graphs = input.graphs !== undefined && input.graphs.length > 0
    ? `<dt>Graphs</dt><dd>only graphs matching:<ul>${input.graphs.map((g) => `<li><code>${escapeHtml(g)}</code></li>`).join('')}</ul></dd>`
    : `<dt>Graphs</dt><dd>every graph of <bdi>${escapeHtml(input.tenant)}</bdi></dd>`;
  const body = `<h1>Allow <bdi>${displayText(input.client.name)}</bdi> to use your graphs?</h1>
<p>${clientLine(input.client)} will connect as a device of your tenant. After you allow it, you go back to <bdi>${displayText(input.client.redirectHost)}</bdi>.</p>
${input.signedInAs === undefined ? '' : `<p>Signed in as <bdi>${displayText(input.signedInAs)}</bdi>.</p>\n`}<dl>
<dt>Tenant</dt><dd><bdi>${escapeHtml(input.tenant)}</bdi></dd>
<dt>Device</dt><dd><bdi>${escapeHtml(input.device)}</bdi></dd>
<dt>It will be able to</dt><dd><ul>${scopes}</ul></dd>
${graphs}
</dl>
<form method="post" action="${escapeHtml(input.action)}">
${hidden('csrf', input.csrf)}
${input.code === undefined ? '' : `${hidden('code', input.code)}\n`}${input.ticket === undefined ? '' : `${hidden('ticket', input.ticket)}\n`}<div class="actions">
<button type="submit" name="decision" value="approve">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</div>
</form>
<p class="small">The gateway's operator can cut this device off at any time.</p>`;
  return { status: 200, html: htmlDocument('Allow access', body), headers: pageHeaders(input.formActionOrigins) };
}

export interface MessagePageInput {
  status: number;
  title: string;
  message: string;
  kind?: 'error' | 'done';
  /** Sent as Retry-After (for too many attempts). */
  retryAfterSeconds?: number;
}

/** A page that only tells the outcome: a refused code, an expired sign-in, a denial, success. */
export function messagePage(input: MessagePageInput): RenderedPage {
  const kind = input.kind ?? 'error';
  const body = `<h1>${escapeHtml(input.title)}</h1>
<p>${escapeHtml(input.message)}</p>`;
  const headers = pageHeaders();
  if (input.retryAfterSeconds !== undefined) headers['Retry-After'] = String(Math.max(1, Math.ceil(input.retryAfterSeconds)));
  return { status: input.status, html: htmlDocument(input.title, body, `kind-${kind}`), headers };
}

/** The outcome pages of the sign-in, worded once: `messagePage(PAGE_MESSAGES.codeExpired)`. */
export const PAGE_MESSAGES = Object.freeze({
  codeInvalid: { status: 400, kind: 'error', title: 'This enrolment code is not valid', message: 'Check the code and try again, or ask the person who runs the gateway for a new one.' },
  codeExpired: { status: 400, kind: 'error', title: 'This enrolment code has expired', message: 'Enrolment codes work for a few minutes only. Ask the person who runs the gateway for a new one, then add the connector again.' },
  codeUsed: { status: 400, kind: 'error', title: 'This enrolment code was already used', message: 'Each enrolment code works once. Ask the person who runs the gateway for a new one, then add the connector again.' },
  tooManyAttempts: { status: 429, kind: 'error', title: 'Too many attempts', message: 'Too many codes were tried from your address. Wait a few minutes, then add the connector again.' },
  signInExpired: { status: 400, kind: 'error', title: 'This sign-in has expired', message: 'Start again from the app you were connecting: add the connector again.' },
  denied: { status: 403, kind: 'error', title: 'Access not allowed', message: 'You chose not to connect the app. Nothing was granted; you can close this window.' },
  done: { status: 200, kind: 'done', title: 'Connected', message: 'The app is connected. You can close this window and go back to it.' },
} as const satisfies Record<string, MessagePageInput>);
