// The sign-in pages as text: escaping, the CSP and its style hash, the
// headers, and what each page says. test/oauth-pages.test.ts runs them in Chromium.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  PAGE_CSP,
  PAGE_MESSAGES,
  consentPage,
  displayText,
  enrolPage,
  escapeHtml,
  formActionSource,
  messagePage,
  pageCsp,
  type RenderedPage,
} from './pages.js';

const client = { name: 'Claude', redirectHost: 'claude.ai' };
const HOSTILE = `<script>alert("x")</script>'"&amp;<img src=x onerror=alert(1)>`;

describe('escapeHtml', () => {
  const cases: Array<[string, string]> = [
    ['<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    ['"quoted"', '&quot;quoted&quot;'],
    ["it's", 'it&#39;s'],
    ['a & b', 'a &amp; b'],
    ['&amp; stays visible as typed', '&amp;amp; stays visible as typed'],
    ['" onfocus="alert(1)', '&quot; onfocus=&quot;alert(1)'],
    ["' autofocus onfocus='x", '&#39; autofocus onfocus=&#39;x'],
    ['</textarea></style></title>', '&lt;/textarea&gt;&lt;/style&gt;&lt;/title&gt;'],
    ['<!-- -->', '&lt;!-- --&gt;'],
    ['', ''],
  ];
  for (const [raw, escaped] of cases) {
    it(`escapes ${JSON.stringify(raw)}`, () => {
      assert.equal(escapeHtml(raw), escaped);
    });
  }

  it('leaves unicode text as it is', () => {
    const text = 'Zoë 日本語 🚀 Ελληνικά עברית';
    assert.equal(escapeHtml(text), text);
  });

  it('leaves nothing that can open a tag, an entity or an attribute', () => {
    const out = escapeHtml(HOSTILE.repeat(3));
    assert.doesNotMatch(out, /[<>"']/);
    assert.doesNotMatch(out.replace(/&(amp|lt|gt|quot|#39);/g, ''), /&/);
  });
});

describe('displayText', () => {
  it('drops direction overrides that would show "\\u202Eedualc" as "claude"', () => {
    assert.equal(displayText('\u202Eedualc'), 'edualc');
    assert.equal(displayText('a\u2066b\u2069c\u200fd'), 'a b c d');
  });

  it('drops control characters and collapses whitespace', () => {
    assert.equal(displayText('My\u0000 app\n\t\u0085 x'), 'My app x');
  });

  it('cuts long names to 120 characters, counting code points', () => {
    const out = displayText('🚀'.repeat(500));
    assert.equal([...out].length, 120);
    assert.ok(out.endsWith('…'));
  });

  it('escapes what it keeps and names an empty name', () => {
    assert.equal(displayText('<b>x</b>'), '&lt;b&gt;x&lt;/b&gt;');
    assert.equal(displayText('\u202e \u0000'), '(unnamed)');
  });
});

describe('the Content-Security-Policy', () => {
  it('forbids everything but the page itself, its hashed style and posting to itself', () => {
    const directives = PAGE_CSP.split('; ');
    assert.deepEqual(directives.map((d) => d.split(' ')[0]), ['default-src', 'style-src', 'img-src', 'form-action', 'frame-ancestors', 'base-uri']);
    assert.ok(directives.includes("default-src 'none'"));
    assert.ok(directives.includes("frame-ancestors 'none'"));
    assert.ok(directives.includes("base-uri 'none'"));
    assert.ok(directives.includes("form-action 'self'"));
    assert.ok(directives.includes("img-src 'self' data:"));
    assert.doesNotMatch(PAGE_CSP, /unsafe|script-src|\*/);
  });

  it("allows exactly the page's <style> block by its sha256", () => {
    for (const page of [enrolPage({ action: '/a', csrf: 'c', client }), consentPage({ action: '/a', csrf: 'c', client, tenant: 't', device: 'd', scopes: ['read'], code: 'X' }), messagePage(PAGE_MESSAGES.done)]) {
      const styles = [...page.html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1] ?? '');
      assert.equal(styles.length, 1);
      const hash = createHash('sha256').update(styles[0] ?? '', 'utf8').digest('base64');
      assert.match(page.headers['Content-Security-Policy'] ?? '', new RegExp(`style-src 'sha256-${hash.replace(/[+/]/g, '\\$&')}'`));
    }
  });

  it("adds the client's redirect origins to form-action, once each", () => {
    const csp = pageCsp(['https://claude.ai/api/mcp/auth_callback', 'https://claude.ai/other', 'http://127.0.0.1:33418/oauth/callback', 'vscode://vscode.github-authentication/did-authenticate']);
    assert.match(csp, /form-action 'self' https:\/\/claude\.ai http:\/\/127\.0\.0\.1:33418 vscode:;/);
  });

  it('takes the scheme of a private-use redirect URI (RFC 8252), such as com.example.app:/cb', () => {
    assert.equal(formActionSource('com.example.app:/oauth2redirect'), 'com.example.app:');
    assert.equal(formActionSource('http://localhost:8080/callback?x=1'), 'http://localhost:8080');
  });

  it('refuses a form-action source that could add a directive or run script', () => {
    for (const bad of ["https://a.example; script-src 'unsafe-inline'", 'javascript:alert(1)', 'data:text/html,x', '/relative', "'unsafe-inline'", '']) {
      assert.throws(() => formActionSource(bad), TypeError, bad);
    }
    // The URL parser percent-encodes what it keeps, so what reaches the policy is an origin.
    assert.equal(formActionSource('https://a.example/; script-src *'), 'https://a.example');
  });
});

function assertLockedDown(page: RenderedPage): void {
  assert.equal(page.headers['Content-Type'], 'text/html; charset=utf-8');
  assert.equal(page.headers['Cache-Control'], 'no-store');
  assert.equal(page.headers['X-Frame-Options'], 'DENY');
  assert.equal(page.headers['Referrer-Policy'], 'same-origin');
  assert.match(page.headers['Content-Security-Policy'] ?? '', /frame-ancestors 'none'/);
  assert.doesNotMatch(page.html, /<script|javascript:|https?:\/\//i);
  // Escaped values hold no '<' or '"', so every match is a tag the page itself wrote, and
  // with its quoted attribute values blanked only the page's own attribute names remain.
  for (const [tag] of page.html.matchAll(/<[a-z][^>]*>/gi)) assert.doesNotMatch(tag.replace(/"[^"]*"/g, '""'), /\son[a-z]+=|^<img/i, tag);
  assert.match(page.html, /<html lang="en">/);
  assert.equal(page.html.match(/<h1[ >]/g)?.length, 1);
  assert.equal(page.html.match(/<main>/g)?.length, 1);
  assert.match(page.html, /FalkorDB MCP Gateway/);
}

describe('enrolPage', () => {
  it('asks for the code in a labelled field and posts it with the CSRF token', () => {
    const page = enrolPage({ action: '/interaction/abc/enrol', csrf: 'tok123', client });
    assertLockedDown(page);
    assert.equal(page.status, 200);
    assert.match(page.html, /<form method="post" action="\/interaction\/abc\/enrol">/);
    assert.match(page.html, /<input type="hidden" name="csrf" value="tok123">/);
    assert.match(page.html, /<label for="code">Enrolment code<\/label>/);
    const input = page.html.match(/<input type="text" id="code"[^>]*>/)?.[0] ?? '';
    for (const attr of ['name="code"', 'autocomplete="off"', 'autocapitalize="characters"', 'inputmode="text"', 'aria-describedby="code-hint"']) assert.ok(input.includes(attr), attr);
    assert.match(page.html, /<button type="submit">Continue<\/button>/);
    assert.match(page.html, /Claude<\/bdi> <span class="host">\(<bdi>claude\.ai<\/bdi>\)/);
    assert.doesNotMatch(page.html, /role="alert"/);
  });

  it('answers 400 with the error in an alert tied to the input, keeping what was typed', () => {
    const page = enrolPage({ action: '/a', csrf: 'c', client, error: 'That code is not valid.', code: 'ABCD-1234' });
    assert.equal(page.status, 400);
    assert.match(page.html, /<p class="alert" id="code-error" role="alert">That code is not valid\.<\/p>/);
    assert.match(page.html, /aria-describedby="code-hint code-error" aria-invalid="true"/);
    assert.match(page.html, /value="ABCD-1234"/);
  });

  it('escapes every value it shows or keeps', () => {
    const page = enrolPage({ action: `/a?x="${HOSTILE}`, csrf: HOSTILE, client: { name: HOSTILE, redirectHost: HOSTILE }, error: HOSTILE, code: HOSTILE });
    assertLockedDown(page);
    assert.ok(page.html.includes(`value="${escapeHtml(HOSTILE)}"`));
    assert.ok(!page.html.includes('<img'));
  });
});

describe('consentPage', () => {
  const base = { action: '/interaction/abc/confirm', csrf: 'tok', client, tenant: 'acme', device: 'phone', code: 'ABCD-1234' };

  it('says what is granted in plain words', () => {
    const page = consentPage({ ...base, scopes: ['read', 'write', 'admin'] });
    assertLockedDown(page);
    assert.equal(page.status, 200);
    assert.match(page.html, /<dt>Tenant<\/dt><dd><bdi>acme<\/bdi><\/dd>/);
    assert.match(page.html, /<dt>Device<\/dt><dd><bdi>phone<\/bdi><\/dd>/);
    assert.match(page.html, /<li>read your graphs<\/li><li>change your graphs<\/li><li>delete graphs<\/li>/);
    assert.match(page.html, /every graph of <bdi>acme<\/bdi>/);
  });

  it('lists the graph patterns when the grant is limited to some', () => {
    const page = consentPage({ ...base, scopes: ['read'], graphs: ['sales-*', 'crm'] });
    assert.match(page.html, /only graphs matching:<ul><li><code>sales-\*<\/code><\/li><li><code>crm<\/code><\/li><\/ul>/);
    assert.doesNotMatch(page.html, /every graph/);
  });

  it('shows an unknown scope as it is, escaped', () => {
    const page = consentPage({ ...base, scopes: ['read', '<x>'] });
    assert.match(page.html, /<li><code>&lt;x&gt;<\/code><\/li>/);
  });

  it('posts approve or deny from one form with the CSRF token and the code', () => {
    const page = consentPage({ ...base, scopes: ['read'] });
    const forms = page.html.match(/<form[\s\S]*?<\/form>/g) ?? [];
    assert.equal(forms.length, 1);
    const form = forms[0] ?? '';
    assert.match(form, /<input type="hidden" name="csrf" value="tok">/);
    assert.match(form, /<input type="hidden" name="code" value="ABCD-1234">/);
    assert.match(form, /<button type="submit" name="decision" value="approve">Allow<\/button>/);
    assert.match(form, /<button type="submit" name="decision" value="deny" class="secondary">Deny<\/button>/);
  });

  it("lets the form's answer redirect to the client", () => {
    const page = consentPage({ ...base, scopes: ['read'], formActionOrigins: ['https://claude.ai/api/mcp/auth_callback'] });
    assert.match(page.headers['Content-Security-Policy'] ?? '', /form-action 'self' https:\/\/claude\.ai;/);
  });

  it('escapes every value it shows or keeps', () => {
    const page = consentPage({ ...base, csrf: HOSTILE, client: { name: HOSTILE, redirectHost: HOSTILE }, tenant: HOSTILE, device: HOSTILE, scopes: [HOSTILE], graphs: [HOSTILE], code: HOSTILE });
    assertLockedDown(page);
    assert.ok(page.html.includes(`name="code" value="${escapeHtml(HOSTILE)}"`));
    assert.ok(!page.html.includes('<img'));
  });
});

describe('messagePage', () => {
  it('shows the title and message with the given status', () => {
    const page = messagePage({ status: 410, title: 'Gone', message: 'Start again.' });
    assertLockedDown(page);
    assert.equal(page.status, 410);
    assert.match(page.html, /<body class="kind-error">/);
    assert.match(page.html, /<h1>Gone<\/h1>\n<p>Start again\.<\/p>/);
    assert.match(page.html, /<title>Gone · FalkorDB MCP Gateway<\/title>/);
  });

  it('sends Retry-After when asked', () => {
    assert.equal(messagePage({ ...PAGE_MESSAGES.tooManyAttempts, retryAfterSeconds: 59.2 }).headers['Retry-After'], '60');
    assert.equal(messagePage(PAGE_MESSAGES.tooManyAttempts).headers['Retry-After'], undefined);
  });

  it('escapes the title and message', () => {
    const page = messagePage({ status: 400, title: HOSTILE, message: HOSTILE, kind: 'done' });
    assertLockedDown(page);
    assert.match(page.html, /<body class="kind-done">/);
  });

  for (const [name, preset] of Object.entries(PAGE_MESSAGES)) {
    it(`words the ${name} outcome with a status and what to do`, () => {
      const page = messagePage(preset);
      assert.equal(page.status, preset.status);
      assert.ok(preset.message.length > 20);
      assertLockedDown(page);
    });
  }
});
