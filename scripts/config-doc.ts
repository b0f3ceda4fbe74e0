// Rewrites the settings table in docs/configuration.md from src/config/settings.ts;
// with --check, only reports (exit 1) when the page is stale. Run: npm run docs:config.
import { readFileSync, writeFileSync } from 'node:fs';
import { REFERENCE_PAGE, renderReferencePage } from '../src/config/reference-page.js';

const file = new URL(`../${REFERENCE_PAGE}`, import.meta.url);
const current = readFileSync(file, 'utf8');
const wanted = renderReferencePage(current);
if (process.argv.includes('--check')) {
  if (wanted !== current) {
    console.error(`${REFERENCE_PAGE} is stale: run npm run docs:config and commit it`);
    process.exit(1);
  }
} else if (wanted !== current) {
  writeFileSync(file, wanted);
  console.log(`wrote ${REFERENCE_PAGE}`);
}
