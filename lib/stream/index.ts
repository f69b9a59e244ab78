// Eddy's stream operator library: event-time windows, watermarks and checkpoints, pure and
// deterministic. See README.md for the semantics and a worker example.

export { windowOperator } from './window-operator';
export {
  earlyFiringTrigger,
  KeyedWindowOperator,
  onTimeTrigger,
  SNAPSHOT_VERSION,
  type AccumulationMode,
  type AssignerJson,
  type EmittedPane,
  type Emission,
  type FiringKind,
  type Key,
  type LateElement,
  type OpenWindow,
  type OperatorName,
  type OperatorOptions,
  type OperatorSnapshot,
  type Retraction,
  type Trigger,
  type WindowOperator,
  type WindowResult,
} from './operator';
export { SilenceProgress, type SilenceOptions } from './silence';
export { TimeWindowOperator } from './time-windows';
export { SessionWindowOperator } from './session-windows';
export { CountWindowOperator } from './count-windows';
export {
  assignTimeWindows,
  countWindows,
  sessionWindowOf,
  sessionWindows,
  slidingWindows,
  tumblingWindows,
  windowsTouch,
  type CountWindows,
  type SessionWindows,
  type SlidingWindows,
  type TimeWindows,
  type TumblingWindows,
  type WindowAssigner,
  type WindowBounds,
} from './assigners';
export {
  BoundedOutOfOrderness,
  PartitionWatermarks,
  type Clock,
  type PartitionId,
  type PartitionStatus,
  type PartitionWatermarkOptions,
  type PartitionWatermarksSnapshot,
} from './watermarks';
export {
  composite,
  count,
  max,
  min,
  sum,
  type Aggregate,
  type CompositeAccumulator,
  type CompositeResult,
  type SomeAggregate,
} from './aggregates';
export { distinctCount, HyperLogLog, type HyperLogLogJson } from './hyperloglog';
export { DimensionTable, type DeepReadonly, type DimensionSnapshot } from './dimension-table';
export { SnapshotError } from './errors';
export { alignedStart, mod, NO_WATERMARK } from './time';
export { asArray, asNumber, asObject, type Json } from './json';
export { stateCodec, type Fields, type JsonObject, type StateCodec } from './state-codec';
export { forgetKeys, forgetKeysDeep } from './forget-keys';
