import { InitialSchema1763900000000 } from './1763900000000-initial-schema.js';

/** Every migration, oldest first. TypeORM runs the ones not yet recorded. */
export const migrations = [InitialSchema1763900000000];
