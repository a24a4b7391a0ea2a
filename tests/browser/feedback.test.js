// Feedback as people meet it, in real headless Chromium: staff build and activate a
// survey in the UI; a customer answers on a phone without JavaScript; the follow-up
// question appears only for detractors when scripts run; the widget embedded on
// another site stores an answer (and is refused on a site not allowed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { startServer, login, axe, ADMIN_PW, SHOTS, ROOT } from './harness.js';

let app;
before(async () => { app = await startServer(); });
after(async () => { await app?.stop(); });

const shot = (page, name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

async function surveyBySlug(slug) {
  const s = (await app.api('GET', `/api/v1/workspaces/demo/surveys?q=${slug}`)).items.find((x) => x.slug === slug);
  const links = await app.api('GET', `/api/v1/workspaces/demo/surveys/${s.id}/links`);
  return { ...s, links, key: links.public_url.split('/f/')[1] };
}

const cspWatch = (page) => {
  const refused = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) refused.push(m.text()); });
  return refused;
};

test('staff build a survey in the UI; a customer answers on a phone without JavaScript', async () => {
  const page = await app.page('en');
  const refused = cspWatch(page);
  await login(page, app.base, 'admin', ADMIN_PW);
  await page.goto(app.base + '/w/demo/surveys');
  assert.deepEqual((await axe(page)).map((v) => v.id), [], 'survey list');
  await page.locator('#s-slug').fill('boarding-nps');
  await page.locator('#s-name-fi').fill('Junaan nousu');
  await page.locator('#s-name-en').fill('Boarding');
  await page.locator('#s-template').selectOption('nps');
  const boarding = (await app.api('GET', '/api/v1/workspaces/demo/touchpoints?q=boarding')).items.find((t) => t.slug === 'boarding');
  await page.locator('#s-target').selectOption(`t${boarding.id}`);
  await page.getByRole('button', { name: 'Create survey' }).click();
  await page.waitForURL(/\/w\/demo\/surveys\/\d+$/);
  const surveyUrl = page.url();
  // Add a single-choice question through the builder.
  await page.getByText('Add a question').first().click();
  // Only the fields of the chosen type are shown.
  await page.locator('#q-kind').selectOption('text');
  assert.equal(await page.locator('#q-options').isVisible(), false, 'no options for an open question');
  await page.locator('#q-kind').selectOption('single');
  assert.equal(await page.locator('#q-options').isVisible(), true, 'options for a choice');
  assert.equal(await page.locator('#q-scale').isVisible(), false, 'no scale for a choice');
  await page.locator('#q-key').fill('carriage');
  await page.locator('#q-text-fi').fill('Missä vaunussa matkustit?');
  await page.locator('#q-text-en').fill('Which carriage did you travel in?');
  await page.locator('#q-options').fill('quiet = Hiljainen vaunu / Quiet carriage\nfamily = Perhevaunu / Family carriage');
  await page.getByRole('button', { name: 'Add a question' }).click();
  await page.waitForURL(/\/w\/demo\/surveys\/\d+$/);
  assert.ok(await page.getByText('Which carriage did you travel in?', { exact: true }).isVisible());
  // Every text of a question can be edited afterwards.
  await page.getByText('Edit “Which carriage did you travel in?”').click();
  await page.locator('#e-carriage-en').fill('Which carriage were you in?');
  await page.locator('#e-carriage-opts').fill('quiet = Hiljainen vaunu / Quiet carriage\nfamily = Perhevaunu / Family carriage\nbistro = Bistro / Bistro');
  await page.locator('#e-carriage-en').press('Enter');
  await page.waitForURL(/\/w\/demo\/surveys\/\d+$/);
  assert.ok(await page.getByText('Which carriage were you in?').first().isVisible(), 'edited text shown');
  assert.ok(await page.getByText('Bistro', { exact: false }).first().isVisible(), 'new option shown');
  // A draft can be previewed exactly as respondents will see it, in either language.
  await page.getByRole('link', { name: /^Preview/ }).click();
  assert.ok(await page.getByRole('status').filter({ hasText: 'Preview' }).isVisible());
  assert.ok(await page.getByText('Which carriage were you in?').isVisible());
  assert.equal(await page.getByRole('button', { name: 'Send' }).isDisabled(), true, 'nothing to send');
  assert.deepEqual((await axe(page)).map((v) => v.id), [], 'preview');
  await page.getByRole('link', { name: 'Suomi' }).click();
  assert.ok(await page.getByText('Missä vaunussa matkustit?').isVisible());
  await shot(page, 'survey-preview-fi');
  await page.goto(surveyUrl);
  // A bad question is refused with its reason, and nothing changes.
  await page.getByText('Add a question').first().click();
  await page.locator('#q-kind').selectOption('single');
  await page.locator('#q-key').fill('Bad Key');
  await page.getByRole('button', { name: 'Add a question' }).click();
  assert.ok(await page.getByRole('alert').isVisible());
  await page.goto(surveyUrl);
  assert.equal(await page.locator('ol.questions > li').count(), 4);
  assert.equal(await page.locator('.qr-row').count(), 0, 'a draft shows no links or QR codes (they would not open)');
  await page.getByRole('button', { name: 'Activate' }).click();
  await page.waitForURL(/\/w\/demo\/surveys\/\d+$/);
  assert.ok(await page.getByText('only this computer can open').isVisible(), 'a local address is warned about');
  assert.ok(await page.locator('.status-active').first().isVisible());
  assert.deepEqual((await axe(page)).map((v) => v.id), [], 'survey page');
  await shot(page, 'survey-builder');
  assert.equal(await page.locator('.qr-row strong').first().textContent(), 'Boarding', 'the touchpoint by name');
  const link = await page.locator('.qr-row a[href*="/f/"]').first().getAttribute('href');
  assert.match(link, /\/f\/[0-9a-f]+\?tp=\d+$/);
  const qr = await page.locator('.qr-row img').first();
  assert.ok(await qr.evaluate((img) => img.complete && img.naturalWidth > 0), 'QR code image loads');

  // The customer: a phone, Finnish, no JavaScript.
  const ctx = await app.browser.newContext({ locale: 'fi', javaScriptEnabled: false, viewport: { width: 390, height: 844 },
    extraHTTPHeaders: { 'accept-language': 'fi' } });
  const phone = await ctx.newPage();
  await phone.goto(link);
  assert.equal(await phone.getAttribute('html', 'lang'), 'fi');
  assert.ok(await phone.getByText('Kuinka todennäköisesti suosittelisit').isVisible());
  await shot(phone, 'survey-public-phone-fi');
  await phone.locator('label.pt', { hasText: /^3$/ }).first().click();
  await phone.getByLabel('Mitä meidän pitäisi parantaa?').fill('Laituri oli liukas');
  await phone.getByLabel('Hiljainen vaunu').check();
  await phone.waitForTimeout(2100); // the page refuses answers faster than a person
  await phone.getByRole('button', { name: 'Lähetä' }).click();
  assert.ok(await phone.getByText('Kiitos!').isVisible());
  await shot(phone, 'survey-thanks-fi');
  await ctx.close();

  // Back at the office: the answer is in the list, with its touchpoint and language.
  await page.goto(surveyUrl);
  await page.getByRole('link', { name: /One response|1 responses/ }).click();
  await page.waitForURL(/responses$/);
  assert.ok(await page.getByText('Laituri oli liukas').isVisible());
  assert.deepEqual((await axe(page)).map((v) => v.id), [], 'responses page');
  await page.locator('#f-band').selectOption('promoter');
  await page.getByRole('button', { name: 'Filter' }).click();
  assert.equal(await page.getByText('Laituri oli liukas').count(), 0, 'a detractor is not a promoter');
  await page.locator('#f-band').selectOption('detractor');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.locator('tbody a').first().click();
  assert.ok(await page.getByText('Quiet carriage').isVisible(), 'choice shown by its label');
  assert.ok(await page.getByText('Boarding').first().isVisible());
  assert.deepEqual((await axe(page)).map((v) => v.id), [], 'response page');
  await shot(page, 'survey-response');
  await page.getByRole('button', { name: 'Delete this response' }).click();
  await page.waitForURL(/responses$/);
  assert.equal(await page.getByText('Laituri oli liukas').count(), 0);
  const audit = await app.api('GET', '/api/v1/workspaces/demo/audit');
  assert.equal(audit[0].action, 'delete_response');
  assert.deepEqual(refused, [], 'nothing refused by the Content-Security-Policy');
});

