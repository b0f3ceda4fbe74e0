export type BuildTarget = 'server' | 'web';
export function isCurrent(name: BuildTarget): boolean;
export function build(options?: { ifNeeded?: boolean; targets?: BuildTarget[]; log?: (line: string) => void }): Promise<BuildTarget[]>;
/** bin/nexus.js's shebang flags: the shipped Node flags. */
export function shippedNodeFlags(): string[];
/** Makes dist/.compile-cache afresh, as the server build does. */
export function warmCompileCache(): void;
/** Deletes dist/ files whose TypeScript source is gone (tsc's incremental build keeps them). */
export function pruneStaleOutput(): void;
