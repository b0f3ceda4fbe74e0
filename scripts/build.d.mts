export type BuildTarget = 'server' | 'web';
export function isCurrent(name: BuildTarget): boolean;
export function build(options?: { ifNeeded?: boolean; targets?: BuildTarget[]; log?: (line: string) => void }): Promise<BuildTarget[]>;
