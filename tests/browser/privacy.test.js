// The privacy officer on the privacy page, in real Chromium: finds a demo customer by
// an identifier, sees what is held and their consents, downloads the export, opens
// the readable summary for the person in English, withdraws consents, previews the
// erasure (nothing goes), must tick the confirmation, erases, and finds nothing after;
// sets a retention period and sees what the next run removes; the audit chain is
// intact. A viewer gets no privacy page. Phone (390 px, fi) and laptop (en)
// screenshots go to target/screenshots/; no serious accessibility findings.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { startServer, login, axe, MEMBER_PW, SHOTS } from './harness.js';

let app;
before(async () => {
  app = await startServer();
  await app.api('POST', '/api/v1/users', { username: 'dpo', password: MEMBER_PW });
  await app.api('PUT', '/api/v1/workspaces/demo/members/dpo', { role: 'privacy' });
});
after(async () => { await app?.stop(); });

const shot = (page, name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

test('a privacy officer finds, exports, summarises and erases a person', async () => {
  // A customer of the demo's with encounters and a case, by their identifier.
  const cases = await app.api('GET', '/api/v1/workspaces/demo/cases?limit=50');
  const theirs = cases.items.find((c) => c.customer && !c.customer.includes('#'));
  assert.ok(theirs, 'a demo case with a plain customer identifier');
  const who = theirs.customer;
  await app.api('POST', '/api/v1/workspaces/demo/encounters', {
    id: 'privacy-browser-1', at: '2026-03-04T10:00:00Z', channel: 'phone',
    owner: { unit: (await app.api('GET', '/api/v1/workspaces/demo/units')).items[0].id },
    kind: 'note', customer: who, text: 'Asiakas kertoi osoitteensa: Ratakatu 7',
  });

  const page = await app.page('en');
  await page.setViewportSize({ width: 1280, height: 900 });
  await login(page, app.base, 'dpo', MEMBER_PW);
  await page.goto(app.base + '/w/demo/privacy');
  assert.equal(await page.getByRole('link', { name: 'Privacy' }).count(), 1, 'in the navigation');
  // Nothing asked: refused at the field, nothing else happens.
  await page.getByRole('button', { name: 'Find', exact: true }).click();
  assert.match(await page.getByRole('alert').innerText(), /identifier/i);

  await page.getByLabel('Identifiers, one per line').fill(who);
  await page.getByLabel(/^Words that name the person/).fill('Ratakatu 7');
  await page.getByRole('button', { name: 'Find', exact: true }).click();
  const held = page.getByRole('region', { name: 'What is held' });
  assert.match(await held.innerText(), /Encounters/);
  assert.match(await held.innerText(), /Cases/);
  assert.equal(await page.locator('#p-ids').inputValue(), who, 'the form keeps what was asked');

  // The export downloads as JSON with the case in it.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download everything (JSON)' }).click(),
  ]);
  const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
  assert.equal(exported.found, true);
  assert.ok(exported.record.tables.cases.some((c) => c.reference === theirs.reference));
  // Reading one of their responses is a read of their record: in the audit trail.
  const resp = (exported.record.tables.responses || [])[0];
  assert.ok(resp, 'the demo customer has answered a survey');
  {
    await page.goto(app.base + `/w/demo/surveys/${resp.survey_id}/responses/${resp.id}`);
    const trail = await app.api('GET', '/api/v1/workspaces/demo/audit');
    assert.equal(trail[0].action, 'record.read');
    assert.equal(trail[0].detail, 'response');
    assert.ok(!JSON.stringify(trail[0]).includes(who), 'never the identifier');
    await page.goto(app.base + '/w/demo/privacy');
    await page.getByLabel('Identifiers, one per line').fill(who);
    await page.getByLabel(/^Words that name the person/).fill('Ratakatu 7');
    await page.getByRole('button', { name: 'Find', exact: true }).click();
  }

  // The readable summary for the person, in the language chosen.
  await page.locator('#p-lang').selectOption('en');
  const [summary] = await Promise.all([
    page.context().waitForEvent('page'),
    page.getByRole('button', { name: 'Open a readable summary' }).click(),
  ]);
  await summary.waitForLoadState();
  assert.equal(await summary.getByRole('heading', { level: 1 }).innerText(), 'What we hold about you');
  assert.ok(await summary.getByText('Asiakas kertoi osoitteensa: Ratakatu 7', { exact: false }).isVisible());
  assert.ok(await summary.getByRole('heading', { name: 'Your cases' }).isVisible());
  await summary.setViewportSize({ width: 1280, height: 900 });
  await shot(summary, 'privacy-summary-en-laptop');
  assert.deepEqual(await axe(summary), []);
  await summary.close();
  // The same summary as an A4 PDF, in Finnish this time: text the person can read
  // (pdftotext finds it), rendered to PNG for the artifacts.
  await page.locator('#p-lang').selectOption('fi');
  const [pdfDownload] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download the summary (PDF)' }).click(),
  ]);
  const pdf = join(SHOTS, 'privacy-summary-fi.pdf');
  await pdfDownload.saveAs(pdf);
  assert.equal(readFileSync(pdf).subarray(0, 5).toString(), '%PDF-');
  const words = execFileSync('pdftotext', ['-layout', pdf, '-']).toString();
  assert.match(words, /Mitä sinusta on tallennettu/);
  assert.match(words, /Ratakatu 7/);
  execFileSync('pdftoppm', ['-png', '-r', '80', pdf, join(SHOTS, 'pdf-privacy-summary-fi')]);
  await page.locator('#p-lang').selectOption('en');

  await shot(page, 'privacy-found-en-laptop');
  assert.deepEqual(await axe(page), []);

  // Preview: nothing goes; erasing needs the box ticked.
  await page.getByRole('button', { name: 'Show what would be erased' }).click();
  const would = page.getByRole('region', { name: 'Erase' });
  assert.match(await would.innerText(), /What would be erased/);
  const still = await app.api('GET', `/api/v1/workspaces/demo/cases/${theirs.id}`);
  assert.equal(still.case?.id ?? still.id, theirs.id, 'the preview erased nothing');
  await shot(page, 'privacy-preview-en-laptop');
  await page.getByRole('button', { name: 'Erase for good' }).click();
  assert.match(await page.getByRole('alert').innerText(), /Tick the box/);
  await page.getByRole('button', { name: 'Show what would be erased' }).click();
  await page.getByLabel('I understand that the erasure cannot be undone.').check();
  await page.getByRole('button', { name: 'Erase for good' }).click();
  assert.match(await page.getByRole('status').innerText(), /rows erased/);
  assert.match(await page.getByRole('region', { name: 'What is held' }).innerText(), /Nothing is held about this person/);
  await assert.rejects(app.api('GET', `/api/v1/workspaces/demo/cases/${theirs.id}`), / 404 /, 'the case is gone');

  // Retention: a period set, the next run's count shown, the chain intact.
  await page.locator('input[name=days_encounters]').fill('30');
  await page.getByRole('button', { name: 'Save retention' }).click();
  assert.match(await page.getByRole('status').innerText(), /Retention saved/);
  const row = page.locator('table.retention tr', { hasText: 'Encounters' }).first();
  assert.equal(await row.locator('input').inputValue(), '30');
  assert.ok(Number((await row.locator('td.num').innerText()).trim()) > 0, 'the demo has encounters older than 30 days');
  assert.match(await page.locator('section', { hasText: 'Accountability' }).innerText(), /The audit trail is intact/);

  // Finnish on a phone.
  const phone = await app.page('fi');
  await phone.setViewportSize({ width: 390, height: 844 });
  await login(phone, app.base, 'dpo', MEMBER_PW);
  await phone.goto(app.base + '/w/demo/privacy');
  await phone.getByLabel('Tunnisteet, yksi riviä kohden').fill('crm:does-not-exist');
  await phone.getByRole('button', { name: 'Etsi', exact: true }).click();
  assert.match(await phone.getByRole('region', { name: 'Mitä on tallennettu' }).innerText(), /Henkilöstä ei ole tallennettu mitään/);
  const width = await phone.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no sideways scrolling (${width})`);
  await shot(phone, 'privacy-fi-390');
  assert.deepEqual(await axe(phone), []);

  // A viewer has no privacy page.
  const viewer = await app.page('en');
  await login(viewer, app.base, 'viewer', MEMBER_PW);
  const r = await viewer.goto(app.base + '/w/demo/privacy');
  assert.equal(r.status(), 403);
  assert.equal(await viewer.getByRole('link', { name: 'Privacy' }).count(), 0);
});
