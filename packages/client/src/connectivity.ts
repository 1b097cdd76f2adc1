/**
 * What the device knows about its network. A browser knows when no network is up at all
 * (navigator.onLine is false, and `offline` fires); "online" means only that some network is up,
 * not that the server can be reached. So an upload uses this to stop spending its retry budget
 * while offline and to try again the moment the network comes back, and relies on stall
 * detection and retries for everything else.
 */
export interface Connectivity {
  online(): boolean;
  /** Calls `listener` whenever the state changes; returns a function that stops that. */
  watch(listener: (online: boolean) => void): () => void;
}
