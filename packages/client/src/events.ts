/** A typed event emitter that runs anywhere (Node's EventEmitter does not run in browsers). */
type Listener = (event: never) => void;

export class Emitter<Events extends Record<string, unknown>> {
  private readonly listeners = new Map<keyof Events, Set<Listener>>();

  on<K extends keyof Events>(type: K, listener: (event: Events[K]) => void): this {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener);
    return this;
  }

  off<K extends keyof Events>(type: K, listener: (event: Events[K]) => void): this {
    this.listeners.get(type)?.delete(listener);
    return this;
  }

  protected emit<K extends keyof Events>(type: K, event: Events[K]): void {
    for (const listener of this.listeners.get(type) ?? []) {
      (listener as (event: Events[K]) => void)(event);
    }
  }
}
