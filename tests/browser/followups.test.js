// Closing the loop: a unit head on a phone takes a follow-up, records the contact,
// resolves it and closes it with a root cause — in Finnish; the list and the closed
// follow-up in English too. Screenshots go to target/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, login, axe, MEMBER_PW, SHOTS } from './harness.js';

let app;
before(async () => { app = await startServer(); });
after(async () => { await app?.stop(); });

const shot = (page, name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const noSideways = async (page, what) => {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `${what}: no sideways scrolling (${width})`);
};

test('a unit head on a phone takes, contacts, resolves and closes a follow-up', async () => {
  const tps = (await app.api('GET', '/api/v1/workspaces/demo/touchpoints?limit=100')).items;
  const tp = tps.find((t) => t.owner && t.owner.unit);
  const unit = tp.owner.unit;
  // The viewer works in the unit owning the touchpoint: a unit head, not an editor.
  await app.api('PUT', `/api/v1/workspaces/demo/units/${unit}/members/viewer`);
  await app.api('POST', '/api/v1/workspaces/demo/captures', {
    id: 'fu-browser-1', touchpoint_id: tp.id, words: 'quote', text: 'Six weeks and still no refund',
    feeling: -2, customer: 'crm:fu-browser', needs_follow_up: true,
  });
  const [fu] = (await app.api('GET', '/api/v1/workspaces/demo/follow-ups?customer=crm:fu-browser')).items;
  assert.equal(fu.unit_id, unit, 'it went to the owning unit');

  const page = await app.page('fi');
  await page.setViewportSize({ width: 390, height: 844 });
  await login(page, app.base, 'viewer', MEMBER_PW);
  await page.goto(app.base + '/w/demo/follow-ups');
  // *Omat*: the unit's unassigned follow-up is there.
  const link = page.locator(`a[href="/w/demo/follow-ups/${fu.id}"]`);
  assert.equal(await link.count(), 1, 'on my list');
  await noSideways(page, 'list');
  assert.deepEqual((await axe(page)).map((v) => v.id), [], 'list fi');
  await shot(page, 'follow-ups-fi-390');
  await page.goto(app.base + `/w/demo/units/${unit}`);
  assert.equal(await page.locator(`section[aria-labelledby=follow-ups-h] a[href="/w/demo/follow-ups/${fu.id}"]`).count(), 1,
    'the new follow-up on its unit\'s page');
  await page.goto(app.base + '/w/demo/follow-ups');
  await link.click();
  assert.ok(await page.getByText('Tila: Uusi').isVisible());
  await noSideways(page, 'follow-up');
  assert.deepEqual((await axe(page)).map((v) => v.id), [], 'follow-up fi');
  await shot(page, 'follow-up-new-fi-390');
  await page.getByRole('button', { name: 'Otan tämän' }).click();
  assert.ok(await page.getByText('Jatkotoimi on nyt sinun.').isVisible());
  await page.getByRole('button', { name: 'Asiakkaaseen otettu yhteyttä' }).click();
  assert.ok(await page.getByText('Tila: Asiakkaaseen otettu yhteyttä').isVisible());
  await page.getByRole('button', { name: 'Ratkaistu', exact: true }).click();
  assert.ok(await page.getByText('Tila: Ratkaistu').isVisible());
  await page.locator('#rc').selectOption('information');
  await page.locator('#taken').fill('Hyvitys maksettu; lipputoimistolle ohje palautusten seurannasta');
  await page.getByRole('button', { name: 'Sulje' }).click();
  assert.ok(await page.getByText('Tila: Suljettu').isVisible());
  assert.ok(await page.locator('dl.facts').getByText('Tieto ei kulkenut').isVisible(), 'the root cause shown');
  const steps = await page.locator('ol.history li').allTextContents();
  assert.equal(steps.length, 4, steps.join(' | '));
  assert.match(steps[3], /Suljettu: Tieto ei kulkenut — Hyvitys maksettu/);
  assert.deepEqual((await axe(page)).map((v) => v.id), [], 'closed fi');
  await shot(page, 'follow-up-closed-fi-390');
  // The unit's page: its open follow-ups (the demo's), and the root causes of the
  // closed ones — now with this one's.
  await page.goto(app.base + `/w/demo/units/${unit}`);
  const section = page.locator('section[aria-labelledby=follow-ups-h]');
  assert.ok(await section.locator('table.causes').getByText('Tieto ei kulkenut').isVisible(), 'root causes on the unit page');
  await noSideways(page, 'unit');
  assert.deepEqual((await axe(page)).map((v) => v.id), [], 'unit fi');
  await section.screenshot({ path: join(SHOTS, 'unit-follow-ups-fi-390.png') });
  // The customer's timeline tells the same story.
  await page.goto(app.base + '/w/demo/customers/crm%3Afu-browser');
  const tl = await page.locator('ol.timeline').textContent();
  for (const step of ['Jatkotoimi avautui (nyt: Suljettu)', 'Jatkotoimi: Asiakkaaseen otettu yhteyttä', 'Jatkotoimi: Suljettu']) {
    assert.ok(tl.includes(step), `${step} in the timeline`);
  }
  assert.ok(!(await page.locator('.handoff').textContent()).includes('Six weeks and still no refund'),
    'a capture whose follow-up is closed waits for no one');
  assert.deepEqual((await axe(page)).map((v) => v.id), [], 'timeline fi');
  await shot(page, 'timeline-follow-up-fi-390');
  const stored = await app.api('GET', `/api/v1/workspaces/demo/follow-ups/${fu.id}`);
  assert.equal(stored.status, 'closed');
  assert.equal(stored.root_cause, 'information');
  assert.deepEqual(stored.events.map((e) => e.by), Array(4).fill('user:viewer'));

  // The same in English on a laptop: the closed list and the follow-up.
  const en = await app.page('en');
  await login(en, app.base, 'viewer', MEMBER_PW);
  await en.goto(app.base + '/w/demo/follow-ups?view=closed');
  assert.equal(await en.locator(`a[href="/w/demo/follow-ups/${fu.id}"]`).count(), 1, 'on the closed list');
  assert.deepEqual((await axe(en)).map((v) => v.id), [], 'closed list en');
  await shot(en, 'follow-ups-closed-en');
  await en.goto(app.base + `/w/demo/follow-ups/${fu.id}`);
  assert.ok(await en.getByText('Status: Closed').isVisible());
  assert.ok(await en.getByRole('button', { name: 'Reopen' }).isVisible(), 'a closed one can be reopened');
  await shot(en, 'follow-up-closed-en');
  await en.setViewportSize({ width: 390, height: 844 });
  await shot(en, 'follow-up-closed-en-390');
});

