import type { Browser, Page } from 'playwright-core';
import { waitFor } from '../helpers/allocations';
import { collectPageErrors, launchChromium, screenshot } from '../helpers/browser';
import { run, startStack, type Stack } from '../helpers/stack';
import { bearer } from '../helpers/tokens';

// The console in Debian's chromium against the real service (api and worker processes, Postgres,
// RabbitMQ): what an operator does, each step waiting for what the page shows, never for a fixed time.

const admin = bearer('admin', 'ops-console');
const service = bearer('service', 'checkout');
const adminToken = admin.authorization.replace('Bearer ', '');

let stack: Stack;
let browser: Browser;
let page: Page;
let pageErrors: string[];

type Json = Record<string, any>;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = admin): Promise<Json> {
  const response = await fetch(`${stack.url}/api/v1${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${text}`);
  return text ? (JSON.parse(text) as Json) : {};
}

async function enqueueJob(referenceId: string, productId: string, quantity: number): Promise<string> {
  const accepted = await call(
    'POST',
    '/allocations',
    { items: [{ productId, quantity }], mode: 'allocate', referenceId, referenceType: 'order', priority: 'high' },
    service,
  );
  return accepted.allocationId as string;
}

async function jobReaches(id: string, status: string): Promise<Json> {
  return waitFor(
    `job ${id} to be ${status}`,
    async () => {
      const job = await call('GET', `/allocations/${id}`);
      return job.status === status ? job : undefined;
    },
    60_000,
  );
}

/** Evaluates an expression in the page (written as text: the DOM is the page's, not this program's). */
async function inPage<T>(expression: string): Promise<T> {
  return page.evaluate<T>(expression);
}

/** Waits until an expression is true in the page (polled from here: the page's CSP forbids evaluating text inside it). */
async function untilInPage(expression: string): Promise<void> {
  await waitFor(expression, async () => ((await inPage<boolean>(expression)) ? true : undefined), 30_000);
}

/** The text of a figure on the overview, by its label. */
function figure(label: string) {
  return page.locator('.figure', { has: page.locator('dt', { hasText: label }) }).locator('.figure-value');
}

beforeAll(async () => {
  const built = await run('npm', ['run', '-s', 'build:console'], {}, 120_000);
  if (built.code !== 0) throw new Error(`npm run build:console failed: ${built.stderr}`);
  stack = await startStack('console', { env: { JOB_RETRY_DELAYS_MS: '100,100,100', STREAM_INTERVAL_MS: '500' } });
  await call('POST', '/warehouses', { id: 'wh-001', code: 'NYC', name: 'New York' });
  await call('POST', '/warehouses', { id: 'wh-002', code: 'BOS', name: 'Boston' });
  for (const id of ['widget-1', 'gadget-2', 'flaky-3']) await call('POST', '/products', { id, sku: id.toUpperCase(), name: `Product ${id}` });
  const receipt = (productId: string, quantity: number, lotNumber: string) => ({
    productId,
    warehouseId: 'wh-001',
    quantity,
    type: 'RECEIPT',
    reason: 'opening stock',
    reference: 'PO-1',
    lotNumber,
  });
  await call('PUT', '/inventory/adjust', {
    adjustments: [receipt('widget-1', 500, 'LOT-W1'), receipt('gadget-2', 50, 'LOT-G1'), receipt('flaky-3', 20, 'LOT-F1')],
  });
  await call('PUT', '/inventory/settings', { productId: 'gadget-2', warehouseId: 'wh-001', reorderPoint: 80, reorderQuantity: 200, minStockLevel: 10 });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(30_000);
  pageErrors = collectPageErrors(page);
}, 180_000);

afterAll(async () => {
  await browser.close();
  await stack.stop();
});

