// Browser test of the scpd dashboard: headless Debian chromium driven by playwright-core.
// Run by tests/integration/test_obs_web.py, which starts scpd, reads this script's stdout
// protocol ("READY" -> it starts a slow upload) and checks the results through the API.
// Env: SCPD_URL (http://127.0.0.1:PORT), SCPD_ARTIFACTS (screenshot directory).
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const url = process.env.SCPD_URL;
const out = process.env.SCPD_ARTIFACTS || path.join(path.dirname(new URL(import.meta.url).pathname), 'artifacts');
fs.mkdirSync(out, { recursive: true });
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'scpd-chromium-'));
const say = (m) => process.stdout.write(m + '\n');
const step = (m) => process.stderr.write('step: ' + m + '\n');

const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1366, height: 768 },
});
const errors = [];
try {
  const page = ctx.pages()[0] || await ctx.newPage();
  page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
  // HTTP errors are judged by URL below (the console only says "Failed to load resource").
  page.on('console', (m) => {
    if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) errors.push('console: ' + m.text());
  });
  const expected = [
    [401, /\/restconf\/operations\/scpd:login$/],            // the wrong password, on purpose
    [404, /\/Cisco-IOS-XE-native:native\/hostname$/],         // no hostname configured
    [403, /\/Cisco-IOS-XE-native:native\/(hostname|username)$/], // configuration needs 15
  ];
  page.on('response', (r) => {
    if (r.status() >= 400 && !expected.some(([st, re]) => st === r.status() && re.test(r.url())))
      errors.push('HTTP ' + r.status() + ' ' + r.request().method() + ' ' + r.url());
  });
  page.setDefaultTimeout(30000);

  step('login page');
  await page.goto(url + '/');
  await page.waitForSelector('#login-form', { state: 'visible' });
  await page.fill('#login-user', 'tiger');
  await page.fill('#login-pass', 'wrong-password');
  await page.click('#login-submit');
  await page.waitForFunction(() => document.querySelector('#login-error').textContent.length > 0);
  await page.screenshot({ path: path.join(out, '01-login-error.png') });
  await page.fill('#login-pass', 'lab');
  await page.click('#login-submit');
  await page.waitForSelector('#login', { state: 'hidden' });
  await page.waitForFunction(() => document.querySelector('#who-name').textContent === 'tiger');
  await page.waitForFunction(() => document.querySelector('#live').classList.contains('up'));

  step('debug on');
  await page.click('#debug-toggle');
  await page.waitForFunction(() => document.querySelector('#debug-state').textContent === 'on');

  step('watch a transfer');
  /* whether the running upload's reservation ever shows on bootflash: while it runs */
  await page.evaluate(() => {
    window.__sawReserved = false;
    window.__fsWatch = setInterval(() => {
      const li = document.querySelector('#fs-list li[data-fs="bootflash"]');
      if (li && /reserved by uploads/.test(li.querySelector('.fs-sub').textContent)) window.__sawReserved = true;
    }, 100);
  });
  say('READY');
  await page.waitForSelector('.xfer .bar[role=progressbar]');
  await page.waitForFunction(() => {
    const b = document.querySelector('.xfer .bar[role=progressbar]');
    const v = b && Number(b.getAttribute('aria-valuenow'));
    return v >= 20 && v < 95;
  });
  await page.waitForFunction(() => /\/s/.test(document.querySelector('.xfer .figures').textContent));
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(out, '02-dashboard-mid-transfer.png') });
  say('PROGRESS ' + await page.$eval('.xfer .bar', (b) => b.getAttribute('aria-valuenow')));
  await page.waitForSelector('#history tbody tr td.path >> text=slow.bin');
  await page.waitForFunction(() => document.querySelectorAll('.xfer').length === 0);
  await page.waitForFunction(() => /recv C0644 \d+ slow\.bin/.test(document.querySelector('#debug-pane').textContent));
  say('DEBUG-LINE');
  if (!await page.evaluate(() => { clearInterval(window.__fsWatch); return window.__sawReserved; }))
    throw new Error('file systems panel never showed the running upload\'s reservation');

  step('file systems panel: bootflash: holds the upload (scpd runs with --fs-size bootflash=64M)');
  await page.waitForFunction(() => {
    const li = document.querySelector('#fs-list li[data-fs="bootflash"]');
    return li && /^6\.00 MiB used of 64\.0 MiB$/.test(li.querySelector('.fs-figures').textContent) &&
      li.querySelector('.fs-bar').getAttribute('aria-valuenow') === '9';
  });
  const fsText = await page.$eval('#fs-list', (u) => u.textContent);
  if (!/bootflash:flash:/.test(fsText) || !/58\.0 MiB free/.test(fsText) || !/size set/.test(fsText) ||
      !/nvram:/.test(fsText)) throw new Error('file systems panel: ' + fsText);
  await (await page.$('#card-fs')).screenshot({ path: path.join(out, '07-file-systems.png') });
  say('FS-PANEL');

  step('switch the SCP server off and on');
  await page.click('#scp-toggle');
  await page.waitForFunction(() => document.querySelector('#scp-toggle').getAttribute('aria-checked') === 'false');
  await page.waitForFunction(() => document.querySelector('#scp-label').textContent === 'Disabled');
  await page.screenshot({ path: path.join(out, '03-scp-disabled.png'), clip: { x: 0, y: 0, width: 1366, height: 140 } });
  say('SCP-OFF');
  await page.waitForFunction(() => !document.querySelector('#scp-toggle').disabled);
  await page.click('#scp-toggle');
  await page.waitForFunction(() => document.querySelector('#scp-label').textContent === 'Enabled');
  say('SCP-ON');

  step('add a user, change its privilege');
  await page.fill('#nu-name', 'lion');
  await page.fill('#nu-pass', 'roar');
  await page.selectOption('#nu-priv', '5');
  await page.click('#nu-add');
  await page.waitForSelector('#users tr[data-user="lion"]');
  await page.selectOption('#users tr[data-user="lion"] select', '7');
  await page.waitForFunction(() => /lion now has privilege 7/.test(document.querySelector('#toast').textContent));
  say('USER-ADDED');

  await page.waitForTimeout(2500);   // one more poll so the chart shows the finished transfer
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(out, '04-dashboard.png') });
  await page.screenshot({ path: path.join(out, '05-dashboard-full.png'), fullPage: true });

  step('sign out, sign in as the new privilege-7 user: read-only');
  await page.click('#logout');
  await page.waitForSelector('#login', { state: 'visible' });
  await page.fill('#login-user', 'lion');
  await page.fill('#login-pass', 'roar');
  await page.click('#login-submit');
  await page.waitForFunction(() => document.querySelector('#who-priv').textContent === 'privilege 7');
  await page.waitForFunction(() => /privilege 15/.test(document.querySelector('#users-note').textContent));
  if (!await page.$eval('#scp-toggle', (b) => b.disabled)) throw new Error('switch enabled for privilege 7');
  if (!await page.$eval('#debug-toggle', (b) => b.disabled)) throw new Error('debug enabled for privilege 7');
  if (await page.isVisible('#user-form')) throw new Error('user form shown to privilege 7');
  await page.waitForSelector('#history tbody tr td.path >> text=slow.bin');
  await page.waitForSelector('#fs-list li[data-fs="bootflash"] .fs-bar[role=progressbar]');
  await page.screenshot({ path: path.join(out, '06-read-only.png') });
  say('READ-ONLY');
  if (errors.length) throw new Error('browser errors:\n' + errors.join('\n'));
  say('DONE');
} finally {
  await ctx.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
