// Team roles, weakest first. Importable from client components (no database imports).

export const ROLES = ['viewer', 'admin', 'owner'] as const;
export type Role = (typeof ROLES)[number];

const rank: Record<Role, number> = { viewer: 0, admin: 1, owner: 2 };

export function atLeast(role: Role, min: Role): boolean {
  return rank[role] >= rank[min];
}

export const roleLabel: Record<Role, string> = { owner: 'Owner', admin: 'Admin', viewer: 'Viewer' };
