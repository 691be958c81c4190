import { test, expect, Page } from '@playwright/test';
import { ADMIN, LoginPage, hydrated } from '../tests/fixtures';

// A 200-node workflow on `event-after-save`: the trigger, then 199 IF :: Tag nodes in a chain
// (each `then` into the next), on a 10-column grid.
function bigGraph(n: number) {
  const filters = { selector: '', value: '', operator: '', path: '' };
  const graph: Record<string, unknown> = {
    '1': { id: 1, name: 'Event After Save', class: 'block-type-trigger', typenode: false,
      data: { id: 'event-after-save', name: 'Event After Save', module_type: 'trigger', indexed_params: [] },
      inputs: [], outputs: { output_1: { connections: n > 1 ? [{ node: '2', output: 'input_1' }] : [] } }, pos_x: 0, pos_y: 0 },
  };
  for (let i = 2; i <= n; i++) {
    graph[String(i)] = { id: i, name: 'IF :: Tag', class: 'block-type-if block-type-logic', typenode: false,
      data: { id: 'tag-if', name: 'IF :: Tag', module_type: 'logic', saved_filters: filters,
        indexed_params: { scope: 'event', condition: 'in_or', tags: [`bench:${i}`] } },
      inputs: { input_1: { connections: [{ node: String(i - 1), input: 'output_1' }] } },
      outputs: { output_1: { connections: i < n ? [{ node: String(i + 1), output: 'input_1' }] : [] }, output_2: { connections: [] } },
      pos_x: (i % 10) * 300, pos_y: Math.floor(i / 10) * 140 };
  }
  return graph;
}

function median(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function apiKey(page: Page) {
  await page.goto('/users/keys');
  await hydrated(page);
  await page.getByTestId('create-key-form').getByLabel('Comment').fill('editor bench');
  await page.getByRole('button', { name: 'Create key' }).click();
  return (await page.getByTestId('new-key').textContent()) ?? '';
}

test('a 200-node workflow opens in the editor', async ({ page }) => {
  const login = new LoginPage(page);
  await login.goto();
  await login.login(ADMIN.email, ADMIN.password);
  const headers = { Authorization: await apiKey(page), Accept: 'application/json' };
  const opened = await (await page.request.get('/workflows/editor/event-after-save', { headers })).json();
  const id = opened.Workflow.id;
  const saved = await page.request.post(`/workflows/edit/${id}`, { headers, data: { Workflow: { data: bigGraph(200) } } });
  expect(saved.ok()).toBeTruthy();

  // When the app marks the body hydrated, as performance.now() (ms since navigation start).
  await page.addInitScript(() => {
    new MutationObserver((_, obs) => {
      if (document.body?.getAttribute('data-hydrated') === 'true') {
        (window as unknown as { __hydratedAt: number }).__hydratedAt = performance.now();
        obs.disconnect();
      }
    }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-hydrated'] });
  });

  const runs = { response: [] as number[], loaded: [] as number[], hydrated: [] as number[], hydration: [] as number[], move: [] as number[] };
  for (let i = 0; i < 7; i++) {
    await page.goto(`/workflows/editor/${id}`);
    await hydrated(page);
    await expect(page.getByTestId('canvas').locator('.node')).toHaveCount(200);
    const t = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      return { response: nav.responseEnd, loaded: nav.loadEventEnd, hydrated: (window as unknown as { __hydratedAt: number }).__hydratedAt };
    });
    // One interaction after hydration: drag node 11 by 40 px in 20 pointer moves, dispatched in
    // the page; the figure is the mean time one move takes (handlers and DOM updates are
    // flushed before the next task).
    const perMove = await page.evaluate(async () => {
      // A zero-delay task: the reactive effects (DOM updates) run before it.
      const flush = () => new Promise((done) => { const c = new MessageChannel(); c.port1.onmessage = () => done(null); c.port2.postMessage(0); });
      const title = document.querySelector('[data-testid="node-11"] .node-title')!;
      const r = title.getBoundingClientRect();
      const at = (dx: number) => ({ bubbles: true, clientX: r.x + 10 + dx, clientY: r.y + 5, button: 0, buttons: 1, pointerId: 1, isPrimary: true });
      title.dispatchEvent(new PointerEvent('pointerdown', at(0)));
      const t0 = performance.now();
      for (let k = 1; k <= 20; k++) {
        window.dispatchEvent(new PointerEvent('pointermove', at(k * 2)));
        await flush();
      }
      const t1 = performance.now();
      window.dispatchEvent(new PointerEvent('pointerup', at(40)));
      return (t1 - t0) / 20;
    });
    await expect(page.getByTestId('node-11')).toHaveAttribute('style', /left: 340px/);
    if (i === 0) continue; // warm-up
    runs.response.push(t.response);
    runs.loaded.push(t.loaded);
    runs.hydrated.push(t.hydrated);
    runs.hydration.push(t.hydrated - t.response);
    runs.move.push(perMove);
  }
  const fmt = (xs: number[]) => `${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;
  console.log(`editor, 200 nodes, median of ${runs.response.length} loads after one warm-up:`);
  console.log(`  HTML received (responseEnd):         ${fmt(runs.response)}`);
  console.log(`  load event:                          ${fmt(runs.loaded)}`);
  console.log(`  hydrated (since navigation start):   ${fmt(runs.hydrated)}`);
  console.log(`  hydration (hydrated - responseEnd):  ${fmt(runs.hydration)}`);
  console.log(`  one pointer move of a dragged node:  ${median(runs.move).toFixed(2)} ms (min ${Math.min(...runs.move).toFixed(2)}, max ${Math.max(...runs.move).toFixed(2)})`);

  // Leave the workflow small again.
  const current = await (await page.request.get(`/workflows/view/${id}`, { headers })).json();
  await page.request.post(`/workflows/edit/${id}`, { headers, data: { Workflow: { data: bigGraph(1) } } });
  expect(current.Workflow.id).toBe(id);
});
