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
    this.siftUp(item);
  }

  pop(): T | undefined {
    const top = this.items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  remove(item: T): void {
    const i = item.heapIndex;
    if (i < 0) return;
    const last = this.items.pop();
    item.heapIndex = -1;
    // A queued item means a non-empty heap, so `last` is never undefined here.
    if (last === undefined || last === item) return;
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
    if (!this.siftUp(item)) this.siftDown(item);
  }

  /** The items in heap-array order; pushing them back in this order rebuilds the identical heap. */
  toArray(): T[] {
    return this.items.slice();
  }

  clear(): void {
    for (const item of this.items) item.heapIndex = -1;
    this.items.length = 0;
  }

  // Both sifts move `item` from its own heapIndex; every index they read is below items.length
  // (a parent sits above a valid index; the left child is checked against n), hence the `!`s.
  private siftUp(item: T): boolean {
    const items = this.items;
    const start = item.heapIndex;
    let i = start;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = items[parentIndex]!;
      if (parent.timerAt <= item.timerAt) break;
      items[i] = parent;
      parent.heapIndex = i;
      i = parentIndex;
    }
    items[i] = item;
    item.heapIndex = i;
    return i !== start;
  }

  private siftDown(item: T): void {
    const items = this.items;
    const n = items.length;
    let i = item.heapIndex;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      let childIndex = left;
      let child = items[left]!;
      const right = left + 1 < n ? items[left + 1] : undefined;
      if (right !== undefined && right.timerAt < child.timerAt) {
        childIndex = left + 1;
        child = right;
      }
      if (child.timerAt >= item.timerAt) break;
      items[i] = child;
      child.heapIndex = i;
      i = childIndex;
    }
    items[i] = item;
    item.heapIndex = i;
  }
}
