import base from './playwright.config';
import { defineConfig } from '@playwright/test';

// `make bench-ui`: the editor's opening time on a large workflow, against a release build.
// Figures are printed, never asserted (speed is measured, not tested).
export default defineConfig({
  ...base,
  testDir: './bench',
  timeout: 120_000,
  retries: 0,
});
