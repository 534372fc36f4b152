// A person's way through the HealthCity web UI, driven in Debian's Chromium by playwright-core:
// the district bureau logs in, looks at the overview, searches a resident and opens the
// (masked) record; then the auditor logs in and finds that read in the audit log, and reads the
// audit page in English; last, the family doctor works through primary care: the teams, a
// team's worklist, a resident's care page with a follow-up recorded (and one refused), the
// indicators and the residents behind a figure, then the same pages in English; last, the CDC
// analyst opens the surveillance board, a signal and its epidemic curve. Every page of
// primary care also passes the accessibility checks of `a11y` below. Screenshots land in the
// output directory. Nothing but the local server may be loaded: any other request is blocked
// and fails the run.
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
// Logs out with the header button (labelled `label`) and lands on the login page.
async function logout(label) {
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/login'),
    page.locator('header form.logout-form button[type=submit]', { hasText: label }).click(),
  ]);
  ok(`logged out with the ${label} button`);
}
// Clicks `link` and expects the page it opens to answer `status` (200 unless told).
async function follow(link, what, status = 200) {
  const href = await link.getAttribute('href');
  const [r] = await Promise.all([
    page.waitForResponse((res) => res.request().isNavigationRequest() && res.request().method() === 'GET'
      && new URL(res.url()).pathname === new URL(href, origin).pathname),
    link.click(),
  ]);
  await page.waitForLoadState();
  check(r.status() === status, `${what}: ${href} answers ${status}`, `got ${r.status()}`);
  return href;
}
// The rows of the table `sel` as arrays of cell texts (header cell first), without the row that
// says the table is empty.
const tableRows = (sel) => page.locator(`${sel} tbody tr`).evaluateAll((trs) => trs
  .filter((tr) => !tr.querySelector('td.empty'))
  .map((tr) => [...tr.querySelectorAll('th, td')].map((c) => c.innerText.trim())));
