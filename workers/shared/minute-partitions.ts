import {
  earlyFiringTrigger,
  SilenceProgress,
  tumblingWindows,
  windowOperator,
  type Aggregate,
  type Emission,
  type Json,
  type WindowOperator,
} from '@/lib/stream';
import { MINUTE } from '@/lib/time';
import { eventTimeSettings, type EventTimeEnv } from './event-time';

/** One events-topic partition of a minute job: its operator, and the silence that moves event time on when no records come. */
export interface MinutePartition<V, R> {
  operator: WindowOperator<string, V, R>;
  silence: SilenceProgress;
}

/**
 * The per-partition operators of a job that rolls events up by site in tumbling 1-minute windows
 * firing early after every batch (rollups, insights): built on first use or on assignment, restored
 * from the job's checkpoint, advanced through silence. The job keeps its sink and checkpoint shape.
 */
export function minutePartitions<V, A, R>(o: {
  aggregate: () => Aggregate<V, A, R>;
  /** The side input whose version every operator snapshot records. */
  dimensions: { readonly version: number };
  settings: EventTimeEnv;
  clock: () => number;
}) {
  const partitions = new Map<number, MinutePartition<V, R>>();
  // When this process last saw records per partition: survives re-assignment (see sessions-job.ts).
  const lastRecordAt = new Map<number, number>();

  const fresh = (partition: number): MinutePartition<V, R> => {
    const { outOfOrdernessMs, allowedLatenessMs, idleTimeoutMs } = eventTimeSettings(o.settings);
    const operator = windowOperator<V, A, R>(tumblingWindows(MINUTE), o.aggregate(), {
      outOfOrdernessMs,
      allowedLatenessMs,
      dimensions: o.dimensions,
      trigger: earlyFiringTrigger({ everyBatch: true }),
    });
    operator.addPartition(partition);
    return {
      operator,
      silence: new SilenceProgress({ idleTimeoutMs, outOfOrdernessMs, clock: o.clock }, lastRecordAt.get(partition)),
    };
  };

  /** The partition's state, fresh if it has none yet. */
  const state = (partition: number): MinutePartition<V, R> => {
    let s = partitions.get(partition);
    if (!s) partitions.set(partition, (s = fresh(partition)));
    return s;
  };

  return {
    state,
    /** On assignment: fresh state, then the checkpointed operator if there is one (event time resumes at its watermark). */
    restore(partition: number, operator: Json | null): void {
      const s = fresh(partition);
      if (operator) {
        s.operator.restore(operator);
        s.silence.resumeFrom(s.operator.watermark);
      }
      partitions.set(partition, s);
    },
    release(partition: number): void {
      partitions.delete(partition);
    },
    /** Records came in on the partition at `now`: its silence starts again from there. */
    records(partition: number, now: number): void {
      state(partition).silence.records(now);
      lastRecordAt.set(partition, now);
    },
    /** End of input (replay, imports): every open window fires. Undefined for a partition this process does not hold. */
    flush(partition: number): Emission<string, V, R> | undefined {
      return partitions.get(partition)?.operator.advanceWatermarkTo(Number.POSITIVE_INFINITY);
    },
    /** A quiet partition's event time moves on with its silence; undefined when that would fire nothing. */
    tick(partition: number): Emission<string, V, R> | undefined {
      const s = partitions.get(partition);
      if (!s) return undefined;
      const target = s.silence.target();
      if (target === null || target <= s.operator.watermark || s.operator.openWindowCount === 0) return undefined;
      return s.operator.advanceWatermarkTo(target);
    },
  };
}
