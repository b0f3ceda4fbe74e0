import { SETTINGS, type Setting } from './settings.js';

/** docs/configuration.md: the part between these markers is generated from SETTINGS. */
export const REFERENCE_PAGE = 'docs/configuration.md';
const BEGIN = '<!-- BEGIN settings table: generated from src/config/settings.ts by `npm run docs:config`; do not edit -->';
const END = '<!-- END settings table -->';

/** The settings table in Markdown, one row per variable, in the table's order. */
export function renderSettingsTable(): string {
  const rows = Object.entries(SETTINGS).map(([name, setting]: [string, Setting<unknown>]) => {
    const doc = setting.readBy ? `${setting.doc} (Read by ${setting.readBy}.)` : setting.doc;
    return `| \`${name}\` | ${cell(doc)} | ${cell(setting.parse.accepts)} | ${cell(setting.shown)} |`;
  });
  return ['| Variable | Meaning | Accepts | Default |', '|---|---|---|---|', ...rows].join('\n');
}

/** The page with its generated part replaced by the current table. */
export function renderReferencePage(current: string): string {
  const begin = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`${REFERENCE_PAGE} has lost its markers (${BEGIN} … ${END})`);
  return `${current.slice(0, begin)}${BEGIN}\n${renderSettingsTable()}\n${current.slice(end)}`;
}

function cell(markdown: string): string {
  return markdown.replaceAll('|', '\\|').replaceAll('\n', ' ');
}
