import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONNECT_VERSION_CHECKED } from '../../../src/transport/protocol-errors.js';

const root = new URL('../../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const declared = { ...pkg.dependencies, ...pkg.devDependencies };
const connectPackages = Object.keys(declared).filter((name) => name.startsWith('@connectrpc/'));

// src/transport/protocol-errors.ts relies on @connectrpc/connect's protocol internals.
describe('@connectrpc/* pin', () => {
  it('declares the Connect packages the server uses', () => {
    expect(connectPackages).toEqual(expect.arrayContaining(['@connectrpc/connect', '@connectrpc/connect-fastify', '@connectrpc/connect-node']));
  });

  it.each(connectPackages)('%s is pinned exactly to the version protocol-errors.ts was checked against', (name) => {
    expect(declared[name]).toBe(CONNECT_VERSION_CHECKED);
  });

  it.each(connectPackages)('%s is installed at that version', (name) => {
    const installed = JSON.parse(readFileSync(new URL(`node_modules/${name}/package.json`, root), 'utf8')) as { version: string };
    expect(installed.version).toBe(CONNECT_VERSION_CHECKED);
  });
});
