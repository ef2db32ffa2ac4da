// ui_browser.js — the browser half of 0092: headless Chromium, driven by
// playwright-core, walks gale ui's pages like a person would.
//   node ui_browser.js   (environment: PW_DIR, CHROMIUM, UI_URL, TOPOLOGY_ID, SHOT, LV_URL)
// Exits 0 when every check holds, 1 with "FAIL: ..." lines otherwise.
'use strict';
const { chromium } = require(process.env.PW_DIR + '/node_modules/playwright-core');

const UI = process.env.UI_URL, ID = process.env.TOPOLOGY_ID, SHOT = process.env.SHOT;
const LV = process.env.LV_URL;
const step = s => console.log('browser: ' + s);

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const problems = [];
  try {
    const ctx = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    const page = await ctx.newPage();
    page.setDefaultTimeout(20000);
    // Nothing may come from the network: every request goes to the UI or a log viewer on loopback.
    page.on('request', r => {
      if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(r.url())) problems.push('a request off this machine: ' + r.url());
    });
    page.on('pageerror', e => problems.push('a script error on the page: ' + e.message));
    let dialogs = [];
    page.on('dialog', async d => {
      dialogs.push(d.type() + ': ' + d.message());
      if (d.type() === 'alert') problems.push('an alert() ran (script injection?): ' + d.message());
      await d.accept();
    });

    step('the cluster page lists the supervisor and the topology');
    await page.goto(UI + '/');
    await page.waitForSelector(`#topologies a[href="#/topology/${encodeURIComponent(ID)}"]`);
    const sups = await page.locator('#supervisors tbody tr').count();
    if (sups !== 1) problems.push(`cluster page: ${sups} supervisor rows, want 1`);
    const slots = await page.locator('#cluster td[data-key=slotsTotal]').textContent();
    if (slots.trim() !== '2') problems.push(`cluster page: slotsTotal ${slots}, want 2`);

    step('open the topology: spout and bolts with nonzero emitted counts');
    await page.click(`#topologies a[href="#/topology/${encodeURIComponent(ID)}"]`);
    await page.waitForSelector('#spouts tbody tr td[data-key=emitted]');
    const emitted = async () => page.$$eval('#spouts tbody tr, #bolts tbody tr', rows => rows.map(r =>
      [r.querySelector('td').textContent, +r.querySelector('td[data-key=emitted]').textContent]));
    const want = ['spout', 'split', 'count'];
    let rows = [];
    const end = Date.now() + 30000;
    for (;;) { // the page refreshes itself every 5 s: wait for counts to show
      rows = await emitted();
      const ok = want.every(w => rows.some(([id, n]) => id === w && n > 0));
      if (ok) break;
      if (Date.now() > end) {
        problems.push('components table: not all of ' + want + ' have emitted > 0: ' + JSON.stringify(rows));
        break;
      }
      await page.waitForTimeout(500);
    }
    step('components: ' + JSON.stringify(rows));

    step('the graph has a box per component and an edge per input');
    const boxes = await page.locator('#graph svg a').count();
    const edges = await page.locator('#graph svg path.edge').count();
    if (boxes !== 3 || edges !== 2) problems.push(`graph: ${boxes} boxes and ${edges} edges, want 3 and 2`);
    const graphText = await page.locator('#graph').textContent();
    if (!/executed\/s/.test(graphText) || !/capacity/.test(graphText)) problems.push('graph: no rate or capacity: ' + graphText);

    step('the tables sort: bolts by Executed, both ways');
    const executed = () => page.$$eval('#bolts tbody td[data-key=executed]', t => t.map(x => +x.textContent));
    await page.click('#bolts th[data-key=executed]');
    let ex = await executed();
    if (ex.join() !== [...ex].sort((a, b) => b - a).join()) problems.push('bolts by executed (descending): ' + ex);
    await page.click('#bolts th[data-key=executed]');
    ex = await executed();
    if (ex.join() !== [...ex].sort((a, b) => a - b).join()) problems.push('bolts by executed (ascending): ' + ex);
    await page.click('#bolts th[data-key=boltId]');
    const ids = await page.$$eval('#bolts tbody tr', r => r.map(x => x.querySelector('td').textContent));
    if (ids.join() !== 'count,split') problems.push('bolts by id: ' + ids);

    step('the workers link to their logs');
    const links = await page.$$eval('#workers a', a => a.map(x => x.href));
    if (links.length !== 2 || !links.every(l => /\/api\/v1\/log\?file=.+\/worker\.log$/.test(l))) {
      problems.push('workers: log links ' + JSON.stringify(links));
    }

    step('Deactivate (accepting the confirmation): the status shows INACTIVE');
    if ((await page.textContent('#topo-status')) !== 'ACTIVE') problems.push('status is not ACTIVE at first');
    dialogs = [];
    await page.click('#btn-deactivate');
    await page.waitForFunction(() => document.querySelector('#topo-status').textContent === 'INACTIVE');
    if (!dialogs.some(d => d.startsWith('confirm: ') && d.includes('deactivate'))) {
      problems.push('no confirmation before deactivating: ' + JSON.stringify(dialogs));
    }
    if (!(await page.isDisabled('#btn-deactivate')) || await page.isDisabled('#btn-activate')) {
      problems.push('INACTIVE: Deactivate should be disabled and Activate enabled');
    }
    await page.screenshot({ path: SHOT, fullPage: true });
    step('screenshot: ' + SHOT);

    step('dismissing the confirmation changes nothing');
    page.removeAllListeners('dialog');
    page.on('dialog', d => d.dismiss());
    await page.click('#btn-activate');
    await page.waitForTimeout(1500);
    if ((await page.textContent('#topo-status')) !== 'INACTIVE') problems.push('a dismissed Activate activated');
    page.removeAllListeners('dialog');
    page.on('dialog', d => d.accept());
    await page.click('#btn-activate');
    await page.waitForFunction(() => document.querySelector('#topo-status').textContent === 'ACTIVE');

    step('the component page: per executor and per stream');
    await page.click('#bolts a:text-is("split")');
    await page.waitForSelector('#executors tbody tr');
    const nex = await page.locator('#executors tbody tr').count();
    if (nex < 1) problems.push('split: no executor rows');
    const inputs = await page.$$eval('#input-stats tbody tr', r => r.map(x => x.querySelector('td').textContent));
    if (inputs.join() !== 'spout') problems.push('split: input stats ' + inputs);
    if ((await page.locator('#output-stats tbody tr').count()) < 1) problems.push('split: no output stats');

    step('a bad topology id in the URL: an error shown as text, nothing runs');
    await page.goto(UI + '/#/topology/' + encodeURIComponent('<img src=x onerror=alert(1)>'));
    await page.waitForSelector('#banner:not([hidden])');
    const banner = await page.textContent('#banner');
    if (!banner.includes('<img src=x onerror=alert(1)>')) problems.push('bad id: banner ' + banner);

    step('the log page: tail, search, page back, a hostile file name shown as text');
    const lp = await ctx.newPage();
    lp.on('pageerror', e => problems.push('log page script error: ' + e.message));
    lp.on('dialog', d => { problems.push('log page dialog: ' + d.message()); d.dismiss(); });
    await lp.goto(links[0]);
    await lp.waitForFunction(() => document.querySelector('#log').textContent.length > 0);
    const where = await lp.textContent('#where');
    if (!/^bytes [\d,]+–[\d,]+ of [\d,]+$/.test(where)) problems.push('log page: position ' + where);
    await lp.fill('#q', 'executors');
    await lp.click('#search button');
    await lp.waitForSelector('#matches li');
    if ((await lp.locator('#log mark').count()) < 0) problems.push('log page: no marks');
    await lp.click('#matches li a');
    await lp.waitForFunction(() => document.querySelector('#log').textContent.includes('executors'));
    await lp.check('#follow');
    await lp.waitForTimeout(300);
    await lp.uncheck('#follow');
    await lp.goto(LV + '/api/v1/log?file=' + encodeURIComponent('<img src=x onerror=alert(2)>'));
    await lp.waitForSelector('#error:not([hidden])');
    const shown = await lp.textContent('#file');
    if (shown !== '<img src=x onerror=alert(2)>') problems.push('log page: file name shown as ' + shown);
    if (await lp.locator('#log img, #file img').count()) problems.push('log page: markup from the URL became HTML');
    await lp.goto(LV + '/api/v1/log');
    await lp.waitForSelector('#files tr a');
  } catch (e) {
    problems.push(String(e && e.stack || e));
  } finally {
    await browser.close();
  }
  for (const p of problems) console.log('FAIL: ' + p);
  process.exit(problems.length ? 1 : 0);
})();
