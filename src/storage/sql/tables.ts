import type { ColumnType, Generated } from 'kysely';

/** Row types as both databases hold them; times are Unix ms in BIGINT/INTEGER columns. */
export interface UsersTable {
  id: string;
  username: string | null;
  name: string | null;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  description: string | null;
  avatar_url: string | null;
  created_at: number;
  claims_hash: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface AccountsTable {
  user_id: string;
  username: string;
  username_key: string;
  email: string | null;
  email_key: string | null;
  password_hash: string;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface CountersTable {
  name: string;
  value: number;
}

export interface ChatsTable {
  id: Generated<number>;
  type: string;
  name: string | null;
  description: string | null;
  avatar_url: string | null;
  /** "a\u0000b" with a < b for private chats: a unique index makes get-or-create race-free. */
  private_key: string | null;
  created_at: number;
  updated_at: number;
  last_seq: ColumnType<number, number | undefined, number>;
  /** The newest change cursor handed out to an edit or delete in this chat (0: none yet). */
  last_change_seq: ColumnType<number, number | undefined, number>;
}

export interface MembersTable {
  chat_id: number;
  user_id: string;
  role: string;
  joined_at: number;
  left_at: number | null;
  delivered_seq: ColumnType<number, number | undefined, number>;
  read_seq: ColumnType<number, number | undefined, number>;
}

export interface MessagesTable {
  id: Generated<number>;
  chat_id: number;
  sender_id: string;
  text: string;
  seq: number;
  kind: string;
  reply_to: number | null;
  client_msg_id: string | null;
  created_at: number;
  edited_at: number | null;
  deleted_at: number | null;
  change_seq: ColumnType<number, number | undefined, number>;
}

export interface Tables {
  users: UsersTable;
  accounts: AccountsTable;
  settings: SettingsTable;
  counters: CountersTable;
  chats: ChatsTable;
  members: MembersTable;
  messages: MessagesTable;
}
