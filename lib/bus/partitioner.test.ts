import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { partitionFor } from './partitioner';

describe('partitionFor', () => {
  it('places every key on the same partition as Kafka’s default partitioner', () => {
    const kafkaPartitioner = Partitioners.DefaultPartitioner();
    for (const partitions of [1, 3, 6, 12]) {
      const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({
        partitionId: i,
        leader: 0,
        partitionErrorCode: 0,
        replicas: [0],
        isr: [0],
      }));
      for (let i = 0; i < 500; i++) {
        const key = `site-${i % 17}:visitor-${i * 7919}`;
        const theirs = kafkaPartitioner({ topic: 't', partitionMetadata, message: { key, value: 'x' } });
        expect(partitionFor(key, partitions)).toBe(theirs);
      }
    }
  });
});
