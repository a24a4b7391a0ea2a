// Journey mining as a CX lead and a unit head see it: the actual journey over the
// designed one on the journey's own tab, its deviations with what they do to the
// experience index, the variants linking to an instance's timeline, the downloads
// (PDF rendered to PNG by pdftoppm, SVG, event log, Petri net) — in Finnish and
// English, on a laptop and a 390 px phone. Screenshots go to target/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startServer, login, axe, MEMBER_PW, SHOTS } from './harness.js';

let app;
before(async () => { app = await startServer(); });
after(async () => { await app?.stop(); });

const shot = (page, name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

test('the actual journey is drawn over the design, with its deviations, variants and hand-offs scored', async () => {
  const j = (await app.api('GET', '/api/v1/workspaces/demo/journeys?q=train-trip')).items[0];
  const report = await app.api('GET', `/api/v1/workspaces/demo/journeys/${j.id}/mining`);
  assert.ok(report.instances > 100, `${report.instances} instances in the demo`);
  for (const lang of ['fi', 'en']) {
    const page = await app.page(lang);
    await login(page, app.base, 'viewer', MEMBER_PW);
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(app.base + `/w/demo/journeys/${j.id}`);
    await page.getByRole('link', { name: lang === 'fi' ? 'Toteutunut asiakasmatka' : 'Actual journey' }).click();
    await page.waitForURL(new RegExp(`/journeys/${j.id}/actual`));
    // The figures are the API's.
    const stats = await page.$$eval('dl.stats dd', (dd) => dd.map((d) => d.textContent.trim()));
    assert.equal(stats[0], String(report.instances));
    assert.equal(stats[1], String(report.encounters));
    // Every designed touchpoint is a box; the flow has lines with their counts.
    const boxes = await page.locator('svg.actual-flow rect.tp-box').count();
    assert.ok(boxes >= 19, `${boxes} touchpoints drawn`);
    assert.ok(await page.locator('svg.actual-flow polyline.edge').count() >= 10, 'transitions drawn');
    const labels = await page.$$eval('svg.actual-flow text.edge-label', (ts) => ts.map((t) => t.textContent));
    assert.ok(labels.length > 0 && labels.every((l) => /^\d+ · [\d,.]+ (min|h|t|d|pv)$/.test(l)), labels.join(' | '));
    // No box text runs past its box.
    const overflow = await page.$$eval('svg.actual-flow', ([svg]) => {
      const boxes = [...svg.querySelectorAll('rect.tp-box, rect.outside-box')].map((r) => r.getBBox());
      return [...svg.querySelectorAll('text.tp-name, text.tp-count')].filter((t) => {
        const b = t.getBBox();
        return !boxes.some((r) => b.x >= r.x - 1 && b.x + b.width <= r.x + r.width + 1 && b.y >= r.y - 1 && b.y + b.height <= r.y + r.height + 1);
      }).map((t) => t.textContent);
    });
    assert.deepEqual(overflow, [], 'box texts inside their boxes');
    // Deviations with the index of those with and without; the funnel has every stage.
    const devRows = await page.locator('table.mining-deviations tbody tr').count();
    assert.equal(devRows, report.deviations.length);
    assert.equal(await page.locator('table.mining-funnel tbody tr').count(), report.funnel.length);
    assert.deepEqual((await axe(page)).map((v) => v.id), [], `actual journey ${lang}`);
    await shot(page, `mining-${lang}-1440`);
    // The PDF, rendered for the artifacts; the SVG and the event log download.
    const q = `from=${report.from}&to=${report.to}&by=case&gap_hours=168`;
    const r = await page.request.get(app.base + `/w/demo/journeys/${j.id}/actual.pdf?${q}`);
    assert.equal(r.status(), 200);
    const pdf = join(SHOTS, `mining-${lang}.pdf`);
    writeFileSync(pdf, await r.body());
    execFileSync('pdftoppm', ['-png', '-r', '80', '-singlefile', pdf, join(SHOTS, `pdf-mining-${lang}`)]);
    const text = execFileSync('pdftotext', [pdf, '-']).toString();
    assert.ok(text.includes(`${report.instances} ${lang === 'fi' ? 'matkaa' : 'instances'}`), 'the PDF says how many instances');
    const svg = await page.request.get(app.base + `/w/demo/journeys/${j.id}/actual.svg?${q}`);
    assert.ok((await svg.text()).includes('class="edge designed"'));
    // A variant's instance opens its case on the timeline.
    const link = page.locator('table.mining-variants tbody tr a').first();
    const caseRef = (await link.textContent()).trim();
    await link.click();
    await page.waitForURL(/\/customers\//);
    assert.ok((await page.content()).includes(caseRef), `timeline of ${caseRef}`);
  }
  // On a phone, the unit head reads the tables as cards, nothing wider than the screen.
  for (const lang of ['fi', 'en']) {
    const phone = await app.page(lang);
    await login(phone, app.base, 'viewer', MEMBER_PW);
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(app.base + `/w/demo/journeys/${j.id}/actual?by=customer&gap_hours=72`);
    const wide = await phone.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= 390, `page ${wide} px wide on a phone`);
    await shot(phone, `mining-${lang}-390`);
  }
  // A bad period is shown with the default one, not an error page.
  const page = await app.page('en');
  await login(page, app.base, 'viewer', MEMBER_PW);
  const resp = await page.goto(app.base + `/w/demo/journeys/${j.id}/actual?from=2026-13-01&gap_hours=0`);
  assert.equal(resp.status(), 200);
  assert.equal(await page.locator('p.error[role=alert]').count(), 1);
});

test('a report still being computed says so and is shown when ready; an earlier one stands in, marked', async () => {
  // A server that waits for no report: each not yet kept is "being computed".
  const quick = await startServer({ KOHTAAMO_REPORT_WAIT_SECONDS: '0' });
  try {
    const j = (await quick.api('GET', '/api/v1/workspaces/demo/journeys?q=train-trip')).items[0];
    const tp = (await quick.api('GET', '/api/v1/workspaces/demo/touchpoints?limit=1')).items[0];
    for (const lang of ['fi', 'en']) {
      const page = await quick.page(lang);
      await login(page, quick.base, 'viewer', MEMBER_PW);
      await page.setViewportSize({ width: 390, height: 844 });
      const url = quick.base + `/w/demo/journeys/${j.id}/actual`;
      const resp = await page.goto(url);
      assert.equal(resp.status(), 202);
      assert.equal(resp.headers()['retry-after'], '10');
      assert.equal((await page.locator('h1').textContent()).trim(), lang === 'fi' ? 'Lasketaan' : 'Being computed');
      assert.equal(await page.locator('[role=status][data-retry-after]').getAttribute('data-retry-after'), '10');
      assert.deepEqual((await axe(page)).map((v) => v.id), [], `computing ${lang}`);
      await shot(page, `mining-computing-${lang}-390`);
      await page.setViewportSize({ width: 1440, height: 900 });
      await shot(page, `mining-computing-${lang}-1440`);
      await page.setViewportSize({ width: 390, height: 844 });
      // The page asks again and shows the report when it is ready.
      await page.waitForSelector('dl.stats', { timeout: 30000 });
      assert.ok(Number(await page.locator('dl.stats dd').first().textContent()) > 100, 'the report is shown');
      // One more encounter: the report computed before stands in, marked with its time.
      const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      await quick.api('POST', '/api/v1/workspaces/demo/encounters',
        { id: `stale-${lang}`, at, touchpoint: tp.slug, kind: 'contact', case_ref: `STALE-${lang}` });
      const again = await page.goto(url);
      assert.equal(again.status(), 200);
      const notice = (await page.locator('p.notice[role=status]').textContent()).trim();
      assert.match(notice, lang === 'fi' ? /^Näytetään \d{1,2}\.\d{1,2}\.\d{4} \d\d:\d\d \(UTC\) laskettu raportti/ : /^Shown: the report computed at \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d \(UTC\)/);
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(wide <= 390, `page ${wide} px wide on a phone`);
      await shot(page, `mining-stale-${lang}-390`);
      await page.setViewportSize({ width: 1440, height: 900 });
      await page.screenshot({ path: join(SHOTS, `mining-stale-${lang}-1440.png`) });
    }
  } finally {
    await quick.stop();
  }
});
