// The sign-in pages in a real Chromium at phone and desktop size: the CSP holds
// (nothing blocked, nothing loaded from elsewhere, no framing), the layout fits
// a phone, the controls are labelled and show focus, hostile values stay text,
// and the consent form's answer can redirect to the client. Writes a screenshot
// of every page to test-output/screenshots/ for review (a few also in dark mode).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { PAGE_MESSAGES, consentPage, enrolPage, messagePage, type RenderedPage } from '../src/oauth/pages.js';
import { launchBrowser, newPage, screenshot, type Device } from './support/browser.js';

const DEVICES: readonly Device[] = ['phone', 'desktop'];
const client = { name: 'Claude', redirectHost: 'claude.ai' };
const HOSTILE = `<script>alert("x")</script>'"&amp;<img src=x onerror=alert(1)><b>bold</b> Zoë 🚀`;
const LONG = 'a-very-long-graph-name-pattern-without-any-spaces-'.repeat(4);
// No break opportunity at all: only overflow-wrap keeps it inside a phone's width.
const UNBROKEN = 'g'.repeat(150);

interface Site {
  origin: string;
  server: Server;
  /** Bodies of the form posts received, in order. */
  posts: URLSearchParams[];
  /** Paths fetched, in order. */
  gets: string[];
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

async function startSite(handler: Handler): Promise<Site> {
  const site: Site = { origin: '', server: createServer(), posts: [], gets: [] };
  site.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.method === 'POST') site.posts.push(new URLSearchParams(body));
      else site.gets.push(req.url ?? '');
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => site.server.listen(0, '127.0.0.1', resolve));
  site.origin = `http://127.0.0.1:${(site.server.address() as AddressInfo).port}`;
  return site;
}

function send(res: ServerResponse, page: RenderedPage): void {
  res.writeHead(page.status, page.headers);
  res.end(page.html);
}

// Record CSP violations from the first moment of each document; Playwright's
// init scripts run outside the page's CSP, so the policy cannot hide them.
const WATCH_VIOLATIONS = `
  window.__violations = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
`;

interface Watched {
  page: Page;
  problems: string[];
  requests: string[];
  dialogs: string[];
}

