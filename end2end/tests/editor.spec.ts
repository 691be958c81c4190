import { test, expect, Page } from '@playwright/test';
import { ADMIN, LoginPage, hydrated, screenshot } from './fixtures';

// The editor works on the workflow of `event-after-save`, which no other spec touches.
const TRIGGER = 'event-after-save';

test.beforeEach(async ({ page }) => {
  const login = new LoginPage(page);
  await login.goto();
  await login.login(ADMIN.email, ADMIN.password);
  await expect(page).toHaveURL('/');
});

async function openEditor(page: Page) {
  await page.goto(`/workflows/editor/${TRIGGER}`);
  await hydrated(page);
  await expect(page.getByTestId('editor')).toBeVisible();
}

/** Drags a palette module onto the canvas at (x, y) of the canvas box. */
async function dragModule(page: Page, moduleId: string, x: number, y: number) {
  await page.getByTestId(`palette-${moduleId}`).dragTo(page.getByTestId('canvas'), { targetPosition: { x, y } });
}

/** Drags from an output port to an input port. */
async function connect(page: Page, from: string, to: string) {
  await page.getByTestId(from).dragTo(page.getByTestId(to));
}

test('a workflow is drawn from the palette, saved, reloaded, refused with a cycle, and undone', async ({ page }) => {
  // The editor opens from the trigger list.
  await page.goto('/triggers');
  await hydrated(page);
  await page.getByTestId(`edit-${TRIGGER}`).click();
  await expect(page).toHaveURL(`/workflows/editor/${TRIGGER}`);
  await hydrated(page);
  const canvas = page.getByTestId('canvas');
  await expect(canvas.getByTestId('node-1')).toHaveAttribute('data-module', TRIGGER);

  await dragModule(page, 'tag-if', 200, 120);
  await dragModule(page, 'stop-execution', 470, 120);
  await expect(canvas.getByTestId('node-2')).toHaveAttribute('data-module', 'tag-if');
  await expect(canvas.getByTestId('node-3')).toHaveAttribute('data-module', 'stop-execution');
  await connect(page, 'out-1-1', 'in-2-1');
  await connect(page, 'out-2-1', 'in-3-1');
  await expect(canvas.getByTestId('edge-1-1-2-1')).toBeAttached();
  await expect(canvas.getByTestId('edge-2-1-3-1')).toBeAttached();

  // The IF node's form: the tag param is a picker; Enter adds the typed tag.
  await canvas.getByTestId('node-2').locator('.node-title').click();
  const panel = page.getByTestId('node-panel');
  await expect(panel).toContainText('IF :: Tag');
  await panel.getByLabel('Tags').fill('tlp:red');
  await panel.getByLabel('Tags').press('Enter');
  await expect(panel.locator('.chip')).toHaveText(['tlp:red×']);
  await panel.getByLabel('Scope').selectOption('event_attribute');
  await expect(page.getByTestId('editor-dirty')).toHaveText('Unsaved changes');
  await screenshot(page, 'editor');

  await page.getByTestId('editor-save').click();
  await expect(page.getByTestId('editor-message')).toHaveText('Saved.');
  await expect(page.getByTestId('editor-dirty')).toHaveText('All changes saved');

  await page.reload();
  await hydrated(page);
  await expect(canvas.getByTestId('node-2')).toHaveAttribute('data-module', 'tag-if');
  await expect(canvas.getByTestId('node-3')).toHaveAttribute('data-module', 'stop-execution');
  await expect(canvas.getByTestId('edge-1-1-2-1')).toBeAttached();
  await expect(canvas.getByTestId('edge-2-1-3-1')).toBeAttached();
  await canvas.getByTestId('node-2').locator('.node-title').click();
  await expect(page.getByTestId('node-panel').locator('.chip')).toHaveText(['tlp:red×']);
  await expect(page.getByTestId('node-panel').getByLabel('Scope')).toHaveValue('event_attribute');

  // A cycle: IF :: Tag (else) → IF :: Published → back into IF :: Tag.
  await page.keyboard.press('Escape');
  await dragModule(page, 'published-if', 200, 330);
  await expect(canvas.getByTestId('node-4')).toHaveAttribute('data-module', 'published-if');
  await connect(page, 'out-2-2', 'in-4-1');
  await connect(page, 'out-4-1', 'in-2-1');
  await expect(page.getByTestId('editor-errors')).toContainText('Cannot save a workflow containing a cycle');
  await expect(canvas.locator('path.edge.invalid')).not.toHaveCount(0);
  await page.getByTestId('editor-save').click();
  await expect(page.getByTestId('editor-message')).toContainText('Not saved: Cannot save a workflow containing a cycle');
  await screenshot(page, 'editor-cycle');

  // Undo takes the closing edge back; the graph may be saved again.
  await page.getByTestId('editor-undo').click();
  await expect(canvas.getByTestId('edge-4-1-2-1')).toHaveCount(0);
  await expect(page.getByTestId('editor-errors')).toHaveCount(0);
  await page.keyboard.press('Control+z');
  await page.keyboard.press('Control+z');
  await expect(canvas.getByTestId('node-4')).toHaveCount(0);
  await expect(page.getByTestId('editor-dirty')).toHaveText('All changes saved');

  // Delete with the keyboard, and redo brings the node back.
  await canvas.getByTestId('node-3').locator('.node-title').click();
  await page.keyboard.press('Delete');
  await expect(canvas.getByTestId('node-3')).toHaveCount(0);
  await expect(canvas.getByTestId('edge-2-1-3-1')).toHaveCount(0);
  await page.keyboard.press('Control+z');
  await expect(canvas.getByTestId('edge-2-1-3-1')).toBeAttached();
});

test('an official blueprint is inserted into a workflow, and a disabled module leaves the palette', async ({ page }) => {
  await page.goto('/blueprints');
  await hydrated(page);
  await page.getByRole('button', { name: 'Load the official blueprints' }).click();
  await expect(page.getByRole('status')).toBeVisible();

  await openEditor(page);
  const canvas = page.getByTestId('canvas');
  const before = await canvas.locator('.node').count();
  await page.getByTestId('palette-search').fill('tlp:clear');
  const insert = page.locator('[data-testid^="insert-blueprint-"]').first();
  await expect(insert).toContainText('tlp:clear');
  await insert.click();
  await expect(page.getByTestId('editor-message')).toContainText('Inserted');
  const after = await canvas.locator('.node').count();
  expect(after).toBeGreaterThan(before);
  await screenshot(page, 'editor-blueprint');
  // Leave the workflow as it was saved.
  await page.reload();
  await hydrated(page);
  await expect(canvas.locator('.node')).toHaveCount(before);

  // A module switched on in the index joins the palette; switched off, it leaves it.
  const toggleModule = async (action: 'Enable' | 'Disable') => {
    await page.goto('/modules');
    await hydrated(page);
    await page.getByTestId('module-ms-teams-webhook').getByRole('button', { name: `${action} ms-teams-webhook` }).click();
    await expect(page.getByText('Module saved.')).toBeVisible();
  };
  await expect(page.getByTestId('palette-ms-teams-webhook')).toHaveCount(0);
  await toggleModule('Enable');
  await openEditor(page);
  await expect(page.getByTestId('palette-ms-teams-webhook')).toBeVisible();
  await toggleModule('Disable');
  await openEditor(page);
  await expect(page.getByTestId('palette-stop-execution')).toBeVisible();
  await expect(page.getByTestId('palette-ms-teams-webhook')).toHaveCount(0);
});
