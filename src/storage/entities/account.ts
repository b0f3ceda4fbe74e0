import { EntitySchema } from 'typeorm';

/** An end user of a project, identified by an EIP-55 Ethereum address. */
export interface AccountRow {
  id: string;
  projectId: string;
  address: string;
  workspaceId: string;
  createdAt: Date;
  lastSignInAt: Date;
}

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
