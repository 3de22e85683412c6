import { describe, expect, it } from 'vitest';
import { downlinkTopics, uplinkFilters, type TopicRoot } from '@spectrum-grocers/contract';
import { topicMatches } from '@spectrum-grocers/broker';

const north: TopicRoot = { chain: 'spectrum-grocers', store: 'north' };
const south: TopicRoot = { chain: 'spectrum-grocers', store: 'south' };

describe("the uplink's topics, from the catalog", () => {
  it('sends up nothing it brings down, and brings down nothing it sends up: no message can loop', () => {
    for (const root of [north, south]) {
      // What it publishes at HQ is what it reads from the store (uplinkFilters), and the other way round.
      for (const topic of downlinkTopics(root)) {
        expect(
          uplinkFilters(root).filter((f) => topicMatches(f, topic)),
          topic,
        ).toEqual([]);
      }
    }
  });

  it("reads at HQ nothing another store's uplink sends there", () => {
    for (const [one, other] of [
      [north, south],
      [south, north],
    ] as const) {
      for (const topic of downlinkTopics(one)) {
        expect(
          uplinkFilters(other).filter((f) => topicMatches(f, topic)),
          topic,
        ).toEqual([]);
      }
    }
  });
});
