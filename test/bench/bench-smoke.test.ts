import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceDriver } from '../../bench/clients/hub.js';
import type { Connection } from '../../bench/clients/driver.js';
import { DeliveryTracker, prime, runOpenLoop, seededRandom } from '../../bench/delivery-tracker.js';
import { startReferenceServer, type ReferenceServer } from '../../bench/reference-server.js';
import { makeTopology, mapLimit } from '../../bench/topology.js';

/**
 * The benchmark's own correctness (not speed): the open-loop generator against the reference
 * server at a low rate must account for every delivery exactly once, in seq order. No timing
 * assertions.
 */
describe('bench generator against the reference server', () => {
  let server: ReferenceServer;
  const connections: Connection[] = [];

  beforeAll(async () => {
    server = await startReferenceServer(0);
  });
  afterAll(async () => {
    for (const c of connections) c.close();
    await server.close();
  });

  it('delivers every message to every member of its group, once, with contiguous seq', async () => {
    const topology = makeTopology(30, 10, () => '');
    const tracker = new DeliveryTracker(topology, true);
    await mapLimit(topology.members, 10, async (m) => {
      connections[m.index] = await referenceDriver.connect(`http://127.0.0.1:${server.port}`, m, topology.groups[m.group]!, tracker);
    });
    const primed = await prime(tracker, connections);
    expect(primed.lost).toBe(0);

    const run = await runOpenLoop(tracker, connections, { rate: 100, durationMs: 2000, random: seededRandom(1) });
    await tracker.drain(run, 3000, 8000);

    expect(run.sent).toBe(200);
    expect(run.expected).toBe(2000);
    expect(run.received).toBe(run.expected);
    expect(run.lost).toBe(0);
    expect(run.duplicates).toBe(0);
    expect(run.misrouted).toBe(0);
    expect(tracker.seqViolations).toBe(0);
    expect(tracker.errors).toBe(0);
    expect(run.nLatencies).toBe(run.received);
  });

  it('counts a delivery it did not expect as a duplicate, not as a second receipt', async () => {
    const topology = makeTopology(2, 2, () => '');
    const tracker = new DeliveryTracker(topology, true);
    const sent: string[] = [];
    const fake: Connection = { send: (t) => void sent.push(t), close: () => {}, open: true };
    const run = tracker.begin(1);
    tracker.sendFrom(run, 0, topology.members[0]!, fake, 0);
    const [a, b] = topology.members;
    tracker.deliver(a!, sent[0]!, 1, 1);
    tracker.deliver(a!, sent[0]!, 1, 1);
    expect(run.received).toBe(1);
    expect(run.duplicates).toBe(1);
    expect(run.lost).toBe(1);
    expect(tracker.seqViolations).toBe(1);
    tracker.deliver(b!, sent[0]!, 1, 1);
    expect(run.lost).toBe(0);
  });
});
