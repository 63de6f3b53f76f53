import { afterAll, describe, expect, it } from 'vitest';
import { bulkStorage, type BulkStorage } from '../../bench/bulk-provision.js';
import { backends } from '../support/backends.js';
import { startServer, tokenFor, type TestServer } from '../support/test-server.js';

/**
 * The scale scenarios' provisioning (issue 15): users and a group written straight into a fresh
 * database are what the server then serves — members can send, the member list is complete.
 */
describe.each(backends)('bench bulk provisioning on %s', (backend) => {
  let storage: BulkStorage | null = null;
  let t: TestServer | null = null;
  afterAll(async () => {
    await t?.close();
    await storage?.drop();
  });

  it('fills 2000 users and a 2000-member group quickly; the server serves them', async () => {
    storage = await bulkStorage({ postgres: backend === 'postgres' });
    expect(storage.kind).toBe(backend === 'postgres' ? 'postgresql' : 'sqlite');
    const ids = Array.from({ length: 2000 }, (_, i) => `bulk${i + 1}`);
    await storage.fill(ids, [{ id: 1, name: 'bulk group', memberIds: ids }, { id: 2, name: 'small', memberIds: ids.slice(0, 3) }]);
    const url = storage.env['DATABASE_URL'];
    t = await startServer(backend, url ? { database: { url, drop: async () => {} } } : { dataDir: storage.env['DATA_DIR']! });
    const members = await t.server.core.listMembers('bulk1', 1);
    expect(members).toHaveLength(2000);
    expect(members.find((m) => m.user.id === 'bulk1')?.member.role).toBe('owner');
    const sent = await t.server.core.sendMessage('bulk1999', { chatId: 1, text: 'hello' });
    expect(sent.message.seq).toBe(1);
    // A token for a bulk user authenticates as that user; a new chat gets an id past the filled ones.
    expect((await t.server.core.authenticate(await tokenFor('bulk7'))).id).toBe('bulk7');
    expect((await t.server.core.createGroup('bulk1', { name: 'new', memberIds: ['bulk2'] })).id).toBeGreaterThan(2);
  });
});
