// A customer on a phone follows their case on its status page through three steps —
// in Finnish, then switching to English — with no JavaScript needed, no request to
// any other origin and no serious accessibility findings; they reply, answer the
// closing survey (linked to the case), and find the case by reference and second
// factor (a wrong one refused); a revoked link is refused. Staff find a demo case,
// move it, issue a link the customer opens, preview and revoke; an editor changes a
// journey's steps with the live preview; the case analytics page answers which
// waiting hurts most. Screenshots go to target/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, login, axe, MEMBER_PW, SHOTS } from './harness.js';

let app;
before(async () => { app = await startServer(); });
after(async () => { await app?.stop(); });

const shot = (page, name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

test('a customer on a phone follows a case through three steps', async () => {
  // A journey of its own, so the demo's case steps stay as they are for the next test.
  const segment = (await app.api('GET', '/api/v1/workspaces/demo/segments')).items[0];
  const journey = await app.api('POST', '/api/v1/workspaces/demo/journeys', {
    slug: 'browser-claim', name: { fi: 'Hyvityshakemus', en: 'Refund claim' }, segment_id: segment.id,
  });
  const unit = (await app.api('GET', '/api/v1/workspaces/demo/units')).items[0];
  await app.api('PUT', `/api/v1/workspaces/demo/journeys/${journey.id}/case-steps`, { steps: [
    { key: 'received', name: { fi: 'Hakemus vastaanotettu', en: 'Claim received' },
      next: { fi: 'Tarkistamme junan myöhästymisen.', en: 'We check the delay of your train.' },
      expected_days: 2, statuses: ['new'] },
    { key: 'checking', name: { fi: 'Käsittelyssä', en: 'Being checked' },
      next: { fi: 'Saat päätöksen sähköpostiisi.', en: 'You get the decision by e-mail.' },
      expected_days: 7, statuses: ['checking', 'waiting'] },
    { key: 'paid', name: { fi: 'Maksettu', en: 'Paid' }, statuses: ['paid'] },
  ] });
  // The closing survey: about the whole journey.
  const survey = await app.api('POST', '/api/v1/workspaces/demo/surveys', {
    slug: 'browser-claim-closing', name: { fi: 'Hyvityksen käsittely', en: 'Refund handling' }, status: 'active',
    journey_id: journey.id, questions: [{ key: 'nps', kind: 'nps', required: true }],
  });
  const c = await app.api('POST', '/api/v1/workspaces/demo/cases', {
    id: 'browser-refund-1', journey_id: journey.id, status: 'new', unit_id: unit.id,
    customer: 'crm:browser-1', language: 'fi', title: 'Myöhästyneen junan hyvitys', verifier: '00510',
  });
  const link = await app.api('POST', `/api/v1/workspaces/demo/cases/${c.id}/links`, {});

  const ctx = await app.browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
  const page = await ctx.newPage();
  const origins = new Set();
  page.on('request', (r) => origins.add(new URL(r.url()).origin));
  const expectStep = async (name, lang) => {
    await page.goto(app.base + link.path + (lang ? `?lang=${lang}` : ''));
    const current = page.locator('li[aria-current=step]');
    assert.equal(await current.count(), 1, 'one current step');
    assert.match(await current.innerText(), new RegExp(name), 'the current step, in words');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `no sideways scrolling (${width})`);
  };
  await expectStep('Nyt tässä: Hakemus vastaanotettu');
  assert.ok(await page.getByText(`${c.reference.slice(0, 4)}-${c.reference.slice(4)}`).isVisible(), 'the reference, readable');
  await shot(page, 'case-status-received-fi-390');
  await app.api('POST', `/api/v1/workspaces/demo/cases/${c.id}/status`, {
    status: 'checking', note: 'Myöhästyminen vahvistettu: 74 min.', ask: 'Kuva lipusta', ask_due: '2030-12-04',
  });
  await expectStep('Nyt tässä: Käsittelyssä');
  assert.ok(await page.getByText('Tarvitsemme sinulta').isVisible(), 'what is needed from the customer');
  assert.ok(await page.getByText('Myöhästyminen vahvistettu: 74 min.').isVisible(), 'the note in the history');
  // With JavaScript off the page is whole; axe needs scripts, so it runs in a second context.
  await shot(page, 'case-status-checking-fi-390');
  // The customer replies; it reaches the case, shown escaped to staff.
  await page.locator('#reply').fill('Lippu on liitteenä <b>sähköpostissa</b>.');
  await page.getByRole('button', { name: 'Lähetä viesti' }).click();
  assert.ok(await page.getByText('Kiitos, viestisi on välitetty').isVisible(), 'the reply was passed on');
  const timeline = await app.api('GET', `/api/v1/workspaces/demo/encounters?case_ref=browser-refund-1&kind=note`);
  assert.equal(timeline.items.filter((e) => e.text === 'Lippu on liitteenä <b>sähköpostissa</b>.').length, 1, 'stored as written, once');
  // E-mail is off on this server: the page offers no e-mail sign-up.
  assert.equal(await page.locator('#sub-email').count(), 0);
  await app.api('POST', `/api/v1/workspaces/demo/cases/${c.id}/status`, { status: 'paid' });
  await expectStep('Done: Paid', 'en');
  assert.ok(await page.getByText('Your case is done').isVisible());
  await shot(page, 'case-status-paid-en-390');
  // The closing survey, answered without JavaScript, is linked to the case.
  await page.getByRole('link', { name: /Tell us how your case was handled/ }).click();
  await page.locator('label.pt', { hasText: /^9$/ }).first().click();
  await page.waitForTimeout(2100); // the page refuses answers faster than a person
  await page.getByRole('button', { name: 'Send' }).click();
  assert.ok(await page.getByText(/Thank you/).first().isVisible());
  const answered = await app.api('GET', `/api/v1/workspaces/demo/surveys/${survey.id}/responses`);
  assert.deepEqual(answered.items.map((r) => r.case_ref), ['browser-refund-1'], 'the answer is linked to the case');
  const checked = await app.page('en');
  await checked.setViewportSize({ width: 390, height: 844 });
  for (const lang of ['fi', 'en']) {
    await checked.goto(app.base + link.path + `?lang=${lang}`);
    assert.deepEqual((await axe(checked)).map((v) => v.id), [], `status page ${lang}`);
  }
  // Revoked: refused like any unknown link.
  await app.api('POST', `/api/v1/workspaces/demo/cases/${c.id}/links/revoke`, {});
  const r = await page.goto(app.base + link.path);
  assert.equal(r.status(), 404);
  // Without the link: the reference and the second factor; a wrong factor is refused.
  await page.goto(app.base + '/s?org=demo&lang=fi');
  const shown = `${c.reference.slice(0, 4)}-${c.reference.slice(4)}`;
  await page.locator('#ref').fill(shown.toLowerCase());
  await page.locator('#ver').fill('99999');
  await page.getByRole('button', { name: 'Näytä asiani' }).click();
  assert.ok(await page.getByText('Tunnuksella ja antamallasi tiedolla ei löytynyt asiaa').isVisible(), 'refused');
  await shot(page, 'case-lookup-refused-fi-390');
  await page.locator('#ref').fill(shown);
  await page.locator('#ver').fill('005 10');
  await page.getByRole('button', { name: 'Näytä asiani' }).click();
  assert.match(page.url(), /\/s\/[0-9a-f]{36}$/, 'a fresh link opens the case');
  assert.equal(await page.locator('li[aria-current=step]').count(), 1);
  assert.deepEqual([...origins], [app.base], 'no request to another origin, all along');
  await ctx.close();
});