test('someone outside the unit sees the follow-up but gets no buttons and cannot post a step', async () => {
  const [fu] = (await app.api('GET', '/api/v1/workspaces/demo/follow-ups?customer=crm:fu-browser')).items;
  // The editor role may act anywhere; a second viewer outside the unit may not.
  await app.api('POST', '/api/v1/users', { username: 'outsider', password: MEMBER_PW });
  await app.api('PUT', '/api/v1/workspaces/demo/members/outsider', { role: 'viewer' });
  const page = await app.page('en');
  await login(page, app.base, 'outsider', MEMBER_PW);
  await page.goto(app.base + `/w/demo/follow-ups/${fu.id}`);
  assert.equal(await page.getByRole('button', { name: 'Reopen' }).count(), 0);
  const csrf = await page.locator('form.inline input[name=_csrf]').first().inputValue();
  const r = await page.request.post(app.base + `/w/demo/follow-ups/${fu.id}`, { form: { _csrf: csrf, action: 'reopen' } });
  assert.equal(r.status(), 403);
  const after = await app.api('GET', `/api/v1/workspaces/demo/follow-ups/${fu.id}`);
  assert.equal(after.status, 'closed', 'nothing changed');
});

test('an editor adds a follow-up rule on its page; a bad one is refused with the reason and nothing stored', async () => {
  const before = (await app.api('GET', '/api/v1/workspaces/demo/follow-up-rules?limit=100')).items.length;
  const page = await app.page('en');
  await login(page, app.base, 'editor', MEMBER_PW);
  await page.goto(app.base + '/w/demo/follow-up-rules');
  assert.equal(await page.locator('table.rules th', { hasText: 'Arvostelijat (NPS 0–4)' }).count(), 1, "the demo's rules listed");
  assert.deepEqual((await axe(page)).map((v) => v.id), [], 'rules en');
  // NPS 12 is off the scale.
  await page.locator('#r-name').fill('Very unhappy at the desk');
  await page.locator('#r-trigger').selectOption('nps');
  await page.locator('#r-threshold').fill('12');
  await page.getByRole('button', { name: 'Add the rule' }).click();
  assert.ok(await page.getByRole('alert').getByText('0 to 10').isVisible(), 'the reason');
  assert.equal(await page.locator('#r-name').inputValue(), 'Very unhappy at the desk', 'what was typed is kept');
  assert.equal((await app.api('GET', '/api/v1/workspaces/demo/follow-up-rules?limit=100')).items.length, before, 'nothing stored');
  await page.locator('#r-trigger').selectOption('words');
  await page.locator('#r-threshold').fill('');
  await page.locator('#r-terms').fill('lost luggage, matkatavara');
  await page.locator('#r-contact').fill('8');
  await page.locator('#r-resolve').fill('72');
  await page.getByRole('button', { name: 'Add the rule' }).click();
  const row = page.locator('table.rules tr', { hasText: 'Very unhappy at the desk' });
  assert.ok(await row.getByText('Words in an open answer: lost luggage, matkatavara').isVisible());
  assert.ok(await row.getByText('Contact within 8 h, resolve within 72 h').isVisible());
  await shot(page, 'follow-up-rules-en');
  const rules = (await app.api('GET', '/api/v1/workspaces/demo/follow-up-rules?limit=100')).items;
  const added = rules.find((r) => r.name === 'Very unhappy at the desk');
  assert.deepEqual([added.trigger, added.terms, added.contact_hours, added.resolve_hours], ['words', ['lost luggage', 'matkatavara'], 8, 72]);
  const fi = await app.page('fi');
  await fi.setViewportSize({ width: 390, height: 844 });
  await login(fi, app.base, 'editor', MEMBER_PW);
  await fi.goto(app.base + '/w/demo/follow-up-rules');
  await noSideways(fi, 'rules');
  assert.deepEqual((await axe(fi)).map((v) => v.id), [], 'rules fi');
  await shot(fi, 'follow-up-rules-fi-390');
  // Changed: the form comes back filled in; the new target is saved.
  await page.locator('table.rules tr', { hasText: 'Very unhappy at the desk' }).getByRole('link', { name: /Edit/ }).click();
  await page.waitForURL(/edit=/);
  assert.equal(await page.locator('#r-terms').inputValue(), 'lost luggage, matkatavara', 'the form is filled in');
  await page.locator('#r-resolve').fill('96');
  await page.getByRole('button', { name: 'Save the rule' }).click();
  assert.ok(await page.locator('table.rules tr', { hasText: 'Very unhappy at the desk' }).getByText('Contact within 8 h, resolve within 96 h').isVisible());
  assert.equal((await app.api('GET', '/api/v1/workspaces/demo/follow-up-rules?limit=100')).items.filter((r) => r.name === 'Very unhappy at the desk').length, 1, 'changed, not added');
  // Switched off: it opens nothing (and says so), then on again.
  await row.getByRole('button', { name: /Switch off/ }).click();
  assert.ok(await page.locator('table.rules tr', { hasText: 'Very unhappy at the desk' }).getByText('(off)').isVisible());
  let stored = (await app.api('GET', '/api/v1/workspaces/demo/follow-up-rules?limit=100')).items.find((r) => r.name === 'Very unhappy at the desk');
  assert.equal(stored.active, false);
  await page.locator('table.rules tr', { hasText: 'Very unhappy at the desk' }).getByRole('button', { name: /Switch on/ }).click();
  stored = (await app.api('GET', '/api/v1/workspaces/demo/follow-up-rules?limit=100')).items.find((r) => r.name === 'Very unhappy at the desk');
  assert.equal(stored.active, true);
  // Deleted again: the follow-ups it opened would stay.
  await page.locator('table.rules tr', { hasText: 'Very unhappy at the desk' }).getByRole('button', { name: /Delete/ }).click();
  assert.equal(await page.locator('table.rules tr', { hasText: 'Very unhappy at the desk' }).count(), 0);
});

