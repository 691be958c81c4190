import { test, expect } from '@playwright/test';
import { ADMIN, LoginPage, hydrated, screenshot } from './fixtures';

test('an analyst adds an event, attributes and tags, fixes a mistake, and publishes', async ({ page }) => {
  const login = new LoginPage(page);
  await login.goto();
  await login.login(ADMIN.email, ADMIN.password);
  await expect(page).toHaveURL('/');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Events' }).click();
  await expect(page).toHaveURL('/events');
  await hydrated(page);

  const addEvent = page.getByTestId('add-event-form');
  await addEvent.getByLabel('Info').fill('E2E phishing wave');
  await addEvent.getByLabel('Threat level').selectOption({ label: 'High' });
  await addEvent.getByRole('button', { name: 'Add event' }).click();
  await expect(page.getByTestId('event-table')).toContainText('E2E phishing wave');
  await page.getByTestId('new-event-link').click();
  await expect(page).toHaveURL(/\/events\/\d+$/);
  await hydrated(page);
  const view = page.getByTestId('event-view');
  await expect(view.getByRole('heading', { name: 'E2E phishing wave' })).toBeVisible();
  await expect(view).toContainText('High');

  // Tag the event.
  await view.getByLabel('Tag').fill('tlp:green');
  await view.getByRole('button', { name: 'Attach tag' }).click();
  await expect(page.getByText('Tag attached.')).toBeVisible();
  await expect(view.getByTestId('tag-list')).toContainText('tlp:green');

  // An attribute, then a refused one: the server's reason is shown and nothing is added.
  const attributes = page.getByTestId('attributes');
  const addAttribute = page.getByTestId('add-attribute-form');
  await addAttribute.getByLabel('Type', { exact: true }).selectOption('ip-dst');
  await addAttribute.getByLabel('Value').fill('203.0.113.9');
  await addAttribute.getByLabel('Comment').fill('c2 server');
  await addAttribute.getByLabel('IDS').check();
  await addAttribute.getByRole('button', { name: 'Add attribute' }).click();
  await expect(page.getByText('Attribute added.')).toBeVisible();
  const row = page.getByTestId('attribute-203.0.113.9');
  await expect(row).toContainText('c2 server');
  await expect(row).toContainText('Network activity');

  await addAttribute.getByLabel('Type', { exact: true }).selectOption('ip-dst');
  await addAttribute.getByLabel('Value').fill('not an address');
  await addAttribute.getByRole('button', { name: 'Add attribute' }).click();
  await expect(attributes.getByRole('alert')).toContainText('could not be saved');
  await expect(page.getByTestId('attribute-table').locator('tbody tr')).toHaveCount(1);

  // Edit the attribute's comment.
  await row.getByText('Edit', { exact: true }).click();
  await row.getByLabel('Comment').fill('confirmed c2');
  await row.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Attribute saved.')).toBeVisible();
  await expect(page.getByTestId('attribute-203.0.113.9')).toContainText('confirmed c2');

  // Publish.
  await page.getByTestId('publish-form').getByRole('button', { name: 'Publish' }).click();
  await expect(page.getByTestId('published-state')).toContainText('yes');
  await screenshot(page, 'event-view');

  // Detach the tag.
  await view.getByRole('button', { name: 'Remove tag tlp:green' }).click();
  await expect(view.getByTestId('tag-list')).toContainText('No tags.');

  // The index filters by published state.
  await page.goto('/events?published=1');
  await hydrated(page);
  await expect(page.getByTestId('event-table')).toContainText('E2E phishing wave');
  await screenshot(page, 'events-index');
  await page.goto('/events?published=0');
  await expect(page.getByTestId('events-index')).not.toContainText('E2E phishing wave');
});
