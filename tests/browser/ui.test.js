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

async function fillForm(page, fields) {
  for (const [label, value] of fields) {
    // "Group/Label" picks a field inside a fieldset, e.g. "Name/English".
    const [group, inner] = label.includes('/') && !label.includes('0–9') ? label.split('/') : [null, label];
    const el = group ? page.getByRole('group', { name: group, exact: true }).getByLabel(inner, { exact: true }) : page.getByLabel(inner, { exact: true });
    const tag = await el.evaluate((e) => e.tagName + (e.type ? ':' + e.type : ''));
    if (tag === 'SELECT:select-one') await el.selectOption({ label: value });
    else if (tag === 'INPUT:checkbox') { if (value) await el.check(); else await el.uncheck(); }
    else await el.fill(String(value));
  }
  await page.getByRole('button', { name: 'Save' }).click();
}

test('build a service package in the forms and see each element in the ring of its role', async () => {
  const page = await app.page('en');
  await login(page, app.base, 'editor', MEMBER_PW);
  await page.goto(app.base + '/w/demo');
  await page.getByRole('link', { name: 'Edit the model' }).click();
  await page.getByRole('link', { name: 'Package elements' }).click();
  for (const [slug, name, visible] of [['form-core', 'Form core', true], ['form-enabling', 'Form enabling', false], ['form-complementary', 'Form complementary', true]]) {
    await page.getByRole('link', { name: 'Add new' }).click();
    await fillForm(page, [['Identifier (a–z, 0–9, hyphens)', slug], ['Name/English', name], ['Kind', 'Service'], ['Visible to the customer', visible], ['IT components', !visible]]);
    await page.waitForURL(/\/edit\/elements$/);
  }
  await page.getByRole('link', { name: 'Service packages' }).click();
  await page.getByRole('link', { name: 'Add new' }).click();
  await shot(page, 'form-new-package');
  await fillForm(page, [['Identifier (a–z, 0–9, hyphens)', 'form-package'], ['Name/English', 'Form package'], ['Published', true],
    ['Form core', 'Core'], ['Form enabling', 'Enabling'], ['Form complementary', 'Complementary']]);
  await page.waitForURL(/\/edit\/packages$/);
  await page.getByRole('link', { name: 'Service catalogue' }).click();
  await page.getByRole('link', { name: 'Form package' }).click();
  // Each box lies wholly inside the ring of its role: every corner within the ring's
  // outer circle, its nearest point outside the inner one.
  const inRings = () => page.$$eval('svg.package-diagram', (svgs) => {
    const svg = svgs[0];
    const c = Number(svg.getAttribute('width')) / 2;
    const ring = {};
    for (const circle of svg.querySelectorAll('circle.ring')) {
      const [, role, inner, outer] = circle.getAttribute('class').match(/ring-(\w+) r-(\d+)-(\d+)/);
      ring[role] = [Number(inner), Number(outer)];
    }
    return [...svg.querySelectorAll('rect.el')].map((r) => {
      const b = r.getBBox();
      const far = Math.max(...[[b.x, b.y], [b.x + b.width, b.y], [b.x, b.y + b.height], [b.x + b.width, b.y + b.height]]
        .map(([x, y]) => Math.hypot(x - c, y - c)));
      const nx = Math.max(Math.abs(b.x + b.width / 2 - c) - b.width / 2, 0);
      const ny = Math.max(Math.abs(b.y + b.height / 2 - c) - b.height / 2, 0);
      const [inner, outer] = ring[r.dataset.role];
      return { role: r.dataset.role, dashed: r.hasAttribute('stroke-dasharray'), inside: far <= outer && Math.hypot(nx, ny) >= inner,
               d: Math.hypot(b.x + b.width / 2 - c, b.y + b.height / 2 - c), inner, outer };
    });
  });
  const rings = await inRings();
  assert.equal(rings.length, 3);
  const by = Object.fromEntries(rings.map((r) => [r.role, r]));
  for (const r of rings) assert.ok(r.inside, `${r.role} wholly inside its ring (${JSON.stringify(r)})`);
  assert.ok(by.core.d < by.enabling.d && by.enabling.d < by.complementary.d, 'rings in order');
  assert.equal(by.enabling.dashed, true, 'hidden from the customer: dashed');
  assert.equal(by.core.dashed, false);
  assert.equal(await page.locator('svg.package-diagram text.el-it').count(), 1, 'IT components marked');
  await shot(page, 'package-form-built');
  // The demo's package too: no box across a ring's border, no label cut.
  const demoPkg = (await app.api('GET', '/api/v1/workspaces/demo/packages?q=henkiloliikenne')).items[0];
  await page.goto(`${app.base}/w/demo/packages/${demoPkg.id}`);
  for (const r of await inRings()) assert.ok(r.inside, `demo: ${r.role} inside its ring`);
  assert.equal(await page.locator('svg.package-diagram text.el-name', { hasText: '…' }).count(), 0, 'no name cut short');
  const demo = await app.api('GET', '/api/v1/workspaces/demo/packages?q=henkiloliikenne');
  await page.goto(`${app.base}/w/demo/packages/${demo.items[0].id}`);
  await shot(page, 'package-henkiloliikenne');
  const svg = await page.request.get(`${app.base}/w/demo/packages/${demo.items[0].id}/diagram.svg`);
  assert.equal(svg.headers()['content-type'], 'image/svg+xml; charset=utf-8');
  assert.match(svg.headers()['content-disposition'], /attachment; filename="henkiloliikenne.svg"/);
});