test('a customer answers the recovery survey on a phone; a poor answer reopens the follow-up', async () => {
  // A detractor in the restaurant car leaves an address: the partner's follow-up goes
  // to the unit that manages the partner, and the customer may be contacted.
  const surveys = (await app.api('GET', '/api/v1/workspaces/demo/surveys?limit=100')).items;
  const car = surveys.find((s) => s.slug === 'restaurant-car');
  const key = (await app.api('GET', `/api/v1/workspaces/demo/surveys/${car.id}/links`)).public_url.split('/').pop();
  const r = await fetch(app.base + `/api/public/v1/surveys/${key}/responses`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'recovery-browser-1', answers: { nps: 1, contact: 'liisa@example.fi' }, complete: true,
      hidden: { customer_ref: 'crm:recovery-browser' } }),
  });
  assert.equal(r.status, 201, await r.text());
  const [fu] = (await app.api('GET', '/api/v1/workspaces/demo/follow-ups?customer=crm:recovery-browser')).items;
  const units = (await app.api('GET', '/api/v1/workspaces/demo/units?limit=100')).items;
  assert.equal(fu.unit_id, units.find((u) => u.slug === 'onboard-services').id, "the partner's managing unit");
  assert.equal(fu.contact, 'liisa@example.fi');
  for (const body of [{ action: 'contact' }, { action: 'close', root_cause: 'partner', action_taken: 'Meal refunded; the operator briefed' }]) {
    await app.api('POST', `/api/v1/workspaces/demo/follow-ups/${fu.id}/actions`, body);
  }
  // Staff see the link to hand over (e-mail is off in this server, and the page says so).
  const staff = await app.page('fi');
  await staff.setViewportSize({ width: 390, height: 844 });
  await login(staff, app.base, 'editor', MEMBER_PW);
  await staff.goto(app.base + `/w/demo/follow-ups/${fu.id}`);
  const link = (await staff.locator('dl.facts code').textContent()).trim();
  assert.match(link, /\/r\/\d+\/[0-9a-f]{32}$/);
  assert.ok(await staff.getByText('Sähköposti ei ole käytössä').isVisible());
  assert.ok(await staff.locator('dl.facts a[href="mailto:liisa@example.fi"]').isVisible(), 'how to reach the customer');
  await noSideways(staff, 'closed follow-up');
  await shot(staff, 'follow-up-recovery-link-fi-390');

  // The customer, on a phone, in Finnish: one question, no JavaScript needed.
  const customer = await app.page('fi');
  await customer.setViewportSize({ width: 390, height: 844 });
  const path = new URL(link).pathname;
  const resp = await customer.goto(app.base + path);
  assert.equal(resp.headers()['referrer-policy'], 'no-referrer');
  assert.ok(await customer.getByRole('heading', { name: 'Saatiinko asiasi kuntoon?' }).isVisible());
  assert.equal(await customer.locator('script').count(), 0, 'no script');
  await noSideways(customer, 'recovery');
  assert.deepEqual((await axe(customer)).map((v) => v.id), [], 'recovery fi');
  await shot(customer, 'recovery-fi-390');
  // Looking again changes nothing; the answer 1 reopens it.
  await customer.reload();
  assert.equal((await app.api('GET', `/api/v1/workspaces/demo/follow-ups/${fu.id}`)).status, 'closed');
  await customer.locator('label.pt', { hasText: '1' }).first().click();
  await customer.getByRole('button', { name: 'Lähetä' }).click();
  assert.ok(await customer.getByText('asiasi on avattu uudelleen').isVisible());
  assert.deepEqual((await axe(customer)).map((v) => v.id), [], 'recovery answered fi');
  await shot(customer, 'recovery-reopened-fi-390');
  const after = await app.api('GET', `/api/v1/workspaces/demo/follow-ups/${fu.id}`);
  assert.equal(after.status, 'contacted', 'reopened, the customer was contacted before');
  assert.deepEqual(after.events.slice(-2).map((e) => [e.action, e.by]), [['recovery', 'customer'], ['reopen', 'customer']]);
  // Staff see why it came back.
  await staff.reload();
  const steps = await staff.locator('ol.history li').allTextContents();
  assert.match(steps[steps.length - 1], /Avattu uudelleen: asiakkaan palautumisvastaus oli 1 \/ 5/);
  assert.deepEqual((await axe(staff)).map((v) => v.id), [], 'reopened follow-up fi');
  await shot(staff, 'follow-up-reopened-fi-390');

  // The English page on a laptop; answering again is refused politely.
  const en = await app.page('en');
  await en.goto(app.base + path + '?lang=en');
  assert.ok(await en.getByText('answered already').isVisible() || await en.getByText('How well was your matter put right?').isVisible());
  await shot(en, 'recovery-en');
  // A wrong link is a plain 404 page.
  const bad = await en.goto(app.base + path.replace(/[0-9a-f]{4}$/, '0000'));
  assert.equal(bad.status(), 404);
});

