import { test, expect } from '@playwright/test';
import { ADMIN, LoginPage, hydrated, screenshot } from './fixtures';

test.beforeEach(async ({ page }) => {
  const login = new LoginPage(page);
  await login.goto();
  await login.login(ADMIN.email, ADMIN.password);
  await expect(page).toHaveURL('/');
});

test('a trigger is turned on and off, and it stays so after a reload', async ({ page }) => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Triggers' }).click();
  await expect(page).toHaveURL('/triggers');
  await hydrated(page);
  const row = page.getByTestId('trigger-event-publish');
  await expect(row).toContainText('Event Publish');
  await expect(row.getByRole('button', { name: 'Enable event-publish' })).toHaveText('Off');
  await screenshot(page, 'triggers');

  await row.getByRole('button', { name: 'Enable event-publish' }).click();
  await expect(page.getByText('Trigger saved.')).toBeVisible();
  await expect(row.getByRole('button', { name: 'Disable event-publish' })).toHaveText('On');
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('trigger-event-publish').getByRole('button', { name: 'Disable event-publish' })).toHaveAttribute('aria-pressed', 'true');

  // Filtering by state keeps only the enabled trigger.
  await page.goto('/triggers?enabled=1');
  await hydrated(page);
  await expect(page.getByTestId('trigger-table').locator('tbody tr')).toHaveCount(1);

  await page.goto('/triggers');
  await hydrated(page);
  await page.getByTestId('trigger-event-publish').getByRole('button', { name: 'Disable event-publish' }).click();
  await expect(page.getByTestId('trigger-event-publish').getByRole('button', { name: 'Enable event-publish' })).toHaveText('Off');
  await page.reload();
  await expect(page.getByTestId('trigger-event-publish').getByRole('button', { name: 'Enable event-publish' })).toHaveAttribute('aria-pressed', 'false');
});

test('settings are saved one by one, and a refused value says why', async ({ page }) => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
  await expect(page).toHaveURL('/settings');
  await hydrated(page);
  const timeout = page.getByTestId('setting-row-Plugin.Action_timeout');
  await timeout.getByLabel('Plugin.Action_timeout').fill('9999');
  await timeout.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('alert')).toContainText('expected a number from 1 to 300');
  await timeout.getByLabel('Plugin.Action_timeout').fill('20');
  await timeout.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Plugin.Action_timeout saved.')).toBeVisible();
  await page.reload();
  await expect(page.getByTestId('setting-row-Plugin.Action_timeout').getByLabel('Plugin.Action_timeout')).toHaveValue('20');
  await screenshot(page, 'settings');
});

test('a module is disabled from the module index and stays so', async ({ page }) => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Modules' }).click();
  await expect(page).toHaveURL('/modules');
  await hydrated(page);
  const row = page.getByTestId('module-webhook');
  await expect(row).toContainText('built-in');
  await row.getByRole('button', { name: 'Disable webhook' }).click();
  await expect(page.getByText('Module saved.')).toBeVisible();
  await page.reload();
  await expect(page.getByTestId('module-webhook').getByRole('button', { name: 'Enable webhook' })).toHaveAttribute('aria-pressed', 'false');
  await screenshot(page, 'modules');
  await page.getByTestId('module-webhook').getByRole('link', { name: 'Webhook' }).click();
  await expect(page).toHaveURL('/modules/webhook');
  await expect(page.getByTestId('param-table')).toContainText('request_method');
  await screenshot(page, 'module-view');
});

test('the official blueprints are loaded, one is viewed, exported, deleted and imported back', async ({ page }) => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Blueprints' }).click();
  await expect(page).toHaveURL('/blueprints');
  await hydrated(page);
  await page.getByRole('button', { name: 'Load the official blueprints' }).click();
  await expect(page.getByRole('status')).toContainText('13 added');
  const table = page.getByTestId('blueprint-table');
  await expect(table.locator('tbody tr')).toHaveCount(13);
  await screenshot(page, 'blueprints');

  const row = table.locator('tbody tr', { hasText: 'PAP:RED' });
  const exportHref = await row.getByRole('link', { name: 'Export' }).getAttribute('href');
  const file = await (await page.request.get(exportHref!)).text();
  await row.getByRole('link').first().click();
  await expect(page.getByTestId('blueprint-view').locator('svg.run-graph')).toBeVisible();
  await screenshot(page, 'blueprint-view');

  await page.goto('/blueprints');
  await hydrated(page);
  await page.getByTestId('blueprint-table').locator('tbody tr', { hasText: 'PAP:RED' }).getByRole('button', { name: /^Delete/ }).click();
  await expect(page.getByText('Blueprint deleted.')).toBeVisible();
  await expect(page.getByTestId('blueprint-table').locator('tbody tr')).toHaveCount(12);
  const form = page.getByTestId('import-form');
  // The file picker reads the exported file into the form.
  await form.getByTestId('import-file').setInputFiles({ name: 'blueprint_pap-red.json', mimeType: 'application/json', buffer: Buffer.from(file) });
  await expect(form.getByRole('textbox', { name: /paste its content/ })).toHaveValue(file);
  await form.getByRole('button', { name: 'Import' }).click();
  await expect(page.getByText('Blueprint imported')).toBeVisible();
  await expect(page.getByTestId('blueprint-table').locator('tbody tr')).toHaveCount(13);
});