test('a respondent who answers at once is thanked, never asked to resend; the scale fits a 360 px phone; the language can be switched', async () => {
  const surveys = (await app.api('GET', '/api/v1/workspaces/demo/surveys?limit=50')).items;
  const car = surveys.find((x) => x.slug === 'restaurant-car');
  const links = await app.api('GET', `/api/v1/workspaces/demo/surveys/${car.id}/links`);
  const ctx = await app.browser.newContext({ locale: 'fi', javaScriptEnabled: false, viewport: { width: 360, height: 780 },
    extraHTTPHeaders: { 'accept-language': 'fi' } });
  const phone = await ctx.newPage();
  await phone.goto(links.public_url);
  // 0–10 in one row.
  const tops = await phone.$$eval('.scale .pt', (els) => els.slice(0, 11).map((e) => Math.round(e.getBoundingClientRect().top)));
  assert.equal(new Set(tops).size, 1, 'the 0–10 scale on one row');
  const right = await phone.$$eval('.scale .pt', (els) => Math.max(...els.slice(0, 11).map((e) => e.getBoundingClientRect().right)));
  assert.ok(right <= 360, `inside the screen (${right})`);
  await shot(phone, 'survey-scale-360-fi');
  // The language switch keeps the link's touchpoint and channel.
  await phone.getByRole('link', { name: 'English' }).click();
  assert.equal(await phone.getAttribute('html', 'lang'), 'en');
  assert.ok(await phone.getByText(/How likely/).first().isVisible());
  assert.match(phone.url(), /lang=en/);
  await shot(phone, 'survey-scale-360-en');
  // Tap and send at once: thanked, and the answer is kept (set apart for staff).
  await phone.locator('label.pt', { hasText: /^5$/ }).first().click();
  await phone.getByRole('button', { name: 'Send' }).click();
  assert.ok(await phone.getByText('Thank you').first().isVisible(), 'thanked at once');
  await ctx.close();
  const apart = await app.api('GET', `/api/v1/workspaces/demo/surveys/${car.id}/responses?suspect=true`);
  assert.equal(apart.total, 1, 'stored, set apart');
  assert.equal(apart.items[0].suspect, 'too_fast');
  assert.equal(apart.items[0].nps, 5);
  // Staff see it, with why, and count it.
  const page = await app.page('en');
  await login(page, app.base, 'admin', ADMIN_PW);
  await page.goto(app.base + `/w/demo/surveys/${car.id}/responses`);
  await page.getByRole('link', { name: /set apart as possibly automated/ }).click();
  await page.locator('tbody a').first().click();
  assert.ok(await page.getByText('sent sooner than a person usually can').isVisible());
  assert.deepEqual((await axe(page)).map((v) => v.id), [], 'suspect response page');
  await shot(page, 'response-set-apart-en');
  await page.getByRole('button', { name: 'Count this response' }).click();
  const after = await app.api('GET', `/api/v1/workspaces/demo/surveys/${car.id}/responses?suspect=true`);
  assert.equal(after.total, 0, 'counted now');
});

