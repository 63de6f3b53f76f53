import type { DomainEvent } from '../../src/domain/events.js';
import type { Broker, Topic } from '../../src/ports/broker.js';

/**
 * Records every event this broker publishes, once per event (an event published on several
 * topics is one announcement), with its topics. Tests of the core use it where they used to
 * subscribe to "everything": there is no such subscription on a topic bus.
 */
export function tapPublished(broker: Broker): { events: DomainEvent[]; topics: Map<DomainEvent, Topic[]> } {
  const events: DomainEvent[] = [];
  const topics = new Map<DomainEvent, Topic[]>();
  const record = (topic: Topic, event: DomainEvent): void => {
    let list = topics.get(event);
    if (!list) {
      topics.set(event, (list = []));
      events.push(event);
    }
    list.push(topic);
  };
  const publish = broker.publish.bind(broker);
  const publishMany = broker.publishMany?.bind(broker);
  let inMany = false;
  broker.publish = (topic, event) => {
    if (!inMany) record(topic, event);
    publish(topic, event);
  };
  if (publishMany) {
    broker.publishMany = (list, event) => {
      for (const topic of list) record(topic, event);
      inMany = true;
      try {
        publishMany(list, event);
      } finally {
        inMany = false;
      }
    };
  }
  return { events, topics };
}