test('staff find a case, move it, issue a link and preview the customer page', async () => {
  const page = await app.page('en');
  await page.setViewportSize({ width: 1366, height: 900 });
  await login(page, app.base, 'editor', MEMBER_PW);
  await page.goto(app.base + '/w/demo/cases');
  const first = page.locator('table.cases a.ref').first();
  assert.ok(await first.count() > 0, 'the demo has cases');
  assert.deepEqual((await axe(page)).map((v) => v.id), [], 'cases list en');
  await shot(page, 'cases-en');
  const c = (await app.api('GET', '/api/v1/workspaces/demo/cases?status=checking&limit=1')).items[0];
  assert.ok(c, 'a demo case being checked');
  await page.goto(app.base + `/w/demo/cases/${c.id}`);
  assert.equal(await page.locator('li[aria-current=step]').count(), 1);
  await page.locator('#st').selectOption('approved');
  await page.locator('#note').fill('Hyvitys hyväksytty: 12,40 €.');
  await page.getByRole('button', { name: 'Save the status' }).click();
  assert.ok(await page.getByText('Status saved.').isVisible());
  assert.equal((await app.api('GET', `/api/v1/workspaces/demo/cases/${c.id}`)).status, 'approved');
  await page.getByRole('button', { name: 'Create a link' }).click();
  const url = (await page.locator('code.wrap').innerText()).trim();
  assert.match(url, /\/s\/[0-9a-f]{36}$/);
  assert.deepEqual((await axe(page)).map((v) => v.id), [], 'case page en');
  await shot(page, 'case-en');
  const customer = await app.page('fi');
  await customer.goto(url);
  assert.ok(await customer.getByText('Hyvitys hyväksytty: 12,40 €.').isVisible(), 'the note reached the customer');
  await page.goto(app.base + `/w/demo/cases/${c.id}/preview?lang=en`);
  assert.ok(await page.getByText('Preview: this is the customer').isVisible());
  await page.goto(app.base + `/w/demo/cases/${c.id}`);
  await page.getByRole('button', { name: 'Revoke all links' }).click();
  assert.ok(await page.getByText('Links revoked').isVisible());
  assert.equal((await customer.goto(url)).status(), 404);
  // A viewer sees the case but gets no forms.
  const viewer = await app.page('fi');
  await viewer.setViewportSize({ width: 390, height: 844 });
  await login(viewer, app.base, 'viewer', MEMBER_PW);
  await viewer.goto(app.base + `/w/demo/cases/${c.id}`);
  assert.equal(await viewer.locator('#st').count(), 0, 'no status form for a viewer');
  const width = await viewer.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no sideways scrolling (${width})`);
  assert.deepEqual((await axe(viewer)).map((v) => v.id), [], 'case page fi');
  await shot(viewer, 'case-fi-390');
});

test("an editor changes a journey's steps with the live preview; the analytics page answers its question", async () => {
  const page = await app.page('en');
  await page.setViewportSize({ width: 1366, height: 900 });
  await login(page, app.base, 'editor', MEMBER_PW);
  const journey = (await app.api('GET', '/api/v1/workspaces/demo/journeys')).items.find((j) => j.slug === 'train-trip');
  await page.goto(app.base + `/w/demo/journeys/${journey.id}/case-steps`);
  assert.deepEqual((await axe(page)).map((v) => v.id), [], 'step editor en');
  // The preview follows the typing, in the language and at the step chosen.
  await page.locator('#pv_lang').selectOption('fi');
  await page.locator('#pv_at').selectOption('1');
  await page.locator('#n1_fi').fill('Tarkistamme hakemustasi');
  await page.locator('#step-preview').getByText('Nyt tässä: Tarkistamme hakemustasi').waitFor();
  await shot(page, 'case-steps-editor-en');
  // A step whose statuses cases stand in cannot go: every case keeps a step.
  await page.locator('input[name=del1]').check();
  await page.getByRole('button', { name: 'Save the steps' }).click();
  assert.ok(await page.getByText(/stand in status checking/).isVisible(), 'refused with the reason');
  assert.equal((await app.api('GET', `/api/v1/workspaces/demo/journeys/${journey.id}/case-steps`)).items.length, 4, 'nothing stored');
  // Renaming is saved.
  await page.goto(app.base + `/w/demo/journeys/${journey.id}/case-steps`);
  await page.locator('#n1_en').fill('We are checking your claim');
  await page.getByRole('button', { name: 'Save the steps' }).click();
  assert.ok(await page.getByText('Steps saved.').isVisible());
  const steps = (await app.api('GET', `/api/v1/workspaces/demo/journeys/${journey.id}/case-steps`)).items;
  assert.equal(steps[1].name.en, 'We are checking your claim');
  assert.deepEqual(steps[1].statuses, ['checking', 'waiting-customer', 'resumed'], 'the rest as it was');
  // Analytics: the steps with their figures, and the answer to "which waiting hurts".
  const phone = await app.page('fi');
  await phone.setViewportSize({ width: 390, height: 844 });
  await login(phone, app.base, 'viewer', MEMBER_PW);
  await phone.goto(app.base + `/w/demo/cases/analytics?journey=${journey.id}`);
  assert.equal(await phone.locator('table.case-steps tbody tr').count(), 4);
  assert.ok(await phone.getByRole('heading', { name: 'Mikä odotus satuttaa eniten' }).isVisible());
  const width = await phone.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no sideways scrolling (${width})`);
  assert.deepEqual((await axe(phone)).map((v) => v.id), [], 'analytics fi');
  await shot(phone, 'case-analytics-fi-390');
});
