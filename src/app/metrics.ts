import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SessionRegistry } from '../realtime/session-registry.js';

/** Prometheus metrics of one server instance (its own registry, so tests can run several). */
export class Metrics {
  readonly registry = new Registry();
  private readonly messages: Counter;
  private readonly fanout: Histogram;
  private readonly resubscribes: Counter;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.messages = new Counter({ name: 'chat_messages_total', help: 'Messages this instance received from the bus for its local sessions (it hears only chats with a member connected here)', registers: [this.registry] });
    this.fanout = new Histogram({
      name: 'chat_fanout_latency_seconds',
      help: 'From commit to hand-off to local connections',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [this.registry],
    });
    this.resubscribes = new Counter({
      name: 'chat_bus_resubscribes_total',
      help: 'Times the bus subscribed again after losing its Redis link (events published meanwhile were missed here)',
      registers: [this.registry],
    });
  }

  busResubscribed(): void {
    this.resubscribes.inc();
  }

  observeFanout(seconds: number): void {
    this.fanout.observe(seconds);
  }

  messageRouted(): void {
    this.messages.inc();
  }

  trackConnections(registry: SessionRegistry): void {
    new Gauge({
      name: 'chat_connections',
      help: 'Live client connections on this instance, by dialect',
      labelNames: ['dialect'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [dialect, n] of registry.connectionCounts()) this.set({ dialect }, n);
      },
    });
  }
}
