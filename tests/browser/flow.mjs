// A person's way through the HealthCity web UI, driven in Debian's Chromium by playwright-core:
// the district bureau logs in, looks at the overview, searches a resident and opens the
// (masked) record; then the auditor logs in and finds that read in the audit log; last, the
// audit page in English. Screenshots land in the output directory. Nothing but the local
// server may be loaded: any other request is blocked and fails the run.
//   node tests/browser/flow.mjs http://127.0.0.1:PORT target/browser
// Prints an `ok   ...` line per check; on the first failed check prints `FAIL ...`, saves
// failure.png and failure.html in the output directory and exits 1.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [base, outDir] = process.argv.slice(2);
if (!base || !outDir) {
  console.error('usage: node flow.mjs BASE_URL OUTPUT_DIR');
  process.exit(2);
}
const origin = new URL(base).origin;
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const PASSWORD = 'Demo-2026!';
mkdirSync(outDir, { recursive: true });

class CheckFailed extends Error {}
const ok = (what) => console.log(`ok   ${what}`);
function check(cond, what, detail = '') {
  if (!cond) throw new CheckFailed(`${what}${detail ? `: ${detail}` : ''}`);
  ok(what);
}

// An identity number in clear: 17 digits and a digit or X, not part of a longer number.
const CLEAR_ID = /(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])/;
const MASK = '********';

