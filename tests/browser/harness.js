// Starts a real `kohtaamo serve --demo` on a free port over a fresh SQLite data dir,
// prepares an editor and a viewer, and launches Debian's Chromium via playwright-core.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, '../..');
export const BIN = process.env.KOHTAAMO_BIN || join(ROOT, 'target/debug/kohtaamo');
export const SHOTS = join(ROOT, 'target/screenshots');
export const ADMIN_PW = 'browser-admin-password';
export const MEMBER_PW = 'browser-member-password';

export async function startServer(env = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'kohtaamo-browser-'));
  mkdirSync(SHOTS, { recursive: true });
  const proc = spawn(BIN, ['--data-dir', dir, 'serve', '--demo', '--bind', '127.0.0.1:0'], {
    env: { ...process.env, KOHTAAMO_ADMIN_PASSWORD: ADMIN_PW, KOHTAAMO_LOG: 'warn',
           KOHTAAMO_LOGIN_PER_MINUTE_ACCOUNT: '1000', KOHTAAMO_LOGIN_PER_MINUTE_IP: '1000', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const base = await new Promise((ok, fail) => {
    let buf = '';
    proc.stdout.on('data', (d) => {
      buf += d;
      const m = buf.match(/Kohtaamo is running at (http:\/\/[^\s/]+)/);
      if (m) ok(m[1]);
    });
    proc.on('exit', (c) => fail(new Error(`server exited with ${c}`)));
  });
  const cli = (...args) => execFileSync(BIN, ['--data-dir', dir, ...args], { env: { ...process.env, KOHTAAMO_LOG: 'warn' } }).toString().trim();
  const token = cli('token', 'create', '--user', 'admin');
  const api = async (method, path, body) => {
    const r = await fetch(base + path, {
      method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  for (const [name, role] of [['editor', 'editor'], ['viewer', 'viewer']]) {
    await api('POST', '/api/v1/users', { username: name, password: MEMBER_PW });
    await api('PUT', `/api/v1/workspaces/demo/members/${name}`, { role });
  }
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
           '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
  return {
    base, api, browser,
    async page(lang = 'en') {
      const ctx = await browser.newContext({ locale: lang, extraHTTPHeaders: { 'accept-language': lang } });
      return ctx.newPage();
    },
    async stop() { await browser.close(); proc.kill('SIGTERM'); },
  };
}

export async function login(page, base, username, password) {
  await page.goto(base + '/login');
  await page.getByLabel(/username|käyttäjätunnus/i).fill(username);
  await page.getByLabel(/^(password|salasana)$/i).fill(password);
  await page.getByRole('button', { name: /log in|kirjaudu/i }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}

/// Runs axe-core in the page; returns serious and critical violations.
export async function axe(page) {
  // Evaluated through the debugging protocol, which the pages' CSP does not govern
  // (an injected <script> tag would be refused, and reported as a violation).
  const hasAxe = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!hasAxe) {
    const { readFileSync } = await import('node:fs');
    await page.evaluate(readFileSync(join(here, 'node_modules/axe-core/axe.min.js'), 'utf8'));
  }
  const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
