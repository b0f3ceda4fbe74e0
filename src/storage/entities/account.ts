import { EntitySchema } from 'typeorm';
import type { AccountRow } from '../../domain/model/account.js';

/** The table of the domain model's `AccountRow` (src/domain/model/account.ts). */
export const AccountEntity = new EntitySchema<AccountRow>({
  name: 'Account',
  tableName: 'accounts',
  columns: {
    id: { type: 'text', primary: true },
    projectId: { name: 'project_id', type: 'text' },
    address: { type: 'text' },
    workspaceId: { name: 'workspace_id', type: 'text' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    lastSignInAt: { name: 'last_sign_in_at', type: 'timestamptz' },
  },
});
