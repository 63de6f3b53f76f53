import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/app/config.js';

describe('REDIS_URL / REDIS_CLUSTER_NODES', () => {
  const base = { DATA_DIR: '/tmp/x' };

  it('reads the cluster seed nodes, IPv6 in brackets, spaces and a trailing comma tolerated', () => {
    const c = loadConfig({ ...base, REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-b.internal:7001,[::1]:7002,' });
    expect(c.redisClusterNodes).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-b.internal', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(c.redisUrl).toBeNull();
    expect(loadConfig(base).redisClusterNodes).toBeNull();
  });

  it('refuses a malformed node list by name', () => {
    for (const value of ['redis://10.0.0.1:7000', '10.0.0.1', '10.0.0.1:0', '10.0.0.1:70000', 'a:1,b', ',']) {
      expect(() => loadConfig({ ...base, REDIS_CLUSTER_NODES: value })).toThrow(/^REDIS_CLUSTER_NODES:/);
    }
  });

  it('refuses REDIS_URL and REDIS_CLUSTER_NODES together, with one clear line', () => {
    expect(() => loadConfig({ ...base, REDIS_URL: 'redis://127.0.0.1:6379', REDIS_CLUSTER_NODES: '127.0.0.1:7000' })).toThrow(
      /^REDIS_CLUSTER_NODES: set either REDIS_URL \(one Redis\) or REDIS_CLUSTER_NODES \(Redis Cluster\), not both$/,
    );
  });
});
