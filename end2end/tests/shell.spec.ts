import { test, expect } from '@playwright/test';
import { ADMIN, LoginPage, UserMenu, hydrated, screenshot } from './fixtures';

test('admin logs in, sees the shell, and logs out', async ({ page }) => {
  const login = new LoginPage(page);
  await login.goto();
  await screenshot(page, 'login');
  await login.login(ADMIN.email, ADMIN.password);
  await expect(page).toHaveURL('/');
  await hydrated(page);

  const nav = page.getByRole('navigation', { name: 'Main' });
  for (const section of ['Triggers', 'Ad-hoc workflows', 'Modules', 'Blueprints', 'Logs', 'Settings', 'Events', 'Administration']) {
    await expect(nav.getByText(section, { exact: true })).toBeVisible();
  }
  await expect(page.getByRole('heading', { name: `Welcome, ${ADMIN.email}` })).toBeVisible();
  await screenshot(page, 'home');

  await new UserMenu(page).logout();
  await expect(page).toHaveURL(/\/users\/login\?logged_out=1$/);
  await expect(new LoginPage(page).message()).toHaveText('You have been logged out.');

  await page.goto('/administration');
  await expect(page).toHaveURL(/\/users\/login\?redirect=\/administration$/);
});

test('a wrong password shows a generic error', async ({ page }) => {
  const login = new LoginPage(page);
  await login.goto();
  await login.login(ADMIN.email, 'not-the-password');
  await expect(login.message()).toHaveText('Unknown e-mail address or wrong password.');
  await login.login('nobody@admin.test', 'not-the-password');
  await expect(login.message()).toHaveText('Unknown e-mail address or wrong password.');
  await screenshot(page, 'login-error');
});

test('admin adds a read-only user who cannot open Administration', async ({ page, browser }) => {
  const login = new LoginPage(page);
  await login.goto();
  await login.login(ADMIN.email, ADMIN.password);
  await page.goto('/administration');
  await hydrated(page);

  const form = page.getByTestId('add-user-form');
  await form.getByLabel('E-mail').fill('reader@admin.test');
  await form.getByLabel('Role').selectOption({ label: 'Read Only' });
  await form.getByLabel('Password').fill('reader-password-123');
  await form.getByRole('button', { name: 'Add user' }).click();
  await expect(page.getByText('User added.')).toBeVisible();
  await expect(page.getByTestId('user-row-reader@admin.test')).toContainText('Read Only');
  await screenshot(page, 'administration');

  const context = await browser.newContext();
  const readerPage = await context.newPage();
  const readerLogin = new LoginPage(readerPage);
  await readerLogin.goto();
  await readerLogin.login('reader@admin.test', 'reader-password-123');
  await expect(readerPage).toHaveURL('/');
  await expect(readerPage.getByRole('navigation', { name: 'Main' }).getByText('Administration')).toHaveCount(0);

  const response = await readerPage.goto('/administration');
  expect(response?.status()).toBe(403);
  await expect(readerPage.getByRole('heading', { name: 'Forbidden' })).toBeVisible();
  await expect(readerPage.getByText('only accessible to site administrators')).toBeVisible();
  await screenshot(readerPage, 'administration-forbidden');
  await context.close();
});

test('a user creates an API key, sees it once, and revokes it', async ({ page }) => {
  const login = new LoginPage(page);
  await login.goto();
  await login.login(ADMIN.email, ADMIN.password);
  await page.goto('/users/keys');
  await hydrated(page);

  await page.getByTestId('create-key-form').getByLabel('Comment').fill('e2e key');
  await page.getByRole('button', { name: 'Create key' }).click();
  const key = await page.getByTestId('new-key').textContent();
  expect(key).toMatch(/^[A-Za-z0-9]{40}$/);
  const table = page.getByTestId('key-table');
  await expect(table).toContainText('e2e key');
  await expect(table).toContainText(key!.slice(-4));
  await screenshot(page, 'api-keys');

  const api = await page.request.get('/users/view/me.json', { headers: { Authorization: key! } });
  expect(api.status()).toBe(200);
  expect((await api.json()).User.email).toBe(ADMIN.email);

  await table.getByRole('row', { name: /e2e key/ }).getByRole('button', { name: 'Revoke' }).click();
  await expect(page.getByText('Key revoked.')).toBeVisible();
  await expect(page.getByText('You have no API keys yet.')).toBeVisible();
  const revoked = await page.request.get('/users/view/me.json', { headers: { Authorization: key! } });
  expect(revoked.status()).toBe(403);
});
