// A node field edited optimistically: what the user set shows at once, and later edits build
// on it, until Python's answer settles it (see `echoed` in ./clips.ts). Made while a
// component initialises (it runs an effect).
import { echoed, sent, type Echoes } from "./clips";

export class OptimisticField<T> {
  #pending = $state.raw<{ value: T } | null>(null);
  #echoes: Echoes = { inFlight: [], last: null, whole: -1 };
  #incoming: () => unknown;

  /** `incoming`: the field as Python has it; `wholeRevision`: the canvas' whole-graph count. */
  constructor(incoming: () => unknown, wholeRevision: () => number) {
    this.#incoming = incoming;
    $effect(() => {
      const after = echoed(this.#echoes, incoming(), wholeRevision());
      this.#echoes = after.echoes;
      if (after.settled) this.#pending = null;
    });
  }

  /** The value to show: the latest edit in flight, else Python's. */
  get current(): unknown {
    return this.#pending ? this.#pending.value : this.#incoming();
  }

  /** Show `value` now and `send` it. */
  set(value: T, send: (value: T) => void): void {
    this.#pending = { value };
    this.#echoes = sent(this.#echoes, value);
    send(value);
  }
}
