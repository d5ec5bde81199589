// Requests a view sends to the kernel and their replies: window requests
// tagged with the query generation they belong to, image/cell requests
// awaited as promises, and whether someone has waited long ("kernel busy").

/**
 * @typedef {import("../shared/protocol.js").TableRequest} TableRequest
 * @typedef {import("../shared/protocol.js").KernelMessage} KernelMessage
 * @typedef {import("../shared/protocol.js").Question} Question
 * @typedef {import("../shared/protocol.js").Answers} Answers
 * @typedef {import("../shared/protocol.js").SortKey} SortKey
 * @typedef {{ msg: KernelMessage, buffers: DataView[] }} Reply
 * @typedef {{ generation: number, sentAt: number, user: boolean, offset?: number }} Pending
 */
/**
 * @template {keyof Answers} K
 * @typedef {import("../shared/protocol.js").Answer<K>} Answer
 */

/** Request ids, unique across the views on the page: every view of a model receives every reply. */
let lastRequest = 0;
const nextRequestId = () => ++lastRequest;

/** A user request pending longer than this makes the view say "kernel busy". */
const BUSY_AFTER_MS = 600;

export class Requests {
  /** @param {(message: TableRequest) => void} send */
  constructor(send) {
    this.send = send;
    /** Bumped on every sort/filter/column change; replies for older generations are dropped. */
    this.generation = 0;
    /** @type {Map<number, Pending>} */
    this.pending = new Map();
    /** Waiters of image and cell requests. @type {Map<number, (reply: Reply) => void>} */
    this.waiters = new Map();
  }

  /** The query changed: forget the window requests nobody waits for. */
  newGeneration() {
    this.generation += 1;
    for (const [id, p] of this.pending) if (!p.user) this.pending.delete(id);
  }

  /**
   * Ask for rows [offset, offset + limit) of `query`; a negative offset counts from the end.
   * @param {number} offset
   * @param {number} limit
   * @param {boolean} user  whether someone waits for it (drives "kernel busy").
   * @param {{ sort: SortKey[], filter: string | null }} query
   */
  window(offset, limit, user, query) {
    const id = nextRequestId();
    this.pending.set(id, { generation: this.generation, sentAt: performance.now(), user, offset });
    this.send({ type: "window", request: id, offset, limit, ...query });
  }

  /**
   * Send an image, cell, trace or span request and wait for its reply (or error).
   * @template {Question} Q
   * @param {Q} message
   * @returns {Promise<Answer<Q["type"]>>}
   */
  ask(message) {
    const id = nextRequestId();
    this.pending.set(id, { generation: this.generation, sentAt: performance.now(), user: true });
    this.send(/** @type {TableRequest} */ ({ ...message, request: id }));
    return new Promise((resolve) => {
      this.waiters.set(id, (reply) => {
        this.waiters.delete(id);
        this.pending.delete(id);
        // `resolve` hands over only replies of the asked type or errors.
        resolve(/** @type {Answer<Q["type"]>} */ (reply));
      });
    });
  }

  /**
   * Hand a reply to the `ask` waiting for it.
   * @param {KernelMessage} msg @param {DataView[]} buffers
   * @returns {boolean} whether someone was waiting.
   */
  resolve(msg, buffers) {
    if (msg.type === "rows" || msg.type === "tick" || msg.request === null) return false;
    const waiter = this.waiters.get(msg.request);
    if (!waiter) return false;
    waiter({ msg, buffers });
    return true;
  }

  /**
   * The reply to window request `id` arrived: whether it is this view's and
   * still of the current query.
   * @param {number} id
   */
  settle(id) {
    const pending = this.pending.get(id);
    this.pending.delete(id);
    return pending !== undefined && pending.generation === this.generation;
  }

  /** Whether rows from `offset` of the current query are on their way. @param {number} offset */
  isPending(offset) {
    for (const p of this.pending.values()) if (p.offset === offset && p.generation === this.generation) return true;
    return false;
  }

  /** Whether a request someone waits for has been pending for long. */
  busy() {
    const now = performance.now();
    for (const p of this.pending.values()) if (p.user && now - p.sentAt > BUSY_AFTER_MS) return true;
    return false;
  }
}