test('a journey dashboard shows the root causes and recovery behind its touchpoints', async () => {
  const journeys = (await app.api('GET', '/api/v1/workspaces/demo/journeys?limit=100')).items;
  const trip = journeys.find((j) => j.slug === 'train-trip');
  for (const [lang, width, name] of [['fi', 390, 'dashboard-loop-fi-390'], ['en', 1280, 'dashboard-loop-en']]) {
    const page = await app.page(lang);
    await page.setViewportSize({ width, height: 900 });
    await login(page, app.base, 'viewer', MEMBER_PW);
    await page.goto(app.base + `/w/demo/dashboard/journey/${trip.id}`);
    const section = page.locator('section[aria-labelledby=loop-h]');
    assert.ok(await section.isVisible(), 'the outer loop section');
    const rows = await section.locator('table.loop tbody tr').count();
    assert.ok(rows >= 2, `touchpoints with closed follow-ups (${rows})`);
    if (width === 390) await noSideways(page, 'dashboard');
    assert.deepEqual((await axe(page)).map((v) => v.id), [], `dashboard ${lang}`);
    await section.screenshot({ path: join(SHOTS, `${name}.png`) });
  }
  const o = await app.api('GET', '/api/v1/workspaces/demo/follow-up-outcomes');
  assert.ok(o.all.closed > 100, `closed in 90 days: ${o.all.closed}`);
  assert.ok(o.all.recovery.of > 30, 'a recovery rate that means something');
  assert.ok(o.by_unit.length >= 2);
});