describe('the operator console in a real browser', () => {
  it('is served with a CSP that allows only its own files, and asks for a token', async () => {
    const index = await fetch(`${stack.url}/console/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'self'; style-src 'self'/);
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await index.text()).not.toMatch(/<script>|style=|https?:\/\//);

    await page.goto(`${stack.url}/console`);
    expect(new URL(page.url()).pathname).toBe('/console/');
    await page.getByLabel('Admin token').waitFor();
    await screenshot(page, 'sign-in');
  });

  it('refuses a service token, then signs in with an admin token kept in session storage only', async () => {
    await page.getByLabel('Admin token').fill(service.authorization.replace('Bearer ', ''));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'not the admin role' }).waitFor();

    await page.getByLabel('Admin token').fill(adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Pages' }).waitFor();
    expect(page.url()).not.toContain(adminToken);
    expect(await inPage<string | null>("sessionStorage.getItem('stockroom.console.token')")).toBe(adminToken);
    expect(await inPage<number>('localStorage.length + document.cookie.length')).toBe(0);
  });

  it('shows the overview updating live while jobs run', async () => {
    await page.getByRole('status').filter({ hasText: 'live' }).waitFor();
    await figure('Succeeded /s').waitFor();
    expect(await figure('Succeeded /s').textContent()).toBe('0');
    for (let index = 0; index < 20; index++) await enqueueJob(`order-overview-${index}`, 'widget-1', 1);
    await untilInPage(
      "Number([...document.querySelectorAll('.figure dt')].find((dt) => dt.textContent === 'Succeeded /s')?.nextElementSibling?.textContent ?? '0') > 0",
    );
    expect(await page.locator('.chart canvas').count()).toBeGreaterThanOrEqual(3);
    await page.getByRole('cell', { name: 'order-overview-19' }).first().waitFor();
    expect(await figure('Low stock').textContent()).toBe('1');
    await screenshot(page, 'overview');
  }, 120_000);

  it('finds a job by its reference and shows the request, the lots it took and its ids', async () => {
    const id = await enqueueJob('order-find-me', 'widget-1', 3);
    await jobReaches(id, 'succeeded');
    await page.getByRole('link', { name: 'Jobs' }).click();
    await page.getByLabel('Reference').fill('order-find-me');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('cell', { name: 'order-find-me' }).waitFor();
    await screenshot(page, 'jobs');
    await page.getByTitle(id).click();
    await page.getByRole('heading', { name: 'Result: 3 of 3' }).waitFor();
    await page.getByRole('cell', { name: 'LOT-W1' }).waitFor();
    await page.getByText(id, { exact: true }).waitFor();
    await screenshot(page, 'job');
  }, 120_000);

  it('replays a dead letter after its cause is fixed, and the job succeeds', async () => {
    // The cause: every result write of flaky-3's jobs fails as a busy database would make it fail.
    await stack.db.pool.query(`
      create function fail_flaky() returns trigger language plpgsql as $$
      begin
        if new.result::text like '%flaky-3%' then raise exception 'could not serialize access' using errcode = '40001'; end if;
        return new;
      end $$;
      create trigger fail_flaky before insert on allocation_results for each row execute function fail_flaky();`);
    const id = await enqueueJob('order-flaky', 'flaky-3', 2);
    await jobReaches(id, 'dead_lettered');
    await stack.db.pool.query(`drop trigger fail_flaky on allocation_results; drop function fail_flaky();`);
    const letter = (await call('GET', '/admin/dead-letters?status=open')).items.find((item: Json) => item.allocationId === id);

    await page.getByRole('link', { name: 'Dead letters' }).click();
    await page.getByRole('checkbox', { name: `Select dead letter ${letter.id}` }).check();
    await page.getByText('Errors and payload').first().click();
    await page.getByText('could not serialize access').first().waitFor();
    await screenshot(page, 'dead-letters');
    await page.getByRole('button', { name: 'Replay selected (1)' }).click();
    const dialog = page.getByRole('dialog', { name: 'Replay 1 dead letter?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Replay' }).click();
    await page.getByRole('heading', { name: 'Replayed 1 of 1' }).waitFor();

    await jobReaches(id, 'succeeded');
    await page.goto(`${stack.url}/console/#/jobs/${id}`);
    await page.getByRole('heading', { name: 'Result: 2 of 2' }).waitFor();
  }, 120_000);

  it('releases a reservation from the reservations page, through the release call', async () => {
    const reservation = await call(
      'POST',
      '/inventory/reserve',
      { orderId: 'order-release-me', items: [{ productId: 'widget-1', quantity: 4 }] },
      {
        ...service,
        'idempotency-key': 'release-me-1',
      },
    );
    await page.getByRole('link', { name: 'Reservations' }).click();
    await page.getByLabel('Order', { exact: true }).fill('order-release-me');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('cell', { name: 'order-release-me', exact: true }).waitFor();
    await page.getByRole('button', { name: `Release reservation ${reservation.reservationId} of order order-release-me`, exact: true }).click();
    const dialog = page.getByRole('dialog', { name: "Release order order-release-me's reservation?" });
    await dialog.getByRole('button', { name: 'Release' }).click();
    await page.getByRole('cell', { name: 'RELEASED' }).waitFor();
    expect((await call('GET', `/inventory/reservations/${reservation.reservationId}`)).status).toBe('RELEASED');
    await screenshot(page, 'reservations');
  }, 120_000);

  it('shows the low-stock list and a product per warehouse and lot with its ledger', async () => {
    await page.getByRole('link', { name: 'Stock' }).click();
    await page.getByRole('cell', { name: 'LOW' }).waitFor();
    await screenshot(page, 'low-stock');
    await page.getByLabel('Product id').fill('widget-1');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByRole('cell', { name: 'LOT-W1' }).waitFor();
    await page.getByRole('cell', { name: 'RELEASE', exact: true }).waitFor();
    await page.getByRole('cell', { name: 'order-release-me', exact: true }).waitFor();
    await screenshot(page, 'stock');
  }, 120_000);

  it('reads on a phone without sideways scrolling and works from the keyboard', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${stack.url}/console/#/overview`);
    await figure('Open dead letters').waitFor();
    expect(await inPage<boolean>('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await screenshot(page, 'overview-phone');
    await page.setViewportSize({ width: 1280, height: 900 });

    const focused = () => inPage<string>("document.activeElement?.textContent ?? ''");
    await page.locator('.skip').focus();
    await page.keyboard.press('Enter');
    expect(await inPage<string>('document.activeElement?.id')).toBe('main');
    await page.locator('.skip').focus();
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Overview');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Jobs');
    await page.keyboard.press('Enter');
    await untilInPage("document.activeElement?.tagName === 'H1' && document.activeElement.textContent === 'Jobs'");
    await page.keyboard.press('Tab');
    expect(await inPage<string | null>("document.activeElement?.getAttribute('name')")).toBe('id');
  }, 120_000);

  it('met no script error and no Content Security Policy refusal on the way', () => {
    expect(pageErrors.filter((error) => /uncaught|Content Security Policy/i.test(error))).toEqual([]);
  });
});
