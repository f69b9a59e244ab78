// Turns many concurrent send() calls into few broker requests: while one flush is in flight,
// new calls queue up and go out together in the next one. Under load this batches naturally;
// when idle, a lone message is sent at once (no linger timer adds latency).

interface Pending<T, R> {
  items: T[];
  resolve: (r: R[]) => void;
  reject: (e: unknown) => void;
}

export class SendCoalescer<T, R> {
  private queue: Pending<T, R>[] = [];
  private flushing = false;

  constructor(
    private readonly flush: (items: T[]) => Promise<R[]>,
    private readonly maxItems = 2000,
  ) {}

  submit(items: T[]): Promise<R[]> {
    return new Promise<R[]>((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      if (!this.flushing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const group: Pending<T, R>[] = [];
        let count = 0;
        while (this.queue.length > 0 && (group.length === 0 || count + this.queue[0]!.items.length <= this.maxItems)) {
          const next = this.queue.shift()!;
          group.push(next);
          count += next.items.length;
        }
        try {
          const results = await this.flush(group.flatMap((g) => g.items));
          let at = 0;
          for (const g of group) {
            g.resolve(results.slice(at, at + g.items.length));
            at += g.items.length;
          }
        } catch (e) {
          for (const g of group) g.reject(e);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
