import { test, expect } from '@playwright/test';
import { ADMIN, LoginPage, hydrated, screenshot } from './fixtures';

/** The publish gate: IF tlp:red on the event or an attribute ⇒ stop, installed through MISP's REST routes. */
function gate() {
  const filters = { selector: '', value: '', operator: '', path: '' };
  return {
    '1': { id: 1, name: 'Event Publish', class: 'block-type-trigger', typenode: false,
      data: { id: 'event-publish', name: 'Event Publish', module_type: 'trigger', blocking: true, misp_core_format: true, indexed_params: [] },
      inputs: [], outputs: { output_1: { connections: [{ node: '2', output: 'input_1' }] } }, pos_x: 0, pos_y: 0 },
    '2': { id: 2, name: 'IF :: Tag', class: 'block-type-if block-type-logic', typenode: false,
      data: { id: 'tag-if', name: 'IF :: Tag', module_type: 'logic', saved_filters: filters,
        indexed_params: { scope: 'event', condition: 'in_or', tags: ['tlp:red'] } },
      inputs: { input_1: { connections: [{ node: '1', input: 'output_1' }] } },
      outputs: { output_1: { connections: [{ node: '3', output: 'input_1' }] }, output_2: { connections: [] } }, pos_x: 260, pos_y: 0 },
    '3': { id: 3, name: 'Stop execution', class: 'block-type-default', typenode: false,
      data: { id: 'stop-execution', name: 'Stop execution', module_type: 'action', saved_filters: filters,
        indexed_params: { message: 'Red events stay here' } },
      inputs: { input_1: { connections: [{ node: '2', input: 'output_1' }] } }, outputs: [], pos_x: 520, pos_y: 0 },
  };
}

test('a blocking workflow stops publishing a tlp:red event, and Logs shows the stop node', async ({ page }) => {
  const login = new LoginPage(page);
  await login.goto();
  await login.login(ADMIN.email, ADMIN.password);
  // An API key, as a MISP client would hold, to install the workflow through MISP's routes.
  await page.goto('/users/keys');
  await hydrated(page);
  await page.getByTestId('create-key-form').getByLabel('Comment').fill('workflow setup');
  await page.getByRole('button', { name: 'Create key' }).click();
  const key = (await page.getByTestId('new-key').textContent()) ?? '';
  const headers = { Authorization: key, Accept: 'application/json' };
  const opened = await (await page.request.get('/workflows/editor/event-publish', { headers })).json();
  const id = opened.Workflow.id;
  expect((await page.request.post(`/workflows/edit/${id}`, { headers, data: { Workflow: { data: gate() } } })).ok()).toBeTruthy();
  for (const setting of ['Plugin.Workflow_enable', 'Plugin.Workflow_triggers_event-publish']) {
    expect((await page.request.post(`/servers/serverSettingsEdit/${setting}`, { headers, data: { value: true } })).ok()).toBeTruthy();
  }

  await page.goto('/events');
  await hydrated(page);
  const addEvent = page.getByTestId('add-event-form');
  await addEvent.getByLabel('Info').fill('Red campaign');
  await addEvent.getByRole('button', { name: 'Add event' }).click();
  await page.getByTestId('new-event-link').click();
  await hydrated(page);
  const view = page.getByTestId('event-view');
  await view.getByLabel('Tag').fill('tlp:red');
  await view.getByRole('button', { name: 'Attach tag' }).click();
  await expect(view.getByTestId('tag-list')).toContainText('tlp:red');

  await page.getByTestId('publish-form').getByRole('button', { name: 'Publish' }).click();
  const alert = view.getByRole('alert');
  await expect(alert).toContainText('Publishing stopped by a blocking workflow');
  await expect(alert).toContainText('Red events stay here');
  await expect(page.getByTestId('published-state')).toHaveText('no');
  await screenshot(page, 'publish-blocked');

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Logs' }).click();
  await hydrated(page);
  const run = page.getByTestId('run-table').locator('tbody tr').first();
  await expect(run).toContainText('blocked');
  await expect(run).toContainText('Red events stay here');
  // The background jobs beside the runs: none here (the gate has no concurrent task).
  await expect(page.getByTestId('jobs')).toContainText('No job waiting, running or failed.');
  await screenshot(page, 'logs');
  await run.getByRole('link').first().click();
  await expect(page.getByTestId('run-outcome')).toHaveText('blocked');
  await expect(page.getByTestId('graph-node-3')).toHaveClass(/blocked/);
  await expect(page.getByTestId('graph-node-2')).toHaveClass(/success/);
  await screenshot(page, 'run-view');

  // Leave the shared server as found: the setup key goes.
  await page.goto('/users/keys');
  await hydrated(page);
  await page.getByTestId('key-table').getByRole('row', { name: /workflow setup/ }).getByRole('button', { name: 'Revoke' }).click();
  await expect(page.getByText('Key revoked.')).toBeVisible();
});
