import { test, expect } from '@playwright/test';
import { ADMIN, LoginPage, hydrated, screenshot } from './fixtures';

test('an ad-hoc workflow is created, drawn in the editor, switched on and run by hand', async ({ page }) => {
  const login = new LoginPage(page);
  await login.goto();
  await login.login(ADMIN.email, ADMIN.password);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Ad-hoc workflows' }).click();
  await expect(page).toHaveURL('/workflows/adhoc');
  await hydrated(page);

  const form = page.getByTestId('create-adhoc-form');
  await form.getByLabel('Name').fill('Triage by hand');
  await form.getByRole('button', { name: 'Create' }).click();
  await page.getByTestId('new-adhoc-link').click();
  await hydrated(page);
  const canvas = page.getByTestId('canvas');
  await expect(canvas.getByTestId('node-1')).toHaveAttribute('data-module', /^adhoc_\d+$/);
  // The ad-hoc trigger's own params (where its data comes from) are on its node.
  await canvas.getByTestId('node-1').locator('.node-title').click();
  await expect(page.getByTestId('node-panel').getByLabel('Scope')).toHaveValue('passed_roaming_data');

  await page.getByTestId('palette-stop-execution').dragTo(canvas, { targetPosition: { x: 470, y: 120 } });
  await page.getByTestId('out-1-1').dragTo(page.getByTestId('in-2-1'));
  await canvas.getByTestId('node-2').locator('.node-title').click();
  await page.getByTestId('node-panel').getByLabel('Message').fill('Held for triage');
  await page.getByTestId('node-panel').getByLabel('Message').press('Tab');
  await page.keyboard.press('Control+s');
  await expect(page.getByTestId('editor-message')).toHaveText('Saved.');

  // Switched on from the list, then run there on a JSON input.
  await page.goto('/workflows/adhoc');
  await hydrated(page);
  const row = page.getByTestId('adhoc-table').locator('tbody tr', { hasText: 'Triage by hand' });
  await expect(row).toContainText('passed_roaming_data');
  await row.getByRole('button', { name: /^Enable adhoc_/ }).click();
  await expect(page.getByText('Workflow switched.')).toBeVisible();
  await expect(row.getByRole('button', { name: /^Disable adhoc_/ })).toHaveAttribute('aria-pressed', 'true');
  await row.getByLabel('Input (JSON)').fill('{"Event": {"info": "by hand"}}');
  await row.getByRole('button', { name: 'Run' }).click();
  await expect(row.getByTestId('adhoc-run-result')).toContainText('blocked');
  await expect(row.getByTestId('adhoc-run-result')).toContainText('Held for triage');
  await screenshot(page, 'adhoc');

  // In the editor, debug mode offers Run with custom input and marks each node's result.
  await row.getByRole('link', { name: 'Triage by hand' }).click();
  await hydrated(page);
  await page.getByTestId('editor-debug').click();
  await expect(page.getByTestId('editor-debug')).toHaveText('Debug on');
  await page.getByTestId('run-panel').locator('summary').click();
  await page.getByTestId('run-input').fill('{"Event": {"info": "from the editor"}}');
  await page.getByTestId('run-button').click();
  await expect(page.getByTestId('run-result')).toContainText('blocked');
  await expect(page.getByTestId('node-run-2')).toBeVisible();
  await canvas.getByTestId('node-2').locator('.node-title').click();
  await expect(page.getByTestId('node-panel')).toContainText('Last run');
  await screenshot(page, 'editor-run');
  // A bad input is refused with the reason.
  await page.getByTestId('run-input').fill('{not json');
  await page.getByTestId('run-button').click();
  await expect(page.getByTestId('editor-message')).toContainText('The input is not valid JSON');
  await page.getByTestId('editor-debug').click();
  await expect(page.getByTestId('editor-debug')).toHaveText('Debug off');
});
