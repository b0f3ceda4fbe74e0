/** An end user of a project, identified by an EIP-55 Ethereum address. */
export interface AccountRow {
  id: string;
  projectId: string;
  address: string;
  workspaceId: string;
  createdAt: Date;
  lastSignInAt: Date;
}
