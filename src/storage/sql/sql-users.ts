import { sql, type Kysely } from 'kysely';
import { conflict } from '../../domain/errors.js';
import type { ProfilePatch, User } from '../../domain/user.js';
import type { Account } from '../../ports/store.js';
import { toUser } from './row-mappers.js';
import type { Tables } from './tables.js';
import { isUniqueViolation } from './unique-violation.js';

const profileColumns = {
  username: 'username',
  name: 'name',
  firstName: 'first_name',
  lastName: 'last_name',
  email: 'email',
  description: 'description',
  avatarUrl: 'avatar_url',
} as const;

function patchToRow(patch: ProfilePatch): Record<string, string | null> {
  const row: Record<string, string | null> = {};
  for (const [field, column] of Object.entries(profileColumns)) {
    const value = patch[field as keyof ProfilePatch];
    if (value !== undefined) row[column] = value;
  }
  return row;
}

/** Users, built-in accounts and token claims (the `users`/`accounts`/`counters` tables). */
export class SqlUsers {
  constructor(private readonly db: Kysely<Tables>) {}


  async getUser(id: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toUser(row);
  }

  async getUsers(ids: readonly string[]): Promise<User[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('users').selectAll().where('id', 'in', [...ids]).execute();
    return rows.map(toUser);
  }

  async findUserByUsername(username: string): Promise<User | undefined> {
    const account = await this.db.selectFrom('accounts').select('user_id').where('username_key', '=', username.toLowerCase()).executeTakeFirst();
    if (account) return this.getUser(account.user_id);
    const row = await this.db.selectFrom('users').selectAll().where('username', '=', username).orderBy('created_at').executeTakeFirst();
    return row && toUser(row);
  }

  async upsertUser(id: string, patch: ProfilePatch, now: number): Promise<User> {
    const row = patchToRow(patch);
    const insert = this.db.insertInto('users').values({ id, created_at: now, ...row });
    if (Object.keys(row).length === 0) {
      await insert.onConflict((oc) => oc.column('id').doNothing()).execute();
    } else {
      await insert.onConflict((oc) => oc.column('id').doUpdateSet(row)).execute();
    }
    const user = await this.getUser(id);
    if (!user) throw new Error('user vanished after upsert');
    return user;
  }

  async applyClaims(id: string, patch: ProfilePatch, claimsHash: string, now: number): Promise<User> {
    const row = { ...patchToRow(patch), claims_hash: claimsHash };
    await this.db
      .insertInto('users')
      .values({ id, created_at: now, ...row })
      .onConflict((oc) => oc.column('id').doUpdateSet(row).where(sql<boolean>`users.claims_hash is distinct from ${claimsHash}`))
      .execute();
    const user = await this.getUser(id);
    if (!user) throw new Error('user vanished after upsert');
    return user;
  }

  async createAccount(
    input: { username: string; email: string | null; name: string | null; passwordHash: string },
    now: number,
  ): Promise<User> {
    try {
      return await this.db.transaction().execute(async (trx) => {
        // Numeric ids so every dialect can render built-in users as its seed shows; an id
        // already taken by a token's `sub` is skipped.
        let id = '';
        for (;;) {
          const counter = await trx
            .insertInto('counters')
            .values({ name: 'account', value: 1 })
            .onConflict((oc) => oc.column('name').doUpdateSet({ value: sql`counters.value + 1` }))
            .returning('value')
            .executeTakeFirstOrThrow();
          id = String(Number(counter.value));
          const taken = await trx.selectFrom('users').select('id').where('id', '=', id).executeTakeFirst();
          if (!taken) break;
        }
        await trx
          .insertInto('users')
          .values({ id, username: input.username, email: input.email, name: input.name, created_at: now })
          .execute();
        await trx
          .insertInto('accounts')
          .values({
            user_id: id,
            username: input.username,
            username_key: input.username.toLowerCase(),
            email: input.email,
            email_key: input.email?.toLowerCase() ?? null,
            password_hash: input.passwordHash,
          })
          .execute();
        const user = await trx.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
        return toUser(user);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('username or email is already taken');
      throw err;
    }
  }

  async findAccount(login: { username?: string; email?: string }): Promise<Account | undefined> {
    let query = this.db.selectFrom('accounts').selectAll();
    if (login.username !== undefined) query = query.where('username_key', '=', login.username.toLowerCase());
    else if (login.email !== undefined) query = query.where('email_key', '=', login.email.toLowerCase());
    else return undefined;
    const row = await query.executeTakeFirst();
    return row && { userId: row.user_id, username: row.username, email: row.email, passwordHash: row.password_hash };
  }
}
