/** A person known to the server: from a token's claims, a built-in account, or a `rooms` profile. */
export interface User {
  /** The token's `sub`: an opaque string. Built-in accounts get canonical integers ("1", "2", …). */
  readonly id: string;
  readonly username: string | null;
  readonly name: string | null;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly email: string | null;
  readonly description: string | null;
  readonly avatarUrl: string | null;
  readonly createdAt: number;
}

/** Profile fields a token, an account or a profile form may set; absent fields stay as they are. */
export interface ProfilePatch {
  readonly username?: string | null;
  readonly name?: string | null;
  readonly firstName?: string | null;
  readonly lastName?: string | null;
  readonly email?: string | null;
  readonly description?: string | null;
  readonly avatarUrl?: string | null;
}

/** SPEC: `name` falls back to `first_name last_name`, then `username`, then the id. */
export function displayName(user: Pick<User, 'id' | 'name' | 'firstName' | 'lastName' | 'username'>): string {
  if (user.name) return user.name;
  const full = [user.firstName, user.lastName].filter((part) => part).join(' ');
  if (full) return full;
  return user.username ?? user.id;
}