// What a person relying on a screen reader or the keyboard needs on every page, and what the
// login page is checked for in tests/browser.sh: the language declared (`lang`), one <h1>,
// every control a person fills in labelled, aria references that lead somewhere, unique ids,
// tables with a caption and header cells with a scope, images with alt text, and nothing
// loaded from another origin.
async function a11y(where, lang) {
  const r = await page.evaluate(() => {
    const problems = [];
    const ids = new Map();
    for (const el of document.querySelectorAll('[id]')) ids.set(el.id, (ids.get(el.id) || 0) + 1);
    for (const [id, n] of ids) if (n > 1) problems.push(`id "${id}" used ${n} times`);
    for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
      const named = (el.labels && [...el.labels].some((l) => l.innerText.trim()))
        || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
      if (!named) problems.push(`unlabelled ${el.tagName.toLowerCase()} ${el.id || el.name}`);
    }
    for (const attr of ['aria-labelledby', 'aria-describedby']) {
      for (const el of document.querySelectorAll(`[${attr}]`)) {
        for (const id of el.getAttribute(attr).split(/\s+/).filter(Boolean)) {
          if (!document.getElementById(id)) problems.push(`${attr}="${id}" names no element`);
        }
      }
    }
    for (const t of document.querySelectorAll('table')) {
      if (!t.querySelector('caption')?.textContent.trim()) problems.push('a table without a caption');
      if (t.querySelectorAll('thead th:not([scope])').length) problems.push('a column header without scope');
    }
    for (const img of document.querySelectorAll('img:not([alt])')) problems.push(`img ${img.src} without alt`);
    for (const el of document.querySelectorAll('[src], link[href]')) {
      const u = new URL(el.getAttribute('src') ?? el.getAttribute('href'), location.href);
      if (u.origin !== location.origin) problems.push(`loads ${u.href}`);
    }
    return {
      lang: document.documentElement.getAttribute('lang'),
      h1: [...document.querySelectorAll('h1')].map((h) => h.innerText.trim()),
      problems,
    };
  });
  check(r.lang === lang && r.h1.length === 1 && r.problems.length === 0,
    `${where}: lang="${lang}", one <h1>, labelled controls, captioned tables, local resources only`,
    `lang="${r.lang}", h1 ${JSON.stringify(r.h1)}${r.problems.length ? `; ${r.problems.join('; ')}` : ''}`);
}
// What the primary-care pages say, in each language (crates/hc-web/messages).
const WORDS = {
  'zh-CN': {
    teams: '家庭医生团队', worklist: '工作清单', record: '基层诊疗档案', contract: '家庭医生签约',
    populations: '重点人群', programs: '慢病随访', indicators: '基层卫生指标', members: '人员名单',
    sections: { 'this-week': '本周到期', overdue: '逾期', lost: '失访', referrals: '待随访的转诊' },
    notSaved: '未能保存', sbp: '收缩压', satisfied: '控制满意', contractRate: '家庭医生签约率',
  },
  en: {
    teams: 'Family-doctor teams', worklist: 'Worklist', record: 'Primary-care record',
    contract: 'Family-doctor contract', populations: 'Key populations', programs: 'Chronic-disease follow-ups',
    indicators: 'Primary-care indicators', members: 'Residents',
    sections: { 'this-week': 'Due this week', overdue: 'Overdue', lost: 'Lost to follow-up', referrals: 'Referrals awaiting follow-up' },
    notSaved: 'Not saved', sbp: 'Systolic pressure', satisfied: 'Controlled', contractRate: 'Family-doctor contract rate',
  },
};
const SECTIONS = ['this-week', 'overdue', 'lost', 'referrals'];
const DASH = '—';

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
  await logout('退出');
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

  // 7. Back to Chinese; the family doctor of the demo 社康 logs in.
  await page.goto('/lang/zh?back=/audit');
  check(await page.locator('html').getAttribute('lang') === 'zh-CN', '/lang/zh?back=/audit: the audit page in Chinese again');
  await logout('退出');
  await login('doctor');
  const doctorNav = await text('nav.sidenav');
  check(doctorNav.includes('家庭医生团队') && doctorNav.includes('基层卫生指标'),
    'nav of the doctor has 家庭医生团队 and 基层卫生指标', doctorNav.replace(/\s+/g, ' '));
  let W = WORDS['zh-CN'];

  // 8. The teams of the doctor's jurisdiction, then a team's worklist.
  await open('/care');
  await a11y('/care', 'zh-CN');
  check((await text('main h1')).trim() === W.teams, `/care is headed ${W.teams}`, await text('main h1'));
  const teamLinks = page.locator('main table.data tbody th a');
  check(await teamLinks.count() > 0, `/care lists the doctor's teams (${await teamLinks.count()})`);
  const teamName = (await teamLinks.first().innerText()).trim();
  const worklistPath = await follow(teamLinks.first(), `/care: team ${teamName}`);
  check(/^\/care\/teams\/\d+$/.test(worklistPath), `team ${teamName} links to its worklist (${worklistPath})`);
  await a11y(`worklist ${worklistPath}`, 'zh-CN');
  check((await text('main h1')).trim() === teamName && (await text('main .eyebrow')).includes(W.worklist),
    `${worklistPath} is the ${W.worklist} of ${teamName}`, `${await text('main .eyebrow')} / ${await text('main h1')}`);
  // Four sections, each a table whose heading counts its rows; names masked.
  const work = [];
  for (const id of SECTIONS) {
    const sec = `main section[aria-labelledby="${id}-h"]`;
    check(await page.locator(`${sec} table.data`).count() === 1, `${worklistPath}: section ${id} has its table`);
    const heading = (await text(`#${id}-h`)).trim();
    const rows = await page.locator(`${sec} table.data tbody tr`).evaluateAll((trs) => trs
      .filter((tr) => tr.querySelector('th a'))
      .map((tr) => ({ href: tr.querySelector('th a').getAttribute('href'), cells: [...tr.querySelectorAll('th, td')].map((c) => c.innerText.trim()) })));
    check(heading.startsWith(W.sections[id]) && heading.includes(`（${rows.length}）`),
      `${worklistPath}: ${heading} heads ${rows.length} rows`, heading);
    work.push(...rows.map((r) => ({ section: id, ...r })));
  }
  check(work.length > 0, `${worklistPath}: the worklist has rows (${work.length})`);
  check(work.every((w) => w.cells[0].includes('*')), `${worklistPath}: names are masked`,
    work.filter((w) => !w.cells[0].includes('*')).map((w) => w.cells[0]).join(', '));
  check(work.every((w) => /^\/residents\/\d+\/care$/.test(w.href)), `${worklistPath}: every row links to a care page`,
    work.map((w) => w.href).join(' '));
  check(!CLEAR_ID.test(await text('main')), `${worklistPath}: no identity number in clear`);
  await shot('worklist.png');
  // The team's doctor must be able to open every resident the worklist puts before them.
  const hrefs = [...new Set(work.map((w) => w.href))];
  const refused = [];
  for (const h of hrefs) {
    const r = await page.request.get(h);
    if (r.status() !== 200) refused.push(`${r.status()} ${h}`);
  }
  check(refused.length === 0, `${worklistPath}: the care page of each of the ${hrefs.length} residents listed opens for the doctor`,
    `${refused.length} of ${hrefs.length} do not: ${refused.slice(0, 8).join(', ')}${refused.length > 8 ? ', …' : ''}`);

  // 9. A resident's care page from the worklist: someone in a chronic-disease program (follow-up
  // rows first), with an open program whose follow-ups can be recorded.
  const candidates = [...new Set([
    ...work.filter((w) => w.cells[4] !== DASH && w.cells[3] === '随访'),
    ...work.filter((w) => w.cells[4] !== DASH),
  ].map((w) => w.href))];
  check(candidates.length > 0, `${worklistPath}: lists residents in a chronic-disease program (${candidates.length})`);
  let carePath = null;
  let anchor = '';
  for (const h of candidates.slice(0, 15)) {
    if (path() !== worklistPath) await open(worklistPath);
    await follow(page.locator(`main table.data tbody th a[href="${h}"]`).first(), `${worklistPath}: a resident`);
    const form = page.locator('main form[action$="/followups"]').first();
    if (await form.count() === 0) continue;
    const a = (await form.getAttribute('aria-labelledby')).replace(/-form-h$/, '');
    if ((await tableRows(`#${a} ~ .table-wrap >> nth=0 >> table`)).length === 0) continue;
    carePath = h;
    anchor = a;
    break;
  }
  check(carePath !== null, `a resident of the worklist has an open program with follow-ups (${carePath}, #${anchor})`,
    `none among ${candidates.slice(0, 15).join(' ')}`);
  const residentName = (await text('main h1')).trim();
  await a11y(`care page ${carePath}`, 'zh-CN');
  check((await text('main .eyebrow')).includes(W.record) && residentName.length > 0,
    `${carePath} is the ${W.record} of ${residentName}`);
  check(!CLEAR_ID.test(await text('main')), `${carePath}: no identity number shown`);
  // The contract in force is with the team of the worklist, and the history lists it.
  const contract = 'main section[aria-labelledby="contract-h"]';
  check((await text('#contract-h')).trim() === W.contract, `${carePath}: section ${W.contract}`);
  const facts = await page.locator(`${contract} dl.facts dd`).allInnerTexts();
  check(facts.length === 4 && facts[0].trim() === teamName,
    `${carePath}: contract in force with ${teamName} (${facts.map((f) => f.trim()).join(' · ')})`, facts.join(' · '));
  const history = await tableRows(`${contract} table.data`);
  check(history.length > 0 && history.some((h) => h[0] === facts[3].trim()),
    `${carePath}: contract history lists it among ${history.length}`, history.map((h) => h.join(' | ')).join('\n'));
  // Key populations, each with the fact behind it; the program's population among them.
  check((await text('#pop-h')).trim() === W.populations, `${carePath}: section ${W.populations}`);
  const tags = await page.locator('main section[aria-labelledby="pop-h"] dl.facts > div').evaluateAll((ds) =>
    ds.map((d) => [d.querySelector('dt').innerText.trim(), d.querySelector('dd').innerText.trim()]));
  check(tags.length > 0 && tags.every(([t, why]) => t && why.length > '依据：'.length),
    `${carePath}: key populations with their reasons (${tags.map((t) => t[0]).join('、')})`, JSON.stringify(tags));
  const program = (await text(`#${anchor}`)).trim();
  const population = program.startsWith('高血压') ? '高血压患者' : '2 型糖尿病患者';
  check(tags.some(([t]) => t === population), `${carePath}: ${population} among the key populations of a ${program} patient`,
    tags.map((t) => t[0]).join('、'));
  // The follow-up history of the program.
  check((await text('#programs-h')).trim() === W.programs, `${carePath}: section ${W.programs}`);
  const followTable = `#${anchor} ~ .table-wrap >> nth=0 >> table`;
  const before = await tableRows(followTable);
  check(before.every((f) => /^\d{4}-\d{2}-\d{2}$/.test(f[0]) && f[4]),
    `${carePath}: ${program} lists ${before.length} follow-ups, each dated and classified`, before.map((f) => f.join(' | ')).join('\n'));
  await shot('care.png');

  // 10. Record a follow-up on target; the server classifies it.
  const form = page.locator(`main form[aria-labelledby="${anchor}-form-h"]`);
  check((await form.locator('input[type=hidden][name=csrf]').getAttribute('value'))?.length > 0,
    `${carePath}: the follow-up form carries a CSRF token`);
  // The form offers today; a day that already has a follow-up takes the day before.
  const taken = new Set(before.map((f) => f[0]));
  const visit = new Date(`${await page.locator(`#${anchor}-date`).inputValue()}T00:00:00Z`);
  while (taken.has(visit.toISOString().slice(0, 10))) visit.setUTCDate(visit.getUTCDate() - 1);
  const visitDate = visit.toISOString().slice(0, 10);
  await page.locator(`#${anchor}-date`).fill(visitDate);
  await page.locator(`#${anchor}-sbp`).fill('132');
  await page.locator(`#${anchor}-dbp`).fill('84');
  await page.locator(`#${anchor}-fpg`).fill('6.1');
  await page.locator(`#${anchor}-weight`).fill('68');
  await page.locator(`#${anchor}-height`).fill('170');
  await Promise.all([
    page.waitForURL((u) => u.pathname === carePath && u.searchParams.get('done') === 'followup'),
    form.locator('button[type=submit]').click(),
  ]).catch(async () => {
    const err = await page.locator('main .notice-error').innerText().catch(() => '');
    throw new CheckFailed(`${carePath}: follow-up of ${visitDate} 132/84 mmHg, FPG 6.1 not saved: still on ${page.url()} ${err}`);
  });
  ok(`${carePath}: follow-up of ${visitDate} (132/84 mmHg, FPG 6.1) saved, back on ${page.url()}`);
  const notice = await page.locator('main .notice-info[role=status]').innerText().catch(() => '');
  check(notice.includes(visitDate) && notice.includes(W.satisfied),
    `${carePath}: the notice gives the server's verdict (${notice.trim()})`, notice);
  const after = await tableRows(followTable);
  const added = after.find((f) => f[0] === visitDate);
  check(after.length === before.length + 1 && added, `${carePath}: ${program} now lists ${after.length} follow-ups, the new one among them`,
    after.map((f) => f.join(' | ')).join('\n'));
  check(added[2] === '132/84' && added[3] === '6.1' && added[4] === W.satisfied && /^\d{4}-\d{2}-\d{2}$/.test(added[6]),
    `${carePath}: the new follow-up reads ${added.join(' | ')}`, added.join(' | '));
  await a11y(`care page ${carePath} after a follow-up`, 'zh-CN');

  // 11. An impossible value (SBP 400) is refused, with the error beside the form; nothing added.
  const day = new Date(`${visitDate}T00:00:00Z`);
  taken.add(visitDate);
  while (taken.has(day.toISOString().slice(0, 10))) day.setUTCDate(day.getUTCDate() - 1);
  await page.locator(`#${anchor}-date`).fill(day.toISOString().slice(0, 10));
  await page.locator(`#${anchor}-sbp`).fill('400');
  await page.locator(`#${anchor}-dbp`).fill('80');
  await page.locator(`#${anchor}-fpg`).fill('6.1');
  const [refusal] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/followups')),
    form.locator('button[type=submit]').click(),
  ]);
  await page.waitForLoadState();
  check(refusal.status() === 422, `${carePath}: SBP 400 is refused with 422`, `got ${refusal.status()}`);
  const errors = page.locator(`#${anchor}-errors[role=alert]`);
  const errorText = await errors.innerText().catch(() => '');
  check(errorText.includes(W.notSaved) && errorText.includes(W.sbp),
    `${carePath}: the error says what is wrong (${errorText.replace(/\s+/g, ' ').trim()})`, errorText || 'no error shown');
  check(await page.locator(`#${anchor}-sbp`).getAttribute('aria-invalid') === 'true'
    && await page.locator(`#${anchor}-sbp`).inputValue() === '400',
  `${carePath}: the SBP field keeps 400 and is marked aria-invalid`);
  check(await page.locator('main .notice-info[role=status]').count() === 0, `${carePath}: no "recorded" notice after the refusal`);
  check((await tableRows(followTable)).length === after.length, `${carePath}: the refused follow-up is not listed`);
  await a11y(`care page ${carePath} with an error`, 'zh-CN');
  await shot('care-error.png');
  await open(carePath);
  check((await tableRows(followTable)).length === after.length,
    `${carePath}: still ${after.length} follow-ups after the refusal (nothing saved)`);

  // 12. The indicators of the doctor's jurisdiction: nine, with numerators and denominators.
  await open('/indicators');
  await a11y('/indicators', 'zh-CN');
  check((await text('main h1')).trim() === W.indicators, `/indicators is headed ${W.indicators}`);
  const figures = await tableRows('main table.data');
  const num = (v) => Number(v.replace(/,/g, ''));
  check(figures.length === 9 && new Set(figures.map((f) => f[0])).size === 9,
    `/indicators lists nine indicators (${figures.map((f) => f[0]).join('、')})`, figures.map((f) => f.join(' | ')).join('\n'));
  check(figures.some((f) => f[0] === W.contractRate), `/indicators has ${W.contractRate}`);
  const wrong = figures.filter((f) => {
    const [n, d] = [num(f[2]), num(f[3])];
    if (!Number.isInteger(n) || !Number.isInteger(d) || n < 0 || n > d) return true;
    return d === 0 ? f[4] !== DASH : !(f[4].endsWith('%') && Math.abs(parseFloat(f[4]) - (n / d) * 100) < 0.051);
  });
  check(wrong.length === 0, '/indicators: each value is its numerator over its denominator',
    wrong.map((f) => f.join(' | ')).join('\n'));
  await shot('indicators.png');
  // The residents behind the largest denominator.
  const widest = figures.reduce((a, f) => (num(f[3]) > num(a[3]) ? f : a));
  check(num(widest[3]) > 0, `/indicators: some denominator is above 0 (${widest[0]}: ${widest[3]})`);
  const denLink = page.locator('main table.data tbody tr').nth(figures.indexOf(widest)).locator('td:nth-of-type(3) a');
  await follow(denLink, `/indicators: the denominator of ${widest[0]}`);
  const membersPath = path();
  check(/^\/indicators\/[a-z_]+\/members$/.test(membersPath), `${widest[0]}'s denominator opens ${page.url()}`);
  const membersUrl = page.url();
  await a11y(`drill-down ${membersPath}`, 'zh-CN');
  check((await text('main h1')).trim() === widest[0] && (await text('main .eyebrow')).includes(W.members),
    `${membersPath} is the ${W.members} of ${widest[0]}`);
  const people = await tableRows('main table.data');
  check(people.length === Math.min(num(widest[3]), 50), `${membersPath} lists ${people.length} residents for a denominator of ${widest[3]}`);
  check(people.every((p) => p[0].includes('*')), `${membersPath}: names are masked (${people.slice(0, 5).map((p) => p[0]).join('、')})`,
    people.map((p) => p[0]).join('、'));
  check(!CLEAR_ID.test(await text('main')), `${membersPath}: no identity number in clear`);
  await shot('indicator-members.png');

  // 13. The same pages in English.
  await page.goto('/lang/en?back=/care');
  check(path() === '/care', '/lang/en?back=/care returns to /care', `on ${page.url()}`);
  W = WORDS.en;
  const english = [
    ['/care', 'h1', W.teams],
    [worklistPath, '.eyebrow', W.worklist],
    [carePath, '.eyebrow', W.record],
    ['/indicators', 'h1', W.indicators],
    [membersUrl, '.eyebrow', W.members],
  ];
  for (const [url, sel, words] of english) {
    const where = new URL(url, origin).pathname;
    if (url !== '/care') await open(url);
    await a11y(`${where} in English`, 'en');
    const shown = (await text(`main ${sel}`)).trim();
    check(shown.startsWith(words), `${where} in English: ${sel} says ${words}`, `says "${shown}"`);
  }
  await open(worklistPath);
  for (const id of SECTIONS) {
    const h = (await text(`#${id}-h`)).trim();
    check(h.startsWith(W.sections[id]), `${worklistPath} in English: ${h}`, h);
  }
  await open(carePath);
  for (const [id, words] of [['contract-h', W.contract], ['pop-h', W.populations], ['programs-h', W.programs]]) {
    check((await text(`#${id}`)).trim() === words, `${carePath} in English: section ${words}`, await text(`#${id}`));
  }
  const englishRow = (await tableRows(followTable)).find((f) => f[0] === visitDate);
  check(englishRow?.[4] === W.satisfied, `${carePath} in English: the new follow-up is ${W.satisfied}`, englishRow?.join(' | '));
  await shot('care-en.png');
  await open('/indicators');
  check((await tableRows('main table.data')).some((f) => f[0] === W.contractRate), `/indicators in English lists ${W.contractRate}`);
  await shot('indicators-en.png');

  // 14. The CDC analyst's surveillance pages: today's signals by level with the district map,
  // a signal with its masked line list, and its stream's epidemic curve.
  await context.clearCookies();
  await page.goto('/lang/zh?back=/login');
  await login('cdc');
  await open('/surveillance');
  await a11y('/surveillance', 'zh-CN');
  check((await text('main h1')).trim() === '预警信号与事件', '/surveillance is headed 预警信号与事件');
  check(await page.locator('main .surv-map svg[role=img]').count() === 1, '/surveillance draws the district map');
  check(await page.locator('main .legend li').count() === 5, '/surveillance has a legend of four levels and "no signal"');
  check((await text('header')).includes('预警'), 'the header shows the alerts link');
  await shot('surveillance.png');
  let signalLink = page.locator('main a[href^="/surveillance/signals/"]').first();
  if (await signalLink.count() === 0) {
    await open('/surveillance/truth');
    await a11y('/surveillance/truth', 'zh-CN');
    signalLink = page.locator('main a[href^="/surveillance/signals/"]').first();
  }
  check(await signalLink.count() === 1, 'a signal to open (today, or one that found an injected outbreak)');
  await follow(signalLink, 'a signal');
  await a11y(path(), 'zh-CN');
  const signalText = await text('main');
  check(signalText.includes('预警依据') && signalText.includes('病例清单'), `${path()} explains the signal and lists its records`);
  check(!CLEAR_ID.test(signalText) && !signalText.includes('主诉'), `${path()}: the line list is masked`);
  await shot('surveillance-signal.png');
  await follow(page.locator('main a', { hasText: '查看该序列的流行曲线' }), 'the stream of the signal');
  await a11y(path(), 'zh-CN');
  check(await page.locator('main svg.chart.epi').count() === 1, `${path()} draws the epidemic curve`);
  check(await page.locator('main svg.chart.epi .ep-bar-alarm').count() > 0, `${path()} marks the alarms`);
  await shot('surveillance-stream.png');

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
