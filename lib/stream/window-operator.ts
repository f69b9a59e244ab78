// One entry point for workers: pick the windows, the aggregate and the options; get the operator.

import type { Aggregate } from './aggregates';
import type { WindowAssigner } from './assigners';
import { CountWindowOperator } from './count-windows';
import type { Key, OperatorOptions, WindowOperator } from './operator';
import { SessionWindowOperator } from './session-windows';
import { TimeWindowOperator } from './time-windows';

/**
 * A keyed window operator. Tumbling and sliding windows run on slices (one update per element),
 * sessions merge, count windows close on count or timeout. Keys are strings unless the operator
 * classes are used directly.
 */
export function windowOperator<V, A, R, K extends Key = string>(
  assigner: WindowAssigner,
  aggregate: Aggregate<V, A, R>,
  options: OperatorOptions = {},
): WindowOperator<K, V, R> {
  switch (assigner.kind) {
    case 'tumbling':
    case 'sliding':
      return new TimeWindowOperator<K, V, A, R>(assigner, aggregate, options);
    case 'session':
      return new SessionWindowOperator<K, V, A, R>(assigner, aggregate, options);
    case 'count':
      return new CountWindowOperator<K, V, A, R>(assigner, aggregate, options);
  }
}