test('build a journey in the forms and see the blueprint lines', async () => {
  const page = await app.page('en');
  await login(page, app.base, 'editor', MEMBER_PW);
  await page.goto(app.base + '/w/demo/edit/journeys/new');
  await fillForm(page, [['Identifier (a–z, 0–9, hyphens)', 'form-journey'], ['Name/English', 'Form journey'], ['Customer segment', 'Commuter']]);
  for (const s of ['one', 'two', 'three']) {
    await page.goto(app.base + '/w/demo/edit/stages/new');
    await fillForm(page, [['Journey', 'Form journey'], ['Identifier (a–z, 0–9, hyphens)', `form-${s}`], ['Name/English', `Stage ${s}`]]);
    await page.waitForURL(/\/edit\/stages$/);
  }
  const lanes = ['Customer actions', 'Frontstage', 'Backstage', 'Support processes'];
  for (const [k, lane] of lanes.entries()) {
    await page.goto(app.base + '/w/demo/edit/touchpoints/new');
    await fillForm(page, [['Stage', `Form journey · Stage ${['one', 'two', 'three'][k % 3]}`], ['Identifier (a–z, 0–9, hyphens)', `form-tp-${k}`],
      ['Name/English', `${lane} touchpoint`], ['Channel', 'Web'], ['Lane', lane], ['Owner', 'IT (unit)']]);
    await page.waitForURL(/\/edit\/touchpoints$/);
  }
  // Reorder: move the third stage up.
  const j = (await app.api('GET', '/api/v1/workspaces/demo/journeys?q=form-journey')).items[0];
  await page.goto(`${app.base}/w/demo/edit/stages?journey_id=${j.id}`);
  await page.evaluate(() => { window.__samePage = true; });
  await page.getByRole('button', { name: 'Move Form journey · Stage three up' }).click();
  const expected = ['Form journey · Stage one', 'Form journey · Stage three', 'Form journey · Stage two'];
  await page.waitForFunction((want) => [...document.querySelectorAll('tbody tr td:first-child')].map((t) => t.textContent.trim()).join('|') === want, expected.join('|'));
  assert.equal(await page.evaluate(() => window.__samePage), true, 'reordered in place, without a page load');
  const stages = await app.api('GET', `/api/v1/workspaces/demo/stages?journey_id=${j.id}`);
  assert.deepEqual(stages.items.map((x) => x.slug), ['form-one', 'form-three', 'form-two'], 'stored order');
  await page.goto(app.base + '/w/demo');
  await page.locator('#journeys-h + ul').getByRole('link', { name: 'Form journey' }).click();
  await page.getByRole('link', { name: 'Service blueprint' }).click();
  const lines = await page.$$eval('svg.blueprint line.bp-line', (ls) => ls.map((l) => [l.dataset.line, Number(l.getAttribute('y1'))]));
  assert.deepEqual(lines.map((l) => l[0]), ['interaction', 'visibility', 'internal-interaction']);
  const [yi, yv, yn] = lines.map((l) => l[1]);
  const boxes = await page.$$eval('svg.blueprint rect.touchpoint', (rs) => rs.map((r) => [r.dataset.lane, Number(r.getAttribute('y')), Number(r.getAttribute('height'))]));
  assert.equal(boxes.length, 4);
  for (const [lane, y, h] of boxes) {
    const band = { customer_action: [0, yi], frontstage: [yi, yv], backstage: [yv, yn], support_process: [yn, 1e9] }[lane];
    assert.ok(y > band[0] && y + h < band[1], `${lane} touchpoint between its lines`);
  }
  await shot(page, 'blueprint-form-built');
  const demoJourney = (await app.api('GET', '/api/v1/workspaces/demo/journeys?q=train-trip')).items[0];
  await page.goto(`${app.base}/w/demo/journeys/${demoJourney.id}/blueprint`);
  assert.ok(await page.locator('svg.blueprint line.bp-link').count() > 10, 'process steps linked to their touchpoints');
  await shot(page, 'blueprint-train-trip');
  await page.goto(`${app.base}/w/demo/journeys/${demoJourney.id}`);
  assert.ok(await page.locator('svg.journey-map polyline.emotion-curve').count() === 1, 'emotion curve drawn');
  await shot(page, 'journey-map-train-trip');
});

