import { isSourceDimension, type Dimension } from './dimensions';

/** What the filters ask of the fact rows: events `e`, visits `v` (fact-engine.ts states the semantics). */
export interface FactPredicates {
  /** On an event row. */
  events: string[];
  /** On a visit row. */
  visits: string[];
  /** On a visit, selecting the events inside it (entry/exit page, sources, the event filters). */
  eventVisits: string[];
  /** The page filter's id expression: visits that viewed it (their pageviews are looked up). */
  pageId: string | null;
}

/** The visit `v` sent an event the event filters match (a relation `ce` of (visitor, ts) in both engines). */
export const SENT_MATCHING_EVENT =
  'EXISTS (SELECT 1 FROM ce WHERE ce.visitor = v.visitor AND ce.ts >= v.started_at AND ce.ts <= v.ended_at)';

/**
 * The filters as predicates over the fact tables, given each filtered dimension's dictionary id
 * as an SQL expression (a parameter lookup in PostgreSQL, a number in the columnar copy), and the
 * "the visit sent a matching event" predicate when event filters are set. Both engines build
 * their statements from this.
 */
export function factPredicates(ids: Iterable<[Dimension, string]>, didEvent: string | null): FactPredicates {
  const out: FactPredicates = { events: [], visits: [], eventVisits: [], pageId: null };
  for (const [d, id] of ids) {
    // A source selects visits (dimensions.ts): the events of visits from it, not only its landings.
    if (d === 'entry_page' || d === 'exit_page' || isSourceDimension(d)) {
      out.eventVisits.push(`v.${d} = ${id}`);
      out.visits.push(`v.${d} = ${id}`);
    } else if (d === 'page') {
      out.pageId = id;
      out.events.push(`e.page = ${id}`);
    } else {
      out.events.push(`e.${d} = ${id}`);
      out.visits.push(`v.${d} = ${id}`);
    }
  }
  if (didEvent) {
    out.eventVisits.push(didEvent);
    out.visits.push(didEvent);
  }
  return out;
}