async function watchedPage(browser: Browser, device: Device): Promise<Watched> {
  const page = await newPage(browser, device);
  page.setDefaultTimeout(60_000);
  const watched: Watched = { page, problems: [], requests: [], dialogs: [] };
  await page.addInitScript(WATCH_VIOLATIONS);
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return;
    // Chromium logs every document answered with 4xx; for the outcome pages that status is the point.
    const ownStatus = m.text().startsWith('Failed to load resource: the server responded with a status of') && m.location().url === page.url();
    if (!ownStatus) watched.problems.push(`console ${m.type()}: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => watched.problems.push(`page error: ${e.message}`));
  page.on('request', (r) => watched.requests.push(r.url()));
  page.on('dialog', (d) => {
    watched.dialogs.push(d.message());
    void d.dismiss();
  });
  return watched;
}

async function violations(page: Page): Promise<string[]> {
  return page.evaluate('window.__violations ?? []') as Promise<string[]>;
}

// Every element with its own text (and each text input) whose colour is under
// 4.5:1 against the background it sits on (the nearest opaque one).
const MAIN_MAX_WIDTH = "getComputedStyle(document.querySelector('main')).maxWidth";

// Facts about each control a person uses (not the hidden fields).
const CONTROLS = `[...document.querySelectorAll('input:not([type=hidden]), button, a[href]')].map((el) => ({
  tag: el.tagName,
  labels: el.labels ? el.labels.length : 0,
  font: parseFloat(getComputedStyle(el).fontSize),
  height: el.getBoundingClientRect().height,
}))`;

const LOW_CONTRAST = `(() => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const bad = [];
  for (const el of document.querySelectorAll('body *')) {
    const ownText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() !== '');
    if (!ownText && !el.matches('input[type=text]')) continue;
    const fg = lum(rgb(getComputedStyle(el).color));
    const bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < 4.5) bad.push(el.tagName + '.' + el.className + ' ' + ratio.toFixed(2));
  }
  return bad;
})()`;

describe('sign-in pages in Chromium', () => {
  let browser: Browser;
  let gateway: Site;
  let app: Site;
  const pages = new Map<string, () => RenderedPage>();

  before(async () => {
    browser = await launchBrowser();
    // The app's redirect URI: a second origin, as claude.ai is to the gateway.
    app = await startSite((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('back at the app');
    });
    gateway = await startSite((req, res, body) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'POST') {
        const form = new URLSearchParams(body);
        // After the consent form the authorization server redirects to the client's redirect URI.
        const to = url.pathname === '/confirm' ? `${app.origin}/callback?decision=${form.get('decision') ?? ''}` : '/consent';
        res.writeHead(303, { Location: to }).end();
        return;
      }
      const render = pages.get(url.pathname.slice(1));
      if (render === undefined) {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
        return;
      }
      send(res, render());
    });
    const origins = [`${app.origin}/callback`];
    pages.set('enrol', () => enrolPage({ action: '/enrol', csrf: 'csrf-token-1', client }));
    pages.set('enrol-error', () => enrolPage({ action: '/enrol', csrf: 'csrf-token-1', client, code: 'ABCD-12O4', error: 'That enrolment code is not valid. Check it and try again.' }));
    pages.set('consent', () => consentPage({ action: '/confirm', csrf: 'csrf-token-2', client, tenant: 'acme', device: 'phone', scopes: ['read', 'write'], code: 'ABCD-1234', formActionOrigins: origins }));
    pages.set('consent-graphs', () => consentPage({ action: '/confirm', csrf: 'csrf-token-2', client, tenant: 'acme', device: 'phone', scopes: ['read', 'write', 'admin'], graphs: ['sales-*', 'crm', LONG], code: 'ABCD-1234', formActionOrigins: origins }));
    pages.set('consent-no-redirect-origin', () => consentPage({ action: '/confirm', csrf: 'csrf-token-2', client, tenant: 'acme', device: 'phone', scopes: ['read'], code: 'ABCD-1234' }));
    pages.set('enrol-upstream', () => enrolPage({ action: '/enrol', csrf: 'csrf-token-1', client, upstream: { name: 'Acme SSO', href: '/sign-in' } }));
    pages.set('consent-upstream', () => consentPage({ action: '/confirm', csrf: 'csrf-token-2', client, tenant: 'acme', device: 'claude-alice@acme.com', scopes: ['read', 'write'], ticket: 'ticket-1', signedInAs: 'alice@acme.com at Acme SSO', formActionOrigins: origins }));
    pages.set('enrol-hostile', () => enrolPage({ action: '/enrol', csrf: HOSTILE, client: { name: `${HOSTILE}${UNBROKEN}`, redirectHost: UNBROKEN }, error: `${HOSTILE}${UNBROKEN}`, code: HOSTILE }));
    pages.set('enrol-upstream-hostile', () => enrolPage({ action: '/enrol', csrf: HOSTILE, client, upstream: { name: `${HOSTILE}${UNBROKEN}`, href: `/sign-in?x=${HOSTILE}` }, code: HOSTILE }));
    pages.set('consent-hostile', () => consentPage({ action: '/confirm', csrf: HOSTILE, client: { name: `${HOSTILE}${LONG}`, redirectHost: LONG }, tenant: HOSTILE, device: `${HOSTILE}${LONG}`, scopes: ['read', HOSTILE], graphs: [HOSTILE, LONG, UNBROKEN], code: HOSTILE, formActionOrigins: origins }));
    for (const [name, preset] of Object.entries(PAGE_MESSAGES)) {
      pages.set(`message-${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, () => messagePage(preset));
    }
    // A page whose style does not match the hash its CSP allows: the checks below must notice.
    pages.set('tampered-style', () => {
      const page = messagePage(PAGE_MESSAGES.done);
      return { ...page, html: page.html.replace('<style>', '<style>h1{color:red}') };
    });
  });

  after(async () => {
    await browser?.close();
    for (const site of [gateway, app]) await new Promise((resolve) => site?.server.close(resolve));
  });

  const reviewed = ['enrol', 'enrol-error', 'enrol-upstream', 'consent', 'consent-graphs', 'consent-upstream', 'enrol-hostile', 'enrol-upstream-hostile', 'consent-hostile', ...Object.keys(PAGE_MESSAGES).map((n) => `message-${n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`)];
  for (const name of reviewed) {
    for (const device of DEVICES) {
      describe(`${name} on a ${device}`, () => {
        let w: Watched;
        let headers: Record<string, string>;
        const width = device === 'phone' ? 390 : 1280;

        before(async () => {
          w = await watchedPage(browser, device);
          const response = await w.page.goto(`${gateway.origin}/${name}`, { waitUntil: 'load' });
          assert.ok(response !== null);
          headers = response.headers();
          await screenshot(w.page, name);
        });
        after(async () => {
          await w?.page.close();
        });

        it('loads with no CSP violation, console error or script dialog', async () => {
          assert.deepEqual(await violations(w.page), []);
          assert.deepEqual(w.problems, []);
          assert.deepEqual(w.dialogs, []);
        });

        it('applies its own style (the CSP hash matches it)', async () => {
          assert.equal(await w.page.evaluate(MAIN_MAX_WIDTH), '480px');
        });

        it("sends a CSP with frame-ancestors 'none', no-store and DENY", () => {
          assert.match(headers['content-security-policy'] ?? '', /(^|; )frame-ancestors 'none'(;|$)/);
          assert.match(headers['content-security-policy'] ?? '', /(^|; )default-src 'none'(;|$)/);
          assert.equal(headers['cache-control'], 'no-store');
          assert.equal(headers['x-frame-options'], 'DENY');
          assert.equal(headers['referrer-policy'], 'same-origin');
        });

        it('fetches nothing from anywhere but 127.0.0.1', () => {
          assert.ok(w.requests.length >= 1);
          for (const url of w.requests) assert.ok(url.startsWith('data:') || new URL(url).hostname === '127.0.0.1', url);
        });

        it(`does not scroll sideways at ${width}px`, async () => {
          const sizes = (await w.page.evaluate('[document.scrollingElement.scrollWidth, window.innerWidth]')) as [number, number];
          assert.ok(sizes[0] <= sizes[1] && sizes[0] <= width, `scrollWidth ${sizes[0]}, innerWidth ${sizes[1]}`);
        });

        it('is one <main> with one <h1>, in English, naming the product', async () => {
          assert.equal(await w.page.getByRole('main').count(), 1);
          assert.equal(await w.page.locator('h1').count(), 1);
          assert.equal(await w.page.locator('html').getAttribute('lang'), 'en');
          assert.match(await w.page.locator('main').innerText(), /FalkorDB MCP Gateway/);
        });

        it('keeps text contrast at 4.5:1 or more', async () => {
          assert.deepEqual(await w.page.evaluate(LOW_CONTRAST), []);
        });

        it('labels every input, with text of 16px or more and controls at least 44px tall', async () => {
          const controls = (await w.page.evaluate(CONTROLS)) as Array<{ tag: string; labels: number; font: number; height: number }>;
          for (const control of controls) {
            if (control.tag === 'INPUT') assert.ok(control.labels >= 1, 'input without a <label>');
            if (control.tag === 'A' && !name.includes('upstream')) assert.fail('a link on a page that offers none');
            assert.ok(control.font >= 16, `${control.tag} font ${control.font}px`);
            assert.ok(control.height >= 44, `${control.tag} height ${control.height}px`);
          }
          if (name.startsWith('enrol')) {
            const input = w.page.getByLabel('Enrolment code');
            assert.equal(await input.count(), 1);
            assert.equal(await input.getAttribute('name'), 'code');
          }
        });

        it('shows a focus outline on each control reached with Tab', async () => {
          const count = await w.page.locator('input:not([type=hidden]), button, a[href]').count();
          for (let i = 0; i < count; i += 1) {
            await w.page.keyboard.press('Tab');
            const outline = (await w.page.evaluate('(() => { const s = getComputedStyle(document.activeElement); return [document.activeElement.tagName, s.outlineStyle, parseFloat(s.outlineWidth)]; })()')) as [string, string, number];
            assert.notEqual(outline[0], 'BODY');
            assert.equal(outline[1], 'solid', outline.join(' '));
            assert.ok(outline[2] >= 2, outline.join(' '));
          }
        });
      });
    }
  }

  describe('dark mode', () => {
    for (const name of ['enrol-error', 'enrol-upstream', 'consent-graphs', 'message-code-expired', 'message-done']) {
      it(`${name} follows a phone set to dark, with 4.5:1 contrast and a visible focus outline`, async () => {
        const w = await watchedPage(browser, 'phone');
        try {
          await w.page.emulateMedia({ colorScheme: 'dark' });
          await w.page.goto(`${gateway.origin}/${name}`);
          await screenshot(w.page, `${name}-dark`);
          assert.equal(await w.page.evaluate("getComputedStyle(document.body).backgroundColor"), 'rgb(17, 20, 24)');
          assert.deepEqual(await w.page.evaluate(LOW_CONTRAST), []);
          const count = await w.page.locator('input:not([type=hidden]), button, a[href]').count();
          for (let i = 0; i < count; i += 1) {
            await w.page.keyboard.press('Tab');
            assert.equal(await w.page.evaluate('getComputedStyle(document.activeElement).outlineColor'), 'rgb(255, 179, 122)');
          }
          assert.deepEqual(await violations(w.page), []);
        } finally {
          await w.page.close();
        }
      });
    }
  });

  describe('hostile values', () => {
    for (const name of ['enrol-hostile', 'enrol-upstream-hostile', 'consent-hostile']) {
      it(`${name} shows them as text and keeps them exactly in its form`, async () => {
        const w = await watchedPage(browser, 'phone');
        try {
          await w.page.goto(`${gateway.origin}/${name}`);
          assert.equal(await w.page.locator('script, img, b, iframe, object').count(), 0);
          assert.ok((await w.page.locator('main').innerText()).includes(HOSTILE));
          assert.equal(await w.page.locator('input[name=csrf]').inputValue(), HOSTILE);
          const code = w.page.locator(name.startsWith('enrol') ? '#code' : 'input[name=code]');
          assert.equal(await code.inputValue(), HOSTILE);
          assert.deepEqual(w.dialogs, []);
        } finally {
          await w.page.close();
        }
      });
    }

    it('posts them back byte for byte', async () => {
      const w = await watchedPage(browser, 'desktop');
      try {
        await w.page.goto(`${gateway.origin}/consent-hostile`);
        const before = gateway.posts.length;
        await Promise.all([w.page.waitForURL(`${app.origin}/callback?**`), w.page.getByRole('button', { name: 'Deny' }).click()]);
        const form = gateway.posts[before];
        assert.equal(form?.get('csrf'), HOSTILE);
        assert.equal(form?.get('code'), HOSTILE);
        assert.equal(form?.get('decision'), 'deny');
      } finally {
        await w.page.close();
      }
    });
  });

  describe('forms', () => {
    it('the enrolment form sends the typed code and the CSRF token when Enter is pressed', async () => {
      const w = await watchedPage(browser, 'phone');
      try {
        await w.page.goto(`${gateway.origin}/enrol`);
        const before = gateway.posts.length;
        await w.page.getByLabel('Enrolment code').fill('WXYZ-9876');
        await Promise.all([w.page.waitForURL(`${gateway.origin}/consent`), w.page.keyboard.press('Enter')]);
        assert.equal(gateway.posts[before]?.get('code'), 'WXYZ-9876');
        assert.equal(gateway.posts[before]?.get('csrf'), 'csrf-token-1');
        assert.deepEqual(await violations(w.page), []);
      } finally {
        await w.page.close();
      }
    });

    it('ties the error to the code input as its description', async () => {
      const w = await watchedPage(browser, 'phone');
      try {
        await w.page.goto(`${gateway.origin}/enrol-error`);
        const alert = w.page.getByRole('alert');
        assert.equal(await alert.innerText(), 'That enrolment code is not valid. Check it and try again.');
        const input = w.page.getByLabel('Enrolment code');
        const described = (await input.getAttribute('aria-describedby'))?.split(' ') ?? [];
        assert.ok(described.includes((await alert.getAttribute('id')) ?? '(no id)'));
        assert.equal(await input.getAttribute('aria-invalid'), 'true');
        assert.equal(await input.inputValue(), 'ABCD-12O4');
      } finally {
        await w.page.close();
      }
    });

    for (const [button, decision] of [['Allow', 'approve'], ['Deny', 'deny']] as const) {
      it(`${button} posts decision=${decision} with the CSRF token and code, and the redirect to the app is allowed`, async () => {
        const w = await watchedPage(browser, 'phone');
        try {
          await w.page.goto(`${gateway.origin}/consent`);
          const before = gateway.posts.length;
          await Promise.all([w.page.waitForURL(`${app.origin}/callback?decision=${decision}`), w.page.getByRole('button', { name: button }).click()]);
          const form = gateway.posts[before];
          assert.deepEqual(form && Object.fromEntries(form), { csrf: 'csrf-token-2', code: 'ABCD-1234', decision });
          assert.equal(await w.page.locator('body').innerText(), 'back at the app');
          assert.deepEqual(w.problems, []);
        } finally {
          await w.page.close();
        }
      });
    }

    it('the consent after a provider sign-in posts its ticket and no code, and the redirect to the app is allowed', async () => {
      const w = await watchedPage(browser, 'phone');
      try {
        await w.page.goto(`${gateway.origin}/consent-upstream`);
        assert.match(await w.page.locator('main').innerText(), /Signed in as alice@acme\.com at Acme SSO/);
        const before = gateway.posts.length;
        await Promise.all([w.page.waitForURL(`${app.origin}/callback?decision=approve`), w.page.getByRole('button', { name: 'Allow' }).click()]);
        assert.deepEqual(Object.fromEntries(gateway.posts[before] ?? []), { csrf: 'csrf-token-2', ticket: 'ticket-1', decision: 'approve' });
      } finally {
        await w.page.close();
      }
    });

    it("without the app's origin in form-action, Chromium blocks the redirect after the POST (why consentPage takes formActionOrigins)", async () => {
      const w = await watchedPage(browser, 'phone');
      try {
        await w.page.goto(`${gateway.origin}/consent-no-redirect-origin`);
        const before = app.gets.length;
        await w.page.getByRole('button', { name: 'Allow' }).click();
        await w.page.waitForFunction('window.__violations.length > 0');
        assert.match((await violations(w.page)).join('\n'), /form-action/);
        assert.equal(app.gets.length, before);
      } finally {
        await w.page.close();
      }
    });
  });

  describe('the checks themselves', () => {
    it('notice a style the CSP does not allow', async () => {
      const w = await watchedPage(browser, 'desktop');
      try {
        await w.page.goto(`${gateway.origin}/tampered-style`);
        assert.match((await violations(w.page)).join('\n'), /style-src/);
        assert.notEqual(await w.page.evaluate(MAIN_MAX_WIDTH), '480px');
      } finally {
        await w.page.close();
      }
    });

    it('a page of another origin cannot frame the sign-in pages', async () => {
      const w = await watchedPage(browser, 'desktop');
      const framer = await startSite((_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end(`<!doctype html><title>framer</title><iframe src="${gateway.origin}/enrol"></iframe>`);
      });
      try {
        const refused = w.page.waitForEvent('console', (m) => /frame-ancestors/.test(m.text()));
        await w.page.goto(`${framer.origin}/`, { waitUntil: 'load' });
        assert.match((await refused).text(), /violates .*"frame-ancestors 'none'". The request has been blocked/);
        const frame = w.page.frames().find((f) => f !== w.page.mainFrame());
        assert.ok(frame !== undefined);
        const shown = await frame.evaluate('document.body ? document.body.innerText : ""').catch(() => '');
        assert.doesNotMatch(String(shown), /Enrolment code/);
      } finally {
        await w.page.close();
        await new Promise((resolve) => framer.server.close(resolve));
      }
    });
  });
});
