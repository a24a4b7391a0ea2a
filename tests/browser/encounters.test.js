// Carrying the customer through: the customer timeline with its hand-off card, linking
// and unlinking customers, and frontline capture on a phone — in Finnish and English.
// Screenshots go to target/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, login, axe, ADMIN_PW, MEMBER_PW, SHOTS } from './harness.js';

let app;
before(async () => { app = await startServer(); });
after(async () => { await app?.stop(); });

const shot = (page, name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

test('a viewer records a capture on a phone in under a screen, and it reaches the timeline and the unit', async () => {
  const tps = (await app.api('GET', '/api/v1/workspaces/demo/touchpoints?limit=100')).items;
  const refund = tps.find((t) => t.slug === 'refund-request') || tps[0];
  for (const [lang, t] of [['fi', { save: 'Tallenna havainto', saved: 'Havainto tallennettu.', open: 'Avaa asiakkaan aikajana' }],
                           ['en', { save: 'Save the capture', saved: 'Capture saved.', open: "Open the customer's timeline" }]]) {
    const page = await app.page(lang);
    await page.setViewportSize({ width: 390, height: 844 });
    await login(page, app.base, 'viewer', MEMBER_PW);
    // The QR code's address: the touchpoint chosen.
    await page.goto(app.base + `/w/demo/capture?touchpoint=${refund.id}`);
    assert.equal(await page.locator('#c-tp').inputValue(), String(refund.id));
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `no sideways scrolling (${width})`);
    assert.deepEqual((await axe(page)).map((v) => v.id), [], `capture ${lang}`);
    await shot(page, `capture-${lang}-390`);
    await page.locator('#c-text').fill(lang === 'fi' ? 'Palautus on kestänyt kuusi viikkoa' : 'The refund has taken six weeks');
    await page.locator('input[name=feeling][value="-2"]').check();
    await page.locator('details.more summary').click();
    await page.locator('#c-new-theme').fill(lang === 'fi' ? 'Hidas palautus' : 'Slow refund');
    await page.locator('#c-customer').fill(`crm:phone-${lang}`);
    await page.locator('#c-fu').check();
    await page.locator('#c-promise').fill(lang === 'fi' ? 'Soitamme perjantaina' : 'We call on Friday');
    const sent = await page.locator('form.capture').evaluate((f) => Object.fromEntries(new FormData(f)));
    await page.getByRole('button', { name: t.save }).click();
    assert.ok(await page.getByText(t.saved).isVisible(), 'saved');
    // The same form posted again (a double tap, a retry on a bad connection): nothing twice.
    const again = await page.request.post(app.base + '/w/demo/capture', { form: sent });
    assert.equal(again.status(), 200);
    await page.getByRole('link', { name: t.open }).click();
    const items = await page.locator('.tl-item.tl-capture').count();
    assert.equal(items, 1, 'stored once');
    assert.ok(await page.locator('.handoff').getByText(lang === 'fi' ? 'Soitamme perjantaina' : 'We call on Friday').isVisible(), 'the promise on the hand-off card');
    assert.deepEqual((await axe(page)).map((v) => v.id), [], `timeline ${lang}`);
    await shot(page, `timeline-capture-${lang}-390`);
  }
  const caps = (await app.api('GET', '/api/v1/workspaces/demo/captures?customer=crm:phone-fi')).items;
  assert.equal(caps.length, 1);
  assert.equal(caps[0].recorded_by, 'user:viewer');
  const themes = (await app.api('GET', '/api/v1/workspaces/demo/capture-themes')).items;
  assert.ok(themes.some((th) => th.slug === 'hidas-palautus' && th.status === 'proposed'), 'a viewer proposes, not adds');
  // The owning unit sees it.
  const unit = caps[0].owner.unit;
  const page = await app.page('fi');
  await login(page, app.base, 'admin', ADMIN_PW);
  await page.goto(app.base + `/w/demo/units/${unit}`);
  assert.ok(await page.locator('ul.captures').getByText('Palautus on kestänyt kuusi viikkoa').isVisible());
});

