/** A request with a route timeout, as its deadline queue links it. */
export interface Deadlined {
  deadline: number;
  queue: DeadlineQueue | null;
  qPrev: Deadlined | null;
  qNext: Deadlined | null;
  routeTimeout(): void;
}

/**
 * Route timeouts of one duration: the requests waiting on it, in deadline order (they were added in
 * time order, so the head is always the earliest), as an intrusive list, and one Node timer armed
 * for the head. Adding and removing a request costs a few field writes where a Timeout per request
 * would allocate and link a timer object: every request has a route timeout (Envoy's 15 s default).
 */
export class DeadlineQueue {
  private head: Deadlined | null = null;
  private tail: Deadlined | null = null;
  private timer: NodeJS.Timeout | undefined = undefined;

  constructor(private readonly ms: number) {}

  add(u: Deadlined): void {
    u.deadline = Date.now() + this.ms;
    u.queue = this;
    u.qPrev = this.tail;
    u.qNext = null;
    if (this.tail) this.tail.qNext = u;
    else this.head = u;
    this.tail = u;
    if (this.timer === undefined) this.arm();
  }

  remove(u: Deadlined): void {
    if (u.queue !== this) return;
    if (u.qPrev) u.qPrev.qNext = u.qNext;
    else this.head = u.qNext;
    if (u.qNext) u.qNext.qPrev = u.qPrev;
    else this.tail = u.qPrev;
    u.queue = null;
    u.qPrev = u.qNext = null;
  }

  private arm(): void {
    const h = this.head;
    if (!h) {
      this.timer = undefined;
      return;
    }
    this.timer = setTimeout(() => this.fire(), Math.max(1, h.deadline - Date.now()));
    this.timer.unref(); // the requests' own connections keep the process alive
  }

  private fire(): void {
    const now = Date.now();
    for (let u = this.head; u !== null && u.deadline <= now; u = this.head) {
      this.remove(u);
      u.routeTimeout();
    }
    this.arm();
  }
}

const deadlineQueues = new Map<number, DeadlineQueue>();

/** The queue of route timeouts of ms milliseconds (one per duration, shared by all requests). */
export function deadlineQueue(ms: number): DeadlineQueue {
  let q = deadlineQueues.get(ms);
  if (!q) deadlineQueues.set(ms, (q = new DeadlineQueue(ms)));
  return q;
}
