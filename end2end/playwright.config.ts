import { defineConfig } from '@playwright/test';

// The suite starts its own server on a fresh temporary database (start-server.sh) and stops it
// at the end. The browser is Debian's Chromium: Playwright never downloads one here.
const port = Number(process.env.FLOWGATE_E2E_PORT ?? 3100);

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  reporter: 'list',
  timeout: 30_000,
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    viewport: { width: 1280, height: 800 },
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.FLOWGATE_CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--headless',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
  },
  webServer: {
    command: `./start-server.sh ${port}`,
    url: `http://127.0.0.1:${port}/users/login`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
