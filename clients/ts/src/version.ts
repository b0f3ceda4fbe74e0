// Hand-written. Kept equal to clients/VERSION (checked by test/clients/versions.test.ts).
export const VERSION = '0.1.0';