test('an editor accepts a proposed theme in both languages and merges a duplicate into it; a viewer only proposes', async () => {
  // The viewer's captures above proposed "Hidas palautus" (fi) and "Slow refund" (en).
  const page = await app.page('en');
  await login(page, app.base, 'editor', MEMBER_PW);
  await page.goto(app.base + '/w/demo/capture-themes');
  assert.deepEqual((await axe(page)).map((v) => v.id), [], 'themes en');
  await shot(page, 'themes-en');
  const row = page.locator('tr', { hasText: 'hidas-palautus' });
  await row.locator('summary', { hasText: 'Accept' }).click();
  await row.locator('input[name=name_en]').fill('Slow refund');
  await row.getByRole('button', { name: 'Accept' }).click();
  assert.ok(await page.getByText('Theme accepted.').isVisible());
  let themes = (await app.api('GET', '/api/v1/workspaces/demo/capture-themes')).items;
  const slow = themes.find((t) => t.slug === 'hidas-palautus');
  assert.equal(slow.status, 'accepted');
  assert.deepEqual(slow.name, { fi: 'Hidas palautus', en: 'Slow refund' });
  // The English proposal is the same theme: merge it, its capture moves.
  const dup = page.locator('tr', { hasText: 'slow-refund' });
  await dup.locator('summary', { hasText: 'Merge' }).click();
  await dup.locator('select[name=into]').selectOption(String(slow.id));
  await dup.getByRole('button', { name: 'Merge' }).click();
  assert.ok(await page.getByText('Themes merged').isVisible());
  themes = (await app.api('GET', '/api/v1/workspaces/demo/capture-themes')).items;
  assert.ok(!themes.some((t) => t.slug === 'slow-refund'), 'the duplicate goes');
  assert.equal(themes.find((t) => t.slug === 'hidas-palautus').captures, 2, 'both captures under one theme');
  // Merging into nothing is refused with a reason, and changes nothing.
  const bad = await page.request.post(app.base + `/w/demo/capture-themes/${slow.id}/merge`, {
    form: { _csrf: await page.locator('input[name=_csrf]').first().inputValue(), into: '' },
  });
  assert.equal(bad.status(), 422);
  assert.equal((await app.api('GET', '/api/v1/workspaces/demo/capture-themes')).items.length, themes.length);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(app.base + '/w/demo/capture-themes');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no sideways scrolling (${width})`);
  await shot(page, 'themes-en-390');
  // A viewer sees the list, no actions, and proposes.
  const viewer = await app.page('fi');
  await login(viewer, app.base, 'viewer', MEMBER_PW);
  await viewer.goto(app.base + '/w/demo/capture-themes');
  assert.equal(await viewer.locator('form[action$="/merge"]').count(), 0);
  assert.deepEqual((await axe(viewer)).map((v) => v.id), [], 'themes fi');
  await shot(viewer, 'themes-fi');
  // Without a name: a reason, nothing stored.
  const count = (await app.api('GET', '/api/v1/workspaces/demo/capture-themes')).items.length;
  await viewer.getByRole('button', { name: 'Ehdota teemaa' }).click();
  assert.ok(await viewer.locator('p.error[role=alert]').isVisible(), 'an empty name is refused with a reason');
  assert.equal((await app.api('GET', '/api/v1/workspaces/demo/capture-themes')).items.length, count);
  await viewer.locator('#t-fi').fill('Ruuhka');
  await viewer.getByRole('button', { name: 'Ehdota teemaa' }).click();
  assert.ok(await viewer.getByText('Teemaa ehdotettu.').isVisible());
  await viewer.setViewportSize({ width: 390, height: 844 });
  await shot(viewer, 'themes-fi-390');
  themes = (await app.api('GET', '/api/v1/workspaces/demo/capture-themes')).items;
  assert.equal(themes.find((t) => t.slug === 'ruuhka').status, 'proposed');
});

test('the timeline of a demo customer hands off, filters, and links and unlinks customers', async () => {
  for (const lang of ['fi', 'en']) {
    const page = await app.page(lang);
    await page.setViewportSize({ width: 1440, height: 900 });
    await login(page, app.base, 'admin', ADMIN_PW);
    await page.goto(app.base + '/w/demo/customers');
    await page.locator('#tl-q').fill('cust-000001');
    await page.getByRole('button', { name: lang === 'fi' ? 'Hae' : 'Search' }).click();
    assert.ok(await page.locator('.handoff').isVisible(), 'the hand-off card');
    const all = await page.locator('.tl-item').count();
    assert.ok(all >= 3, `${all} items`);
    assert.ok(await page.locator('.tl-item.tl-response').count() >= 1, 'feedback is part of the record');
    assert.ok(await page.getByText('loyalty:VR-1001').first().isVisible(), 'the linked loyalty card');
    // Filter by kind: responses only.
    await page.locator('#tl-kind').selectOption('response');
    await page.getByRole('button', { name: lang === 'fi' ? 'Suodata' : 'Filter' }).click();
    const responses = await page.locator('.tl-item').count();
    assert.ok(responses >= 1 && responses < all, `${responses} of ${all}`);
    assert.equal(await page.locator('.tl-item:not(.tl-response)').count(), 0);
    assert.deepEqual((await axe(page)).map((v) => v.id), [], `timeline ${lang}`);
    await shot(page, `timeline-${lang}-1440`);
  }
  // Link two customers through the page: preview first, then the link; then unlink.
  const page = await app.page('en');
  await page.setViewportSize({ width: 1440, height: 900 });
  await login(page, app.base, 'admin', ADMIN_PW);
  await page.goto(app.base + '/w/demo/customers/cust-000002');
  const before = await page.locator('.tl-item').count();
  await page.locator('#ln-other').fill('cust-000003');
  await page.locator('#ln-reason').fill('Same person at the desk, checked the ID');
  await page.getByRole('button', { name: 'Show what joins' }).click();
  assert.ok(await page.getByText(/Joining customer: ref:cust-000003/).isVisible(), 'the preview names what joins');
  await shot(page, 'timeline-link-preview-en-1440');
  await page.getByRole('button', { name: 'Link them as one person' }).click();
  assert.ok(await page.getByText('Customers linked.').isVisible());
  const joined = await page.locator('.tl-item').count();
  assert.ok(joined > before, `${joined} > ${before}`);
  await page.getByRole('button', { name: 'Unlink' }).last().click();
  assert.ok(await page.getByText('Link undone; the two customers are separate again.').isVisible());
  assert.equal(await page.locator('.tl-item').count(), before, 'both restored');
  // A case reference opens the case's timeline.
  await page.goto(app.base + '/w/demo/customers?q=trip-00000001');
  assert.ok(await page.getByRole('heading', { name: 'Case trip-00000001' }).isVisible());
});

test('an editor imports an event file: columns chosen, rows previewed with their errors, all or nothing', async () => {
  const tps = (await app.api('GET', '/api/v1/workspaces/demo/touchpoints?limit=100')).items;
  const tp = tps[0];
  const before = (await app.api('GET', '/api/v1/workspaces/demo/encounters?customer=crm:imp-1&limit=100')).items.length;
  // Finnish column names, one row naming no touchpoint of the workspace, one with a bad time.
  const csv = [
    'Aika;Paikka;Asiakas;Juna',
    `2026-05-02 08:15;${tp.slug};crm:imp-1;IC 27`,
    '2026-05-02 09:00;no-such-place;crm:imp-1;IC 27',
    'yesterday;' + tp.slug + ';crm:imp-2;S 45',
    `2026-05-03 10:30;${tp.slug};crm:imp-2;IC 29`,
  ].join('\n').replaceAll(';', ',');
  for (const [lang, t] of [['fi', { upload: 'Lataa ja jatka', run: 'Tuo', check: 'Tarkista uudelleen', skip: 'Ohita virheelliset rivit ja tuo muut' }],
                           ['en', { upload: 'Upload and continue', run: 'Import', check: 'Check again', skip: 'Skip the bad rows and import the rest' }]]) {
    const page = await app.page(lang);
    await login(page, app.base, 'admin', ADMIN_PW);
    const stored = (await app.api('GET', '/api/v1/workspaces/demo/encounters?customer=crm:imp-1&limit=100')).items.length;
    await page.goto(app.base + '/w/demo/encounters/import');
    assert.deepEqual((await axe(page)).map((v) => v.id), [], `upload ${lang}`);
    await page.locator('#imp-file').setInputFiles({ name: 'tapahtumat.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByRole('button', { name: t.upload }).click();
    assert.match(page.url(), /\/w\/demo\/encounters\/import\/[0-9a-f]{36}$/);
    // "Aika" and "Asiakas" are recognised; the place column is not named like a field.
    assert.equal(await page.locator('#map-at').inputValue(), 'Aika');
    assert.equal(await page.locator('#map-customer').inputValue(), 'Asiakas');
    assert.equal(await page.locator('#map-touchpoint').inputValue(), '');
    await page.locator('#map-touchpoint').selectOption('Paikka');
    await page.locator('input[name=attr][value=Juna]').check();
    await page.getByRole('button', { name: t.check }).click();
    const rows = page.locator('table.import-rows tbody tr');
    assert.equal(await rows.count(), 4);
    assert.equal(await page.locator('table.import-rows tbody tr.bad').count(), 2, 'two bad rows shown before anything is stored');
    assert.ok((await rows.nth(1).textContent()).includes('no-such-place'));
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, `import-map-${lang}-390`);
    await page.setViewportSize({ width: 1280, height: 900 });
    assert.deepEqual((await axe(page)).map((v) => v.id), [], `mapping ${lang}`);
    await shot(page, `import-map-${lang}`);
    // All or nothing: the bad rows stop the import and are listed.
    await page.getByRole('button', { name: t.run, exact: true }).click();
    assert.equal(await page.locator('.import-bad tbody tr').count(), 2);
    assert.equal((await app.api('GET', '/api/v1/workspaces/demo/encounters?customer=crm:imp-1&limit=100')).items.length, stored, 'nothing stored');
    await page.getByLabel(t.skip).check();
    await page.getByRole('button', { name: t.run, exact: true }).click();
    assert.ok(await page.locator('p.flash').isVisible());
    await shot(page, `import-done-${lang}`);
  }
  // The good rows once, though the file was imported twice (fi, then en): ids from content.
  const mine = (await app.api('GET', '/api/v1/workspaces/demo/encounters?customer=crm:imp-1&limit=100')).items;
  assert.equal(mine.length, before + 1);
  assert.equal(mine[0].attributes.juna, 'IC 27');
  assert.equal(mine[0].source, 'import');
  assert.equal(mine[0].touchpoint_id, tp.id);
});