const browser = await chromium.launch({
  executablePath,
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
const context = await browser.newContext({
  baseURL: origin,
  viewport: { width: 1366, height: 900 },
  locale: 'zh-CN',
});
context.setDefaultTimeout(15_000);
const external = [];
const serverErrors = [];
await context.route('**/*', (route) => {
  const url = route.request().url();
  if (new URL(url).origin === origin) return route.continue();
  external.push(url);
  return route.abort('blockedbyclient');
});
const page = await context.newPage();
page.on('response', (r) => {
  if (r.status() >= 500) serverErrors.push(`${r.status()} ${r.url()}`);
});
page.on('pageerror', (e) => serverErrors.push(`script error: ${e.message}`));

const path = () => new URL(page.url()).pathname;
const text = (sel = 'body') => page.locator(sel).innerText();
const shot = async (name) => {
  const file = join(outDir, name);
  await page.screenshot({ path: file, fullPage: true });
  ok(`screenshot ${file}`);
};
// Goes to `url` and expects the page to answer `status` (200 unless told).
async function open(url, status = 200) {
  const r = await page.goto(url);
  check(r && r.status() === status, `GET ${url} answers ${status}`, `got ${r && r.status()}`);
  return r;
}
async function login(username) {
  await open('/login');
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(PASSWORD);
  check((await page.locator('input[type=hidden][name=csrf]').getAttribute('value'))?.length > 0,
    `login form of ${username} carries a CSRF token`);
  await Promise.all([
    page.waitForURL((u) => u.pathname !== '/login'),
    page.locator('button[type=submit]', { hasText: '登录' }).click(),
  ]).catch(async () => {
    const err = await page.locator('#login-error').innerText().catch(() => '');
    throw new CheckFailed(`log in as ${username}: still on ${page.url()} ${err}`);
  });
  ok(`logged in as ${username}, now on ${path()}`);
}
// Submits the filter form of the page with its search button and waits for the result.
async function submitSearch() {
  await Promise.all([
    page.waitForURL((u) => u.search.length > 0),
    page.locator('main form.filters button[type=submit]').click(),
  ]);
}

try {
  // 1-2. The district bureau logs in and lands on the overview, in Chinese.
  await login('district');
  check(path() === '/', 'district lands on the overview /', `on ${page.url()}`);
  check(await page.locator('html').getAttribute('lang') === 'zh-CN', 'overview in Chinese (lang="zh-CN")');
  await shot('home.png');
  const who = await text('header .user-name');
  check(who.includes('区卫健局 李科长'), 'header shows 区卫健局 李科长', `shows "${who}"`);
  const nav = await text('nav.sidenav');
  check(nav.includes('居民查询'), 'nav has 居民查询', nav.replace(/\s+/g, ' '));
  check(!nav.includes('审计日志'), 'nav has no 审计日志 for the district', nav.replace(/\s+/g, ' '));
  await open('/audit', 403);

  // 3. A resident search. District-wide without criteria: a hint, no list.
  await open('/residents');
  check(await page.locator('main table.data').count() === 0 && await page.locator('main .notice-info').count() === 1,
    'district-wide search without criteria shows a hint, no list');
  // The area list offers the district's streets (indented twice with U+3000).
  const streets = await page.locator('#f-under option').evaluateAll((os) =>
    os.filter((o) => o.textContent.startsWith('\u3000\u3000')).map((o) => ({ value: o.value, label: o.textContent.trim() })));
  check(streets.length > 0, `area list offers the district's streets (${streets.length})`);
  let street = null;
  let firstName = '';
  for (const s of streets.slice(0, 20)) {
    await open('/residents');
    await page.locator('#f-under').selectOption(s.value);
    await page.locator('#f-sex').selectOption('F');
    await submitSearch();
    const names = await page.locator('main table.data tbody th a').allInnerTexts();
    if (names.length > 0) { street = s; firstName = names[0].trim(); break; }
  }
  check(street !== null, `a street lists women residents (${street?.label} ${street?.value}: first ${firstName})`);
  check(firstName.includes('*'), `names are masked in the list (${firstName})`);
  const prefix = [...firstName][0];
  await open('/residents');
  await page.locator('#f-name').fill(prefix);
  await submitSearch();
  check(new URL(page.url()).searchParams.get('name') === prefix, `search by name prefix ${prefix} submitted`, page.url());
  const rows = page.locator('main table.data tbody tr');
  const found = await page.locator('main table.data tbody th a').allInnerTexts();
  check(found.length > 0, `name prefix ${prefix} finds residents in the district (${found.length} shown)`);
  check(found.every((n) => n.trim().startsWith(prefix)), `every name found starts with ${prefix}`, found.join(', '));
  const firstId = (await rows.first().locator('td .code').first().innerText()).trim();
  check(firstId.includes(MASK), `listed identity number is masked (${firstId})`);
  const listText = await text();
  check(!CLEAR_ID.test(listText), 'no identity number in clear on the result page', listText.match(CLEAR_ID)?.[0]);

  // 4. The first resident's record: masked for a district bureau.
  const link = page.locator('main table.data tbody th a').first();
  const href = await link.getAttribute('href');
  const m = /^\/residents\/(\d+)$/.exec(href || '');
  check(m !== null, `first result links to its record (${href})`);
  const residentId = m[1];
  await Promise.all([page.waitForURL(`**${href}`), link.click()]);
  await shot('record.png');
  const record = await text('main');
  check(record.includes(MASK), `record ${residentId} shows the identity number masked`);
  check(!CLEAR_ID.test(record), `record ${residentId} has no identity number in clear`, record.match(CLEAR_ID)?.[0]);

  // 5. Log out with the header button; the session is gone.
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/login'),
    page.locator('header form.logout-form button[type=submit]', { hasText: '退出' }).click(),
  ]);
  ok('logged out with the 退出 button');
  await page.goto('/');
  check(path() === '/login', 'after logging out / goes to the login page', `on ${page.url()}`);

  // The auditor finds the district's read of that record.
  await login('auditor');
  check(path() === '/audit', 'auditor lands on the audit log /audit', `on ${page.url()}`);
  await page.locator('#f-actor').fill('district');
  await page.locator('#f-action').selectOption('read');
  await submitSearch();
  const q = new URL(page.url()).searchParams;
  check(q.get('actor') === 'district' && q.get('action') === 'read', 'audit filtered by actor district and action read', page.url());
  const events = await page.locator('main table.data tbody tr').evaluateAll((trs) =>
    trs.map((tr) => [...tr.querySelectorAll('th, td')].map((c) => c.innerText.trim())));
  check(events.length > 0 && events[0].length >= 6, `audit lists district's reads (${events.length})`,
    events.map((e) => e.join(' | ')).join('\n'));
  check(events.some((e) => e[5] === residentId), `audit has district's read of resident ${residentId}`,
    events.map((e) => e.join(' | ')).join('\n'));
  await shot('audit.png');

  // 6. English on request, on the same page.
  await page.goto('/lang/en?back=/audit');
  check(path() === '/audit', '/lang/en?back=/audit returns to /audit', `on ${page.url()}`);
  check(await page.locator('html').getAttribute('lang') === 'en', 'audit page in English (lang="en")');
  check((await text('nav.sidenav')).includes('Audit'), 'English navigation', await text('nav.sidenav'));
  await shot('audit-en.png');

  check(external.length === 0, 'nothing requested outside the local server', external.join(' '));
  check(serverErrors.length === 0, 'no server or script errors', serverErrors.join('; '));
  console.log('browser flow passed');
} catch (e) {
  console.log(`FAIL ${e instanceof CheckFailed ? '' : 'unexpected error: '}${e.message}`);
  console.log(`     at ${page.url()}`);
  await page.screenshot({ path: join(outDir, 'failure.png'), fullPage: true }).catch(() => {});
  writeFileSync(join(outDir, 'failure.html'), await page.content().catch(() => ''));
  process.exitCode = 1;
} finally {
  await browser.close();
}
