// The pages as a new user meets them, in real headless Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, login, axe, ADMIN_PW, MEMBER_PW, SHOTS } from './harness.js';

let app;
before(async () => { app = await startServer(); });
after(async () => { await app?.stop(); });

const shot = (page, name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

test('log in and land on the demo workspace', async () => {
  const page = await app.page('en');
  await page.goto(app.base + '/w/demo');
  assert.match(new URL(page.url()).pathname, /^\/login/);
  const submit = async (pw) => {
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(pw);
    await page.getByRole('button', { name: 'Log in' }).click();
  };
  await submit('wrong-password');
  await assert.doesNotReject(page.getByRole('alert').waitFor());
  await shot(page, 'login-failed');
  await submit(ADMIN_PW);
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  assert.equal(new URL(page.url()).pathname, '/w/demo', 'back where the user was going');
  await assert.doesNotReject(page.getByRole('heading', { name: 'Demo: Rail company' }).waitFor());
  const stale = page.locator('section', { has: page.getByRole('heading', { name: /due for review/ }) });
  assert.ok((await stale.locator('tbody tr').count()) >= 3, 'demo has overdue reviews');
  await shot(page, 'home-en');
});

test('package diagram puts each element in the ring of its role', async () => {
  // Build a package with elements of all three roles (through the API), then look.
  const el = (slug, visible) => app.api('POST', '/api/v1/workspaces/demo/elements',
    { slug, name: { en: slug, fi: slug }, kind: 'service', customer_visible: visible, has_it_components: !visible });
  const core = await el('test-core', true), en = await el('test-enabling', false), co = await el('test-complementary', true);
  const pkg = await app.api('POST', '/api/v1/workspaces/demo/packages', {
    slug: 'test-package', name: { en: 'Test package' }, published: true,
    elements: [{ element_id: core.id, role: 'core' }, { element_id: en.id, role: 'enabling' }, { element_id: co.id, role: 'complementary' }],
  });
  const page = await app.page('en');
  await login(page, app.base, 'admin', ADMIN_PW);
  await page.goto(`${app.base}/w/demo/packages/${pkg.id}`);
  const rings = await page.$$eval('svg.package-diagram rect.el', (rs) => rs.map((r) => {
    const b = r.getBBox();
    return { role: r.dataset.role, ring: r.dataset.ring, dashed: r.hasAttribute('stroke-dasharray'),
             d: Math.hypot(b.x + b.width / 2 - 450, b.y + b.height / 2 - 450) };
  }));
  assert.equal(rings.length, 3);
  const by = Object.fromEntries(rings.map((r) => [r.role, r]));
  assert.ok(by.core.d < 150, `core in the centre (${by.core.d})`);
  assert.ok(by.enabling.d > 150 && by.enabling.d < 300, `enabling in the middle ring (${by.enabling.d})`);
  assert.ok(by.complementary.d > 300 && by.complementary.d < 440, `complementary in the outer ring (${by.complementary.d})`);
  assert.equal(by.enabling.dashed, true, 'hidden from the customer: dashed');
  assert.equal(by.core.dashed, false);
  assert.equal(await page.locator('svg.package-diagram text.el-it').count(), 1, 'IT components marked');
  await shot(page, 'package-test');
  const demo = await app.api('GET', '/api/v1/workspaces/demo/packages?q=henkiloliikenne');
  await page.goto(`${app.base}/w/demo/packages/${demo.items[0].id}`);
  await shot(page, 'package-henkiloliikenne');
  const svg = await page.request.get(`${app.base}/w/demo/packages/${demo.items[0].id}/diagram.svg`);
  assert.equal(svg.headers()['content-type'], 'image/svg+xml; charset=utf-8');
  assert.match(svg.headers()['content-disposition'], /attachment; filename="henkiloliikenne.svg"/);
});

test('blueprint separates the four lanes with the three lines', async () => {
  const seg = (await app.api('GET', '/api/v1/workspaces/demo/segments?q=commuter')).items[0];
  const j = await app.api('POST', '/api/v1/workspaces/demo/journeys', { slug: 'test-journey', name: { en: 'Test journey' }, segment_id: seg.id });
  const lanes = ['customer_action', 'frontstage', 'backstage', 'support_process'];
  const tps = [];
  for (const [k, s] of ['one', 'two', 'three'].entries()) {
    const stage = await app.api('POST', '/api/v1/workspaces/demo/stages', { slug: s, name: { en: `Stage ${s}` }, journey_id: j.id });
    for (const lane of (k === 0 ? lanes : [lanes[k]])) {
      tps.push(await app.api('POST', '/api/v1/workspaces/demo/touchpoints',
        { stage_id: stage.id, slug: `t-${s}-${lane.replace('_', '-')}`, name: { en: `${lane} ${s}` }, channel: 'web', lane }));
    }
  }
  await app.api('POST', '/api/v1/workspaces/demo/process-steps', { slug: 'test-step', name: { en: 'Test step' }, touchpoint_ids: [tps[1].id, tps[4].id] });
  const page = await app.page('en');
  await login(page, app.base, 'admin', ADMIN_PW);
  await page.goto(`${app.base}/w/demo/journeys/${j.id}/blueprint`);
  const lines = await page.$$eval('svg.blueprint line.bp-line', (ls) => ls.map((l) => [l.dataset.line, Number(l.getAttribute('y1'))]));
  assert.deepEqual(lines.map((l) => l[0]), ['interaction', 'visibility', 'internal-interaction']);
  const [yi, yv, yn] = lines.map((l) => l[1]);
  const boxes = await page.$$eval('svg.blueprint rect.touchpoint', (rs) => rs.map((r) => [r.dataset.lane, Number(r.getAttribute('y')), Number(r.getAttribute('height'))]));
  assert.equal(boxes.length, tps.length);
  for (const [lane, y, h] of boxes) {
    const band = { customer_action: [0, yi], frontstage: [yi, yv], backstage: [yv, yn], support_process: [yn, 1e9] }[lane];
    assert.ok(y > band[0] && y + h < band[1], `${lane} touchpoint between its lines`);
  }
  assert.equal(await page.locator('svg.blueprint line.bp-link').count(), 2, 'step linked to the touchpoints it serves');
  await shot(page, 'blueprint-test');
  const demoJourney = (await app.api('GET', '/api/v1/workspaces/demo/journeys?q=train-trip')).items[0];
  await page.goto(`${app.base}/w/demo/journeys/${demoJourney.id}/blueprint`);
  await shot(page, 'blueprint-train-trip');
  await page.goto(`${app.base}/w/demo/journeys/${demoJourney.id}`);
  assert.ok(await page.locator('svg.journey-map polyline.emotion-curve').count() === 1, 'emotion curve drawn');
  await shot(page, 'journey-map-train-trip');
});

test('switching the language shows Finnish', async () => {
  const page = await app.page('en');
  await login(page, app.base, 'admin', ADMIN_PW);
  await page.goto(app.base + '/w/demo');
  await page.getByRole('link', { name: 'Suomi' }).click();
  await assert.doesNotReject(page.getByRole('link', { name: 'Palvelukatalogi' }).waitFor());
  assert.equal(await page.getAttribute('html', 'lang'), 'fi');
  assert.equal(new URL(page.url()).pathname, '/w/demo', 'stays on the same page');
  await assert.doesNotReject(page.getByRole('heading', { name: 'Demo: Rautatieyhtiö' }).waitFor());
  await shot(page, 'home-fi');
  // Without a choice, the browser's language decides.
  const fi = await app.page('fi');
  await login(fi, app.base, 'admin', ADMIN_PW);
  await assert.doesNotReject(fi.getByRole('heading', { name: 'Työtilasi' }).waitFor());
});

test('a viewer sees no edit controls and cannot post anyway', async () => {
  const units = await app.api('GET', '/api/v1/workspaces/demo/units?q=customer-service');
  const unitUrl = `${app.base}/w/demo/units/${units.items[0].id}`;
  const editor = await app.page('en');
  await login(editor, app.base, 'editor', MEMBER_PW);
  await editor.goto(unitUrl);
  assert.ok(await editor.locator('button.edit').count() > 0, 'an editor sees "mark reviewed"');
  const viewer = await app.page('en');
  await login(viewer, app.base, 'viewer', MEMBER_PW);
  await viewer.goto(unitUrl);
  assert.equal(await viewer.locator('button.edit').count(), 0);
  assert.equal(await viewer.locator('main form').count(), 0);
  await shot(viewer, 'unit-viewer');
  const rel = (await app.api('GET', `/api/v1/workspaces/demo/relations?provider_unit_id=${units.items[0].id}`)).items[0];
  const csrf = await viewer.locator('input[name=_csrf]').first().inputValue();
  const r = await viewer.request.post(`${app.base}/w/demo/relations/${rel.id}/review`, { form: { _csrf: csrf, next: '/' }, maxRedirects: 0 });
  assert.equal(r.status(), 403);
  // The editor's click works.
  await editor.locator('button.edit').first().click();
  await assert.doesNotReject(editor.getByRole('status').waitFor());
});

test('forms without the CSRF token are refused', async () => {
  const page = await app.page('en');
  await login(page, app.base, 'admin', ADMIN_PW);
  const rel = (await app.api('GET', '/api/v1/workspaces/demo/relations?stale=true')).items[0];
  const r = await page.request.post(`${app.base}/w/demo/relations/${rel.id}/review`, { form: { next: '/' }, maxRedirects: 0 });
  assert.equal(r.status(), 403);
  const after = await app.api('GET', `/api/v1/workspaces/demo/relations/${rel.id}`);
  assert.equal(after.stale, true, 'nothing changed');
});

test('names with script payloads render as text and run nothing', async () => {
  const payloads = ['<script>window.__xss = 1</script>', '<img src=x onerror="window.__xss = 2">', '"><svg onload="window.__xss=3">'];
  const unit = await app.api('POST', '/api/v1/workspaces/demo/units', { slug: 'xss-unit', name: { en: payloads[0] }, description: { en: payloads[1] } });
  const el = await app.api('POST', '/api/v1/workspaces/demo/elements', { slug: 'xss-el', name: { en: payloads[2] }, kind: 'service', owner: { unit: unit.id } });
  const pkg = await app.api('POST', '/api/v1/workspaces/demo/packages', { slug: 'xss-pkg', name: { en: payloads[1] }, elements: [{ element_id: el.id, role: 'core' }] });
  const page = await app.page('en');
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await login(page, app.base, 'admin', ADMIN_PW);
  for (const path of [`/w/demo/units/${unit.id}`, `/w/demo/packages/${pkg.id}`, '/w/demo/packages', '/w/demo/units']) {
    await page.goto(app.base + path);
    assert.equal(await page.evaluate(() => window.__xss), undefined, path);
  }
  await page.goto(`${app.base}/w/demo/units/${unit.id}`);
  await assert.doesNotReject(page.getByRole('heading', { name: payloads[0] }).waitFor());
  await page.goto(`${app.base}/w/demo/packages/${pkg.id}`);
  assert.ok((await page.locator('svg.package-diagram').textContent()).includes(payloads[2].slice(0, 20)));
  assert.equal(errors.length, 0);
});

test('main pages have no serious accessibility violations and are keyboard-reachable', async () => {
  const page = await app.page('en');
  await page.goto(app.base + '/login');
  assert.deepEqual(await axe(page), [], 'login page');
  await login(page, app.base, 'admin', ADMIN_PW);
  const pkg = (await app.api('GET', '/api/v1/workspaces/demo/packages?q=henkiloliikenne')).items[0];
  const j = (await app.api('GET', '/api/v1/workspaces/demo/journeys?q=train-trip')).items[0];
  const unit = (await app.api('GET', '/api/v1/workspaces/demo/units?q=customer-service')).items[0];
  const pages = ['/', '/w/demo', '/w/demo/packages', `/w/demo/packages/${pkg.id}`, `/w/demo/journeys/${j.id}`,
    `/w/demo/journeys/${j.id}/blueprint`, '/w/demo/units', `/w/demo/units/${unit.id}`];
  for (const path of pages) {
    await page.goto(app.base + path);
    const v = await axe(page);
    assert.deepEqual(v.map((x) => `${x.id}: ${x.nodes.length}`), [], `${path}`);
    // Tab through the page: every link, button and field gets focus.
    const focusable = await page.$$eval('a[href], button, input:not([type=hidden]), select, textarea',
      (els) => els.filter((e) => e.offsetParent !== null || e.classList.contains('skip')).length);
    const seen = new Set();
    for (let k = 0; k < focusable + 2; k++) {
      await page.keyboard.press('Tab');
      seen.add(await page.evaluate(() => {
        const e = document.activeElement;
        return e && e !== document.body ? e.outerHTML.slice(0, 200) + [...document.querySelectorAll('*')].indexOf(e) : '';
      }));
    }
    seen.delete('');
    assert.ok(seen.size >= focusable, `${path}: ${seen.size} of ${focusable} controls reached by Tab`);
  }
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(app.base + `/w/demo/units/${unit.id}`);
  await shot(page, 'unit-phone');
});

test('page weight stays under 150 KB', async () => {
  const page = await app.page('en');
  await login(page, app.base, 'admin', ADMIN_PW);
  const j = (await app.api('GET', '/api/v1/workspaces/demo/journeys?q=train-trip')).items[0];
  for (const path of [`/w/demo/journeys/${j.id}`, `/w/demo/journeys/${j.id}/blueprint`, '/w/demo', '/w/demo/packages/1']) {
    await page.goto(app.base + path);
    // The document plus every stylesheet, script and image it refers to.
    const html = (await (await page.request.get(app.base + path)).body()).length;
    const assets = await page.$$eval('link[rel=stylesheet], script[src], img[src]', (els) => els.map((e) => e.href || e.src));
    let bytes = html;
    for (const a of assets) bytes += (await (await page.request.get(a)).body()).length;
    console.log(`page weight ${path}: ${bytes} bytes (HTML ${html}, ${assets.length} assets)`);
    assert.ok(bytes < 150 * 1024, `${path}: ${bytes} bytes`);
  }
});