test('a form with mistakes shows each reason next to its field, in the user\'s language, and saves nothing', async () => {
  const page = await app.page('fi');
  await login(page, app.base, 'editor', MEMBER_PW);
  await page.goto(app.base + '/w/demo/edit/units/new');
  await page.getByLabel('Tunniste (a–z, 0–9, yhdysmerkit)').fill('Not A Slug');
  await page.getByRole('button', { name: 'Tallenna' }).click();
  const errors = await page.$$eval('.field-error', (ps) => ps.map((p) => [p.id, p.textContent.trim()]));
  const ids = errors.map((e) => e[0]);
  assert.ok(ids.includes('slug-error') && ids.includes('name-error'), JSON.stringify(errors));
  for (const [, text] of errors) assert.match(text, /[äöå]|vähintään|pitää|saa|kieli|tyhjä/i, `Finnish reason: ${text}`);
  assert.equal(await page.getAttribute('#slug', 'aria-invalid'), 'true');
  await shot(page, 'form-errors-fi');
  const units = await app.api('GET', '/api/v1/workspaces/demo/units?q=Not%20A%20Slug');
  assert.equal(units.total, 0);
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
  // Without a choice, the browser's language decides; with one workspace, "/" opens it.
  const fi = await app.page('fi');
  await login(fi, app.base, 'admin', ADMIN_PW);
  assert.equal(new URL(fi.url()).pathname, '/w/demo');
  await assert.doesNotReject(fi.getByRole('heading', { name: 'Demo: Rautatieyhtiö' }).waitFor());
  // With two workspaces, "/" is the switcher.
  await app.api('POST', '/api/v1/workspaces', { slug: 'second', name: { fi: 'Toinen', en: 'Second' }, default_language: 'fi' });
  await fi.goto(app.base + '/');
  await assert.doesNotReject(fi.getByRole('heading', { name: 'Työtilasi' }).waitFor());
  await fi.getByRole('link', { name: 'Toinen' }).click();
  assert.equal(new URL(fi.url()).pathname, '/w/second');
  await app.api('DELETE', '/api/v1/workspaces/second');
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
  assert.equal(await viewer.getByRole('link', { name: 'Edit the model' }).count(), 0);
  const form = await viewer.request.get(`${app.base}/w/demo/edit/units/new`, { maxRedirects: 0 });
  assert.equal(form.status(), 403, 'no edit form for a viewer');
  assert.equal(await viewer.locator('main form').count(), 0);
  await shot(viewer, 'unit-viewer');
  const rel = (await app.api('GET', `/api/v1/workspaces/demo/relations?provider_unit_id=${units.items[0].id}`)).items[0];
  const csrf = await viewer.locator('input[name=_csrf]').first().inputValue();
  const r = await viewer.request.post(`${app.base}/w/demo/relations/${rel.id}/review`, { form: { _csrf: csrf, next: '/' }, maxRedirects: 0 });
  assert.equal(r.status(), 403);
  // The editor's click works, in place (no page load) with JavaScript…
  await editor.evaluate(() => { window.__samePage = true; });
  await editor.locator('button.edit').first().click();
  await assert.doesNotReject(editor.getByRole('status').waitFor());
  assert.equal(await editor.evaluate(() => window.__samePage), true);
  // …and as a plain form post without it.
  const noJs = await app.browser.newContext({ javaScriptEnabled: false, locale: 'en' });
  const plain = await noJs.newPage();
  await login(plain, app.base, 'editor', MEMBER_PW);
  await plain.goto(unitUrl);
  await plain.locator('button.edit').first().click();
  await assert.doesNotReject(plain.getByRole('status').waitFor());
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
  // (Long names wrap over lines: read the lines back with their spaces.)
  const names = await page.$$eval('svg.package-diagram text.el-name', (ts) => ts.map((t) => t.textContent).join(' '));
  assert.ok(names.includes(payloads[2].slice(0, 20)), names);
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
    `/w/demo/journeys/${j.id}/blueprint`, '/w/demo/units', `/w/demo/units/${unit.id}`,
    '/w/demo/edit/touchpoints', '/w/demo/edit/touchpoints/new', `/w/demo/edit/packages/${pkg.id}`, `/w/demo/edit/relations/new`,
    '/w/demo/members', '/tokens', '/w/demo/insight'];
  for (const path of pages) {
    await page.goto(app.base + path);
    const v = await axe(page);
    assert.deepEqual(v.map((x) => `${x.id}: ${x.nodes.length}`), [], `${path}`);
    // Tab through the page: every link, button and field gets focus.
    const focusable = await page.$$eval('a[href], button, input:not([type=hidden]), select, textarea',
      (els) => els.filter((e) => e.offsetParent !== null || e.classList.contains('skip')).length);
    const seen = new Set();
    for (let k = 0; k < focusable * 2 + 6; k++) { // date inputs take a Tab per segment
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

test('an admin manages members and roles; others cannot', async () => {
  await app.api('POST', '/api/v1/users', { username: 'newcomer', password: MEMBER_PW });
  const page = await app.page('en');
  await login(page, app.base, 'admin', ADMIN_PW);
  await page.goto(app.base + '/w/demo');
  await page.getByRole('link', { name: 'Members' }).click();
  assert.ok(await page.getByText('Installation admins (admin in every workspace): admin').isVisible());
  await page.locator('#new-username').fill('nobody-here');
  await page.getByRole('button', { name: 'Add a member' }).click();
  await assert.doesNotReject(page.getByRole('alert').waitFor());
  await page.locator('#new-username').fill('newcomer');
  await page.locator('#new-role').selectOption({ label: 'Viewer' });
  await page.getByRole('button', { name: 'Add a member' }).click();
  await page.getByLabel('Role of newcomer').selectOption({ label: 'Editor' });
  await page.getByRole('row', { name: /newcomer/ }).getByRole('button', { name: 'Save' }).click();
  const members = await app.api('GET', '/api/v1/workspaces/demo/members');
  assert.equal(members.items.find((m) => m.username === 'newcomer').role, 'editor');
  await shot(page, 'members');
  await page.getByRole('button', { name: 'Remove newcomer' }).click();
  assert.equal((await app.api('GET', '/api/v1/workspaces/demo/members')).items.some((m) => m.username === 'newcomer'), false);
  // The installation admin creates an account for a colleague right here.
  await page.locator('#acc-username').fill('colleague');
  await page.locator('#acc-password').fill('colleague-password');
  await page.locator('#acc-role').selectOption({ label: 'Editor' });
  await page.getByRole('button', { name: 'Create the account' }).click();
  await page.waitForURL(/\/members$/);
  assert.equal((await app.api('GET', '/api/v1/workspaces/demo/members')).items.find((m) => m.username === 'colleague').role, 'editor');
  const editor = await app.page('en');
  await login(editor, app.base, 'editor', MEMBER_PW);
  assert.equal(await editor.getByRole('link', { name: 'Members' }).count(), 0);
  assert.equal((await editor.request.get(app.base + '/w/demo/members')).status(), 403);
});

test('API tokens: created in the UI, shown once, accepted by the API, revoked', async () => {
  const page = await app.page('en');
  await login(page, app.base, 'viewer', MEMBER_PW);
  await page.getByRole('link', { name: 'Your account' }).click();
  await page.getByLabel('Name', { exact: true }).fill('my script');
  await page.getByRole('button', { name: 'Create a token' }).click();
  const token = await page.getByLabel('New token').inputValue();
  assert.match(token, /^kt_[0-9a-f]{64}$/);
  const ok = await fetch(app.base + '/api/v1/workspaces/demo/units', { headers: { authorization: `Bearer ${token}` } });
  assert.equal(ok.status, 200);
  await page.goto(app.base + '/tokens');
  assert.equal(await page.getByLabel('New token').count(), 0, 'shown only once');
  await page.getByRole('button', { name: 'Revoke my script' }).click();
  const refused = await fetch(app.base + '/api/v1/workspaces/demo/units', { headers: { authorization: `Bearer ${token}` } });
  assert.equal(refused.status, 401);
});

test('organisation insight: findings page and the chain to the end customer', async () => {
  const page = await app.page('en');
  await login(page, app.base, 'viewer', MEMBER_PW);
  await page.goto(app.base + '/w/demo');
  await page.getByRole('link', { name: 'Insight', exact: true }).click();
  await assert.doesNotReject(page.getByRole('heading', { name: 'Organisation insight', level: 1 }).waitFor());
  const text = await page.locator('main').textContent();
  for (const s of ['IT → Customer service → Commuter', 'far from the customer', 'Archiving feedback', 'Ticket inspection', 'Group travel', 'Lost property']) {
    assert.ok(text.includes(s), `insight shows ${s}`);
  }
  await shot(page, 'insight-en');
  assert.ok(text.includes('Labyrinth score = customer steps + hand-offs'), 'the labyrinth score is explained');
  // Finnish writes the score with a decimal comma.
  const fi = await app.page('fi');
  await login(fi, app.base, 'viewer', MEMBER_PW);
  await fi.goto(app.base + '/w/demo/insight');
  const score = await fi.locator('table:has(caption:text("Labyrinttiluku")) tbody tr td').last().innerText();
  assert.match(score, /^\d+,\d$/, `decimal comma: ${score}`);
  await shot(fi, 'insight-fi');
  const it = (await app.api('GET', '/api/v1/workspaces/demo/units?q=it')).items.find((u) => u.slug === 'it');
  await page.goto(`${app.base}/w/demo/units/${it.id}`);
  const nodes = await page.$$eval('svg.chain text.chain-name', (ts) => ts.map((t) => t.textContent));
  assert.deepEqual(nodes.slice(0, 3), ['IT', 'Customer service', 'Commuter']);
  assert.ok(await page.locator('svg.chain line.chain-edge').count() >= 2);
  await shot(page, 'unit-it-chain');
  // The review job runs when the server starts: IT's overdue answer is on its page.
  const notes = await page.locator('section.notifications li').allTextContents();
  assert.ok(notes.some((t) => t.includes('Customer service')), JSON.stringify(notes));
  const top = (await app.api('GET', '/api/v1/workspaces/demo/units?q=passenger-services')).items[0];
  await page.goto(`${app.base}/w/demo/units/${top.id}`);
  await assert.doesNotReject(page.getByText('far from the customer, and nobody has told them who it is').first().waitFor());
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
