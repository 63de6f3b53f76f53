import { badRequest, unauthorized } from '../../domain/errors.js';
import type { ProfilePatch, User } from '../../domain/user.js';
import { dummyHash, hashPassword, verifyPassword } from '../../identity/password-hash.js';
import type { CoreContext } from '../core-context.js';
import { hasNul } from '../text-rules.js';
import { storeImage } from './chats.js';

export interface Session {
  readonly accessToken: string;
  readonly tokenType: 'Bearer';
  readonly expiresIn: number;
  readonly user: User;
}

const USERNAME = /^[A-Za-z0-9_.-]{3,32}$/;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;
const MIN_PASSWORD = 8;
const MAX_PASSWORD = 1024;

function optionalString(value: unknown, field: string, max: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length > max) throw badRequest(`${field} must be a string of at most ${max} characters`);
  if (hasNul(value)) throw badRequest(`${field} must not contain NUL characters`);
  return value.trim() === '' ? null : value;
}

/** Built-in accounts (`/auth/register`): numeric ids, scrypt hashes, a token back. */
export async function register(ctx: CoreContext, input: Record<string, unknown>): Promise<Session> {
  const { username, password } = input;
  if (typeof username !== 'string' || !USERNAME.test(username)) {
    throw badRequest('username must be 3-32 characters: letters, digits, _ . -');
  }
  if (typeof password !== 'string' || password.length < MIN_PASSWORD || password.length > MAX_PASSWORD) {
    throw badRequest(`password must be at least ${MIN_PASSWORD} characters`);
  }
  const email = optionalString(input['email'], 'email', 320);
  if (email !== null && !EMAIL.test(email)) throw badRequest('email is not valid');
  const name = optionalString(input['name'], 'name', 200);
  const passwordHash = await hashPassword(password);
  const user = await ctx.store.createAccount({ username, email, name, passwordHash }, ctx.clock.now());
  ctx.users.remember(user);
  return issue(ctx, user);
}

export async function login(ctx: CoreContext, input: Record<string, unknown>): Promise<Session> {
  const { username, email, password } = input;
  if (typeof password !== 'string' || password.length > MAX_PASSWORD) throw badRequest('password is required');
  // No account holds U+0000 (PostgreSQL cannot even look it up): the credentials are wrong.
  if ((typeof username === 'string' && hasNul(username)) || (typeof email === 'string' && hasNul(email))) throw unauthorized('Invalid credentials');
  let account;
  if (typeof username === 'string' && username !== '') account = await ctx.store.findAccount({ username });
  else if (typeof email === 'string' && email !== '') account = await ctx.store.findAccount({ email });
  else throw badRequest('username or email is required');
  // The same work whether or not the account exists: response time reveals nothing.
  const ok = await verifyPassword(password, account?.passwordHash ?? (await dummyHash()));
  if (!account || !ok) throw unauthorized('Invalid credentials');
  const user = await ctx.users.get(account.userId);
  if (!user) throw unauthorized('Invalid credentials');
  return issue(ctx, user);
}

async function issue(ctx: CoreContext, user: User): Promise<Session> {
  const { token, expiresIn } = await ctx.tokens.issue(user.id, { username: user.username, email: user.email, name: user.name });
  return { accessToken: token, tokenType: 'Bearer', expiresIn, user };
}

/**
 * Verifies a token and makes its user known (created on first sight, profile refreshed from
 * the claims when they change). Call once per request or connection, never per frame.
 */
export async function authenticate(ctx: CoreContext, token: string | null | undefined): Promise<User> {
  if (!token) throw unauthorized('Missing token');
  const identity = await ctx.tokens.verify(token);
  return ctx.users.ensure(identity.userId, identity.profile);
}

export interface ProfileInput {
  readonly username?: unknown;
  readonly name?: unknown;
  readonly description?: unknown;
  readonly photo?: Buffer | undefined;
}

/** The `rooms` profile form: sets the caller's own profile fields and photo. */
export async function updateProfile(ctx: CoreContext, actorId: string, input: ProfileInput): Promise<User> {
  const patch: { -readonly [K in keyof ProfilePatch]: ProfilePatch[K] } = {};
  if (input.username !== undefined) patch.username = optionalString(input.username, 'username', 64);
  if (input.name !== undefined) patch.name = optionalString(input.name, 'name', 200);
  if (input.description !== undefined) patch.description = optionalString(input.description, 'description', 2000);
  if (input.photo) patch.avatarUrl = await storeImage(ctx, input.photo, 'users');
  const user = await ctx.store.upsertUser(actorId, patch, ctx.clock.now());
  ctx.users.remember(user);
  return user;
}