test('with JavaScript the follow-up appears only for detractors; the page is light and accessible', async () => {
  const s = await surveyBySlug('restaurant-car');
  const page = await app.page('en');
  const refused = cspWatch(page);
  let bytes = 0;
  page.on('response', async (r) => { try { bytes += (await r.body()).length; } catch { /* redirects */ } });
  await page.goto(s.links.touchpoints[0].url);
  const improve = page.getByLabel('What should we improve?');
  assert.equal(await improve.isVisible(), false, 'hidden before an answer');
  await page.locator('label.pt', { hasText: /^3$/ }).first().click();
  assert.equal(await improve.isVisible(), true, 'shown for a detractor');
  await page.locator('label.pt', { hasText: /^9$/ }).first().click();
  assert.equal(await improve.isVisible(), false, 'hidden for a promoter');
  assert.deepEqual((await axe(page)).map((v) => v.id), [], 'public page');
  assert.ok(bytes < 30 * 1024, `public page weighs ${bytes} bytes`);
  // Keyboard: the scale is reachable and operable without a mouse.
  await page.reload();
  // First the language choice, then the scale.
  const languages = await page.locator('nav.langs a').count();
  for (let k = 0; k <= languages; k++) await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'nps', 'Tab reaches the scale');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Space');
  assert.ok(await page.evaluate(() => document.querySelector('input[name=nps]:checked') !== null), 'chosen by keyboard');
  assert.deepEqual(refused, [], 'nothing refused by the Content-Security-Policy');
});

