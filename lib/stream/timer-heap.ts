// One binary min-heap of everything waiting for the watermark (a window's firing or its cleanup),
// ordered by the time it is due. Items carry their own heap position so that a window whose due
// time moves (a session that grows, a late element) is re-ordered in O(log n) instead of leaving
// stale entries behind. The array order is deterministic, and snapshots store it so that a restored
// operator breaks ties between equal due times exactly like the original.

export interface Timed {
  /** Event time at which the item is due; it fires once the watermark reaches it. */
  timerAt: number;
  /** Position in the heap, −1 when not queued. Owned by the heap. */
  heapIndex: number;
}

export class TimerHeap<T extends Timed> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    item.heapIndex = this.items.length;
    this.items.push(item);
    this.siftUp(item.heapIndex);
  }

  pop(): T | undefined {
    const top = this.items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  remove(item: T): void {
    const i = item.heapIndex;
    if (i < 0) return;
    const last = this.items.pop() as T;
    item.heapIndex = -1;
    if (last === item) return;
    this.items[i] = last;
    last.heapIndex = i;
    this.update(last);
  }

  /** Restores heap order after `item.timerAt` changed in either direction. */
  update(item: T): void {
    if (item.heapIndex < 0) {
      this.push(item);
      return;
    }
    if (!this.siftUp(item.heapIndex)) this.siftDown(item.heapIndex);
  }

  /** The items in heap-array order; pushing them back in this order rebuilds the identical heap. */
  toArray(): T[] {
    return this.items.slice();
  }

  clear(): void {
    for (const item of this.items) item.heapIndex = -1;
    this.items.length = 0;
  }

  private siftUp(start: number): boolean {
    const items = this.items;
    const item = items[start];
    let i = start;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = items[parentIndex];
      if (parent.timerAt <= item.timerAt) break;
      items[i] = parent;
      parent.heapIndex = i;
      i = parentIndex;
    }
    items[i] = item;
    item.heapIndex = i;
    return i !== start;
  }

  private siftDown(start: number): void {
    const items = this.items;
    const n = items.length;
    const item = items[start];
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && items[right].timerAt < items[left].timerAt ? right : left;
      if (items[child].timerAt >= item.timerAt) break;
      items[i] = items[child];
      items[i].heapIndex = i;
      i = child;
    }
    items[i] = item;
    item.heapIndex = i;
  }
}