test('an editor applies a rule to past answers: a preview first, then the follow-ups open once', async () => {
  const surveys = (await app.api('GET', '/api/v1/workspaces/demo/surveys?limit=100')).items;
  const car = surveys.find((s) => s.slug === 'restaurant-car');
  const rule = await app.api('POST', '/api/v1/workspaces/demo/follow-up-rules',
    { name: 'Passives in the restaurant car', trigger: 'nps', threshold: 8, scope: 'survey', scope_id: car.id });
  const day = (d) => new Date(Date.now() - d * 86400000).toISOString().slice(0, 10);
  const period = { from: day(6), to: day(0) };
  const expected = await app.api('POST', `/api/v1/workspaces/demo/follow-up-rules/${rule.id}/apply`, period);
  assert.ok(expected.matching > 0 && expected.already === 0, JSON.stringify(expected));
  const page = await app.page('fi');
  await page.setViewportSize({ width: 390, height: 844 });
  await login(page, app.base, 'editor', MEMBER_PW);
  await page.goto(app.base + '/w/demo/follow-up-rules');
  const section = page.locator('section[aria-labelledby=past-h]');
  await section.locator('#p-rule').selectOption(String(rule.id));
  await section.locator('#p-from').fill(period.from);
  await section.locator('#p-to').fill(period.to);
  await section.getByRole('button', { name: 'Katso montako' }).click();
  const status = page.locator('section[aria-labelledby=past-h] [role=status]');
  assert.equal((await status.textContent()).trim(),
    `${expected.matching} vastausta osuu; 0 on jo tämän säännön jatkotoimi; ${expected.matching} avautuisi.`);
  await noSideways(page, 'rules with a preview');
  assert.deepEqual((await axe(page)).map((v) => v.id), [], 'preview fi');
  await section.screenshot({ path: join(SHOTS, 'follow-up-rules-past-fi-390.png') });
  await page.locator('section[aria-labelledby=past-h]').getByRole('button', { name: 'Avaa ne' }).click();
  assert.match(await page.locator('section[aria-labelledby=past-h] [role=status]').textContent(), new RegExp(`${expected.matching} jatkotoimea avattu|Yksi jatkotoimi avattu`));
  const after = await app.api('POST', `/api/v1/workspaces/demo/follow-up-rules/${rule.id}/apply`, period);
  assert.deepEqual(after, { matching: expected.matching, already: expected.matching, opened: 0 }, 'opened once');
  await app.api('DELETE', `/api/v1/workspaces/demo/follow-up-rules/${rule.id}`);
});

test('a member gives the e-mail address notifications go to; a bad one is refused and nothing saved', async () => {
  const page = await app.page('fi');
  await page.setViewportSize({ width: 390, height: 844 });
  await login(page, app.base, 'viewer', MEMBER_PW);
  await page.goto(app.base + '/tokens');
  assert.ok(await page.getByText('Sähköposti ei ole käytössä tässä asennuksessa').isVisible(), 'says e-mail is off');
  await page.locator('#account-email').fill('viewer at example');
  await page.getByRole('button', { name: 'Tallenna osoite' }).click();
  assert.ok(await page.getByRole('alert').isVisible(), 'the reason');
  assert.equal(await page.locator('#account-email').inputValue(), 'viewer at example', 'what was typed is kept');
  await page.goto(app.base + '/tokens');
  assert.equal(await page.locator('#account-email').inputValue(), '', 'nothing saved');
  await page.locator('#account-email').fill('viewer@example.fi');
  await page.getByRole('button', { name: 'Tallenna osoite' }).click();
  assert.ok(await page.getByText('Tallennettu.').isVisible());
  await page.goto(app.base + '/tokens');
  assert.equal(await page.locator('#account-email').inputValue(), 'viewer@example.fi');
  await noSideways(page, 'account');
  assert.deepEqual((await axe(page)).map((v) => v.id), [], 'account fi');
  await shot(page, 'account-email-fi-390');
});