test('the widget stores an answer on an allowed site and is refused elsewhere', async () => {
  const s = await surveyBySlug('online-purchase');
  const widget = readFileSync(join(ROOT, 'crates/kohtaamo-http/static/widget.js'));
  assert.ok(gzipSync(widget).length < 10 * 1024, `widget.js is ${gzipSync(widget).length} bytes gzipped`);
  const site = createServer((req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(`<!doctype html><html lang="fi"><head><title>Verkkokauppa</title></head><body><main><h1>Kiitos ostoksestasi</h1>
      <script src="${app.base}/widget.js" data-survey="${s.key}" data-touchpoint="${s.touchpoint_id}" data-customer-ref="cust-77"></script></main></body></html>`);
  });
  await new Promise((ok) => site.listen(0, '127.0.0.1', ok));
  const origin = `http://127.0.0.1:${site.address().port}`;
  try {
    // Not yet allowed: the widget does not appear, nothing is stored.
    const before = (await app.api('GET', `/api/v1/workspaces/demo/surveys/${s.id}/responses?q=`)).total;
    const page = await app.page('fi');
    await page.goto(origin + '/');
    await page.waitForTimeout(500);
    assert.equal(await page.locator('.kohtaamo-widget').count(), 0, 'refused on a site not allowed');

    const { id, ...input } = s;
    delete input.links; delete input.key; delete input.public_key;
    await app.api('PUT', `/api/v1/workspaces/demo/surveys/${id}`, { ...input, allowed_origins: [...input.allowed_origins, origin] });
    await page.goto(origin + '/');
    const w = page.locator('.kohtaamo-widget');
    await w.waitFor();
    assert.ok(await w.getByText('Kuinka tyytyväinen olit palveluumme?').isVisible());
    await w.locator('label', { hasText: /^\s*2$/ }).first().click();
    await w.locator('textarea').fill('Maksu epäonnistui kerran');
    await w.locator('textarea').blur();
    await w.getByRole('button', { name: 'Lähetä' }).click();
    await w.getByText('Kiitos!').waitFor();
    await shot(page, 'widget-fi');
    const after = await app.api('GET', `/api/v1/workspaces/demo/surveys/${s.id}/responses?q=epäonnistui`);
    assert.equal(after.total, 1);
    const r = after.items[0];
    assert.equal(r.csat, 2);
    assert.equal(r.complete, true);
    assert.equal(r.customer_ref, 'cust-77');
    assert.equal(r.locale, 'fi');
    assert.equal(r.touchpoint_id, s.touchpoint_id);
    const total = (await app.api('GET', `/api/v1/workspaces/demo/surveys/${s.id}/responses`)).total;
    assert.equal(total, before + 1, 'partial saves and the final one are one response');
  } finally {
    site.close();
  }
});

