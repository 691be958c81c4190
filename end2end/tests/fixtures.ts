import { expect, Page } from '@playwright/test';

export const ADMIN = { email: 'admin@admin.test', password: 'e2e-admin-password' };

/** Waits until the page is hydrated: clicks before that would be lost. */
export async function hydrated(page: Page) {
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

/** The login page at MISP's path. */
export class LoginPage {
  constructor(private readonly page: Page) {}

  async goto() {
    await this.page.goto('/users/login');
    await hydrated(this.page);
  }

  async login(email: string, password: string) {
    await this.page.getByLabel('E-mail').fill(email);
    await this.page.getByLabel('Password').fill(password);
    await this.page.getByRole('button', { name: 'Log in' }).click();
  }

  message() {
    return this.page.getByTestId('login-message');
  }
}

/** The shell's user menu, present on every page once logged in. */
export class UserMenu {
  constructor(private readonly page: Page) {}

  root() {
    return this.page.getByTestId('user-menu');
  }

  async open() {
    await this.root().locator('summary').click();
  }

  async logout() {
    await this.open();
    await this.page.getByRole('button', { name: 'Log out' }).click();
  }
}

export async function screenshot(page: Page, name: string) {
  await page.screenshot({ path: `screenshots/${name}.png`, fullPage: true });
}
