/** The dispatcher's wake-up (src/bus/dispatcher.ts): a promise to wait on that anyone can fulfil; fulfilled, it re-arms. */
export class Signal {
  #resolve!: () => void;
  #promise!: Promise<void>;
  constructor() {
    this.#arm();
  }
  get next(): Promise<void> {
    return this.#promise;
  }
  fire(): void {
    const resolve = this.#resolve;
    this.#arm();
    resolve();
  }
  #arm(): void {
    this.#promise = new Promise((resolve) => (this.#resolve = resolve));
  }
}
