// The experience at a glance, as a leader, a CX lead and a unit head see it: the home
// overview, the journey map and its PDF, the blueprint, the package diagram, the
// dashboards — in Finnish and English, on a laptop and a phone. Screenshots and the PDF
// pages (rendered to PNG by pdftoppm) go to target/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startServer, login, axe, ADMIN_PW, SHOTS } from './harness.js';

let app;
before(async () => { app = await startServer(); });
after(async () => { await app?.stop(); });

const shot = (page, name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

test('the home page gives a leader the weakest encounter of each journey, with its owner and the index trend', async () => {
  const weakest = (await app.api('GET', '/api/v1/workspaces/demo/weakest')).items;
  const train = weakest.find((w) => w.status === 'one');
  assert.ok(train, 'the demo has a clearly weakest encounter');
  for (const [lang, texts] of [['fi', { h: 'Jokaisen asiakasmatkan heikoin kohtaaminen', index: 'Kokemusindeksi' }],
                               ['en', { h: 'The weakest encounter of each customer journey', index: 'Experience index' }]]) {
    const page = await app.page(lang);
    await login(page, app.base, 'admin', ADMIN_PW);
    for (const [w, h] of [[1440, 900], [390, 844]]) {
      await page.setViewportSize({ width: w, height: h });
      await page.goto(app.base + '/w/demo');
      assert.ok(await page.getByRole('heading', { name: texts.h }).isVisible());
      const cell = page.locator(`td[data-weakest="${train.touchpoints[0].touchpoint_id}"]`);
      // The API names it in English; the page in the reader's language.
      assert.equal(await cell.innerText(), lang === 'en' ? train.touchpoints[0].name : 'Käynti ravintolavaunussa');
      assert.ok(await page.locator('figure.trend svg circle title').count() >= 6, 'monthly points with their values');
      assert.ok((await page.locator('.overview').innerText()).includes(texts.index));
      // Nothing wider than the screen on a phone.
      const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(over <= 0, `no sideways scrolling (${over} px)`);
      await shot(page, `home-${lang}-${w}`);
    }
    assert.deepEqual((await axe(page)).map((v) => v.id), [], `home ${lang}`);
    // Every figure leads somewhere: the weakest encounter to its dashboard.
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.locator(`td[data-weakest="${train.touchpoints[0].touchpoint_id}"] a`).click();
    await page.waitForURL(/\/dashboard\/touchpoint\/\d+/);
    await shot(page, `touchpoint-dashboard-${lang}`);
  }
});

test('the journey map shows the whole journey at once, marks the weakest encounter and prints on A3', async () => {
  const j = (await app.api('GET', '/api/v1/workspaces/demo/journeys?q=train-trip')).items[0];
  const weak = (await app.api('GET', '/api/v1/workspaces/demo/weakest')).items.find((w) => w.journey_id === j.id);
  const tp = weak.touchpoints[0].touchpoint_id;
  const total = (await app.api('GET', `/api/v1/workspaces/demo/touchpoints?limit=500`)).items
    .filter((t) => t.stage_id !== undefined).length;
  for (const lang of ['fi', 'en']) {
    const page = await app.page(lang);
    await login(page, app.base, 'admin', ADMIN_PW);
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(app.base + `/w/demo/journeys/${j.id}`);
    // Every touchpoint of the journey is on screen at 1440 px, none cut.
    const cards = await page.$$eval('.glance .tp-card', (cs) => cs.map((c) => {
      const r = c.getBoundingClientRect();
      return { right: r.right, left: r.left, clipped: c.scrollWidth > c.clientWidth };
    }));
    assert.ok(cards.length >= 19 && cards.length <= total, `${cards.length} touchpoints`);
    assert.ok(cards.every((c) => c.left >= 0 && c.right <= 1440 && !c.clipped), 'all within the width, none clipped');
    assert.equal(await page.locator(`.tp-card[data-weakest="${tp}"]`).count(), 1, 'the weakest encounter marked in the view');
    assert.equal(await page.locator(`svg rect.score[data-weakest="${tp}"]`).count(), 1, 'and in the map');
    assert.ok(await page.locator('svg polyline.emotion-measured-curve').count() === 1, 'measured emotion beside the expected');
    assert.deepEqual((await axe(page)).map((v) => v.id), [], `journey ${lang}`);
    await shot(page, `journey-map-${lang}-1440`);
    // Touchpoints in the map link to their scores.
    await page.locator(`svg a.tp-link[href$="/dashboard/touchpoint/${tp}"]`).click();
    await page.waitForURL(new RegExp(`/dashboard/touchpoint/${tp}`));
    await page.goto(app.base + `/w/demo/journeys/${j.id}/blueprint`);
    assert.equal(await page.locator(`svg rect.score[data-weakest="${tp}"]`).count(), 1, 'blueprint marks it too');
    await shot(page, `blueprint-${lang}-1440`);
    // The PDFs, rendered to PNG for the artifacts.
    for (const [path, name] of [[`/w/demo/journeys/${j.id}/map.pdf`, 'map'], [`/w/demo/journeys/${j.id}/blueprint.pdf`, 'blueprint'],
                                [`/w/demo/packages/1/diagram.pdf`, 'package']]) {
      const r = await page.request.get(app.base + path);
      assert.equal(r.status(), 200, path);
      const pdf = join(SHOTS, `${name}-${lang}.pdf`);
      writeFileSync(pdf, await r.body());
      execFileSync('pdftoppm', ['-png', '-r', '100', '-singlefile', pdf, join(SHOTS, `pdf-${name}-${lang}`)]);
    }
    const phone = await app.page(lang);
    await login(phone, app.base, 'admin', ADMIN_PW);
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(app.base + `/w/demo/journeys/${j.id}`);
    await shot(phone, `journey-map-${lang}-390`);
  }
});

test('a unit head works in a unit: lands on its page on a phone and reviews its customers without editing rights', async () => {
  const it = (await app.api('GET', '/api/v1/workspaces/demo/units?q=it')).items.find((u) => u.slug === 'it');
  await app.api('POST', '/api/v1/users', { username: 'head-of-it', password: 'head-of-it-password' });
  await app.api('PUT', '/api/v1/workspaces/demo/members/head-of-it', { role: 'viewer' });
  await app.api('PUT', `/api/v1/workspaces/demo/units/${it.id}/members/head-of-it`, {});
  const due = (await app.api('GET', `/api/v1/workspaces/demo/relations?stale=true&limit=200`)).items
    .filter((r) => r.provider.unit === it.id);
  assert.ok(due.length >= 1, 'the demo has a review due for IT');
  for (const lang of ['fi', 'en']) {
    const ctx = await app.browser.newContext({ locale: lang, viewport: { width: 390, height: 844 },
      extraHTTPHeaders: { 'accept-language': lang } });
    const page = await ctx.newPage();
    await login(page, app.base, 'head-of-it', 'head-of-it-password');
    assert.match(page.url(), new RegExp(`/w/demo/units/${it.id}$`), 'lands on the unit page');
    await shot(page, `unit-head-${lang}-390`);
    if (lang === 'en') {
      const before = await page.locator('li[data-due]').count();
      assert.ok(before >= 1);
      await page.locator('li[data-due] button').first().click();
      await page.waitForURL(/done=reviewed/);
      assert.equal(await page.locator('li[data-due]').count(), before - 1, 'the list updates at once');
      assert.equal(await page.getByText('due since never').count(), 0);
      assert.deepEqual((await axe(page)).map((v) => v.id), [], 'unit page');
      // Still a viewer of the model.
      assert.equal(await page.locator('a.edit-link').count(), 0, 'no edit links');
    }
    await ctx.close();
  }
});
