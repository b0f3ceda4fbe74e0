/** A tenant. Every other row carries its project id. */
export interface ProjectRow {
  id: string;
  name: string;
  createdAt: Date;
}