test('the score dashboard shows each touchpoint with its margin, flags the weakest, and speaks Finnish', async () => {
  const page = await app.page('fi');
  const refused = cspWatch(page);
  await login(page, app.base, 'admin', ADMIN_PW);
  await page.goto(app.base + '/w/demo/dashboard');
  assert.ok(await page.getByRole('heading', { name: 'Asiakaskokemuksen mittarit' }).isVisible());
  const restaurant = page.locator('tr', { hasText: 'Käynti ravintolavaunussa' }).first();
  assert.match(await restaurant.innerText(), /[−-]\d+ ± \d+ \(n = \d+\)/, 'NPS with margin and n');
  assert.ok(await page.locator('tr.weakest').count() >= 1, 'a weakest encounter is flagged');
  // One 0–100 scale: the index (here the NPS itself, so drawn once), CSAT and CES.
  assert.equal(await page.locator('figure.trend svg polyline').count(), 3, 'weekly index, CSAT and CES lines');
  assert.ok(await page.locator('figure.trend svg text', { hasText: 'CES' }).count() === 1, 'CES in the legend');
  assert.ok(await page.locator('figure.trend svg circle title').count() > 10, 'each point says its values');
  const weekly = await page.locator('figure.trend svg circle').count();
  await page.locator('#d-grain').selectOption('month');
  await page.getByRole('button', { name: 'Suodata' }).click();
  await page.waitForURL(/grain=month/);
  assert.match(await page.locator('figure.trend figcaption').innerText(), /kuukausittain/);
  const monthly = await page.locator('figure.trend svg circle').count();
  assert.ok(monthly >= 4 && monthly < weekly, `monthly points ${monthly} < weekly ${weekly}`);
  await page.goto(app.base + '/w/demo/dashboard');
  assert.deepEqual((await axe(page)).map((v) => v.id), [], 'dashboard');
  await shot(page, 'dashboard-fi');
  // Every figure links to exactly the responses behind it: the list's total equals n.
  const n = Number(await restaurant.locator('td').first().innerText());
  await restaurant.locator('td').first().getByRole('link').click();
  await page.waitForURL(/\/w\/demo\/responses\?/);
  assert.equal(await page.locator('p.total').innerText().then((t) => Number(t.match(/(\d+) vastaus/)[1])), n);
  assert.deepEqual((await axe(page)).map((v) => v.id), [], 'responses behind a figure');
  // The previous period's NPS links to the previous period's responses (NPS is required there).
  await page.goBack();
  const prev = restaurant.locator('td').nth(2);
  const prevN = Number((await prev.innerText()).match(/n = (\d+)/)[1]);
  await prev.getByRole('link').click();
  await page.waitForURL(/\/w\/demo\/responses\?/);
  assert.equal(await page.locator('p.total').innerText().then((t) => Number(t.match(/(\d+) vastaus/)[1])), prevN);
  // The journey's own dashboard: its score beside the weakest touchpoint's, touchpoints
  // weakest first, drivers as a priority matrix.
  await page.goto(app.base + '/w/demo/dashboard?by=journey');
  const journeyRow = page.locator('table.scores tbody tr').first();
  const jn = Number(await journeyRow.locator('td').first().innerText());
  await journeyRow.locator('th a').click();
  await page.waitForURL(/\/dashboard\/journey\/\d+/);
  assert.equal(Number(await page.locator('table.summary tbody td').first().innerText()), jn);
  assert.ok(await page.locator('p.weakest-note').isVisible(), 'the weakest encounter beside the journey score');
  assert.ok(await page.locator('section.drivers svg circle.driver').count() >= 3, 'the priority matrix has touchpoints');
  const tpRows = await page.locator('table.scores').nth(1).locator('tbody tr').count();
  assert.ok(tpRows >= 5, 'touchpoints of the journey');
  const tcsv = await (await page.request.get(app.base + await page.locator('a[href*="touchpoints.csv"]').getAttribute('href'))).text();
  assert.equal(tcsv.trim().split('\n').length, tpRows + 1, 'the touchpoints table as CSV');
  assert.deepEqual((await axe(page)).map((v) => v.id), [], 'journey dashboard');
  await shot(page, 'journey-dashboard-fi');
  // An alert rule on this journey from its dashboard; a bad threshold is refused.
  await page.locator('#r-metric').selectOption('nps');
  await page.locator('#r-cond').selectOption('below');
  await page.locator('#r-threshold').fill('ei luku');
  await page.getByRole('button', { name: 'Lisää sääntö' }).click();
  assert.match(await page.locator('p.error').innerText(), /threshold/);
  assert.equal((await app.api('GET', '/api/v1/workspaces/demo/alert-rules')).total, 0, 'nothing stored');
  await page.goBack();
  await page.locator('#r-metric').selectOption('nps');
  await page.locator('#r-cond').selectOption('below');
  await page.locator('#r-threshold').fill('30');
  await page.getByRole('button', { name: 'Lisää sääntö' }).click();
  await page.waitForURL(/\/dashboard\/journey\/\d+/);
  assert.match(await page.locator('table.rules').innerText(), /NPS alle 30/);
  await page.goto(app.base + '/w/demo/alerts');
  assert.ok(await page.getByRole('heading', { name: 'Mittarihälytykset' }).isVisible());
  assert.deepEqual((await axe(page)).map((v) => v.id), [], 'alerts page');
  // Any group can be picked by name on the alerts page.
  const cs = (await app.api('GET', '/api/v1/workspaces/demo/units?q=customer')).items.find((u) => u.slug === 'customer-service');
  await page.locator('#r-group').selectOption(`unit:${cs.id}`);
  await page.locator('#r-metric').selectOption('csat');
  await page.locator('#r-cond').selectOption('drop');
  await page.getByRole('button', { name: 'Lisää sääntö' }).click();
  await page.waitForURL(/\/w\/demo\/alerts$/);
  assert.match(await page.locator('table.rules').innerText(), /CSAT laskee merkitsevästi/);
  const rules = (await app.api('GET', '/api/v1/workspaces/demo/alert-rules')).items;
  assert.ok(rules.some((r) => r.scope === 'unit' && r.key === cs.id && r.condition === 'drop'), JSON.stringify(rules));
  // The partner sees the same figures as our own units.
  await page.goto(app.base + '/w/demo/dashboard');
  await page.getByRole('link', { name: 'Kumppani' }).click();
  await page.locator('table.scores tbody tr th a').first().click();
  await page.waitForURL(/\/dashboard\/partner\/\d+/);
  assert.ok(await page.locator('table.scores').nth(1).locator('tbody tr').count() >= 1, "the partner's touchpoints");
  // The journey map and the blueprint have a score lane: the experience index per
  // touchpoint in a heat colour, with its metric and n.
  const j = (await app.api('GET', '/api/v1/workspaces/demo/journeys?q=train-trip')).items[0];
  await page.goto(app.base + `/w/demo/journeys/${j.id}`);
  assert.ok(await page.locator('svg text.tp-score', { hasText: /^\d+ \(NPS, n \d+\)$/ }).count() >= 1, 'index cell from NPS');
  assert.equal(await page.locator('svg rect.score').count(), await page.locator('svg rect.touchpoint').count());
  await shot(page, 'journey-map-scores-fi');
  await page.goto(app.base + `/w/demo/journeys/${j.id}/blueprint`);
  assert.ok(await page.locator('svg.blueprint text.tp-score', { hasText: /^\d+ \(CES, n \d+\)$/ }).count() >= 1, 'blueprint index cell from CES');
  assert.equal(await page.locator('svg.blueprint rect.score').count(), await page.locator('svg.blueprint rect.touchpoint').count());
  // The owning unit sees its touchpoints' scores.
  const it = (await app.api('GET', '/api/v1/workspaces/demo/units?q=it')).items.find((u) => u.slug === 'it');
  await page.goto(app.base + `/w/demo/units/${it.id}`);
  assert.ok(await page.getByRole('cell', { name: /^\d+ \(CSAT, n \d+\)$/ }).first().isVisible(), 'unit page shows scores');
  const csv = await (await page.request.get(app.base + '/w/demo/dashboard.csv?by=journey')).text();
  assert.match(csv.split('\n')[0], /journey,responses,nps,nps_margin,nps_n/);
  assert.equal(csv.trim().split('\n').length, 2, 'one journey row');
  assert.deepEqual(refused, [], 'no CSP violations');
});
