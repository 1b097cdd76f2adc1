import type { Connectivity } from '../connectivity.js';

/**
 * The browser's word on its network: `navigator.onLine` and the `online` and `offline` events.
 * Offline is reliable (no network is up at all); online is not (a network is up, the server may
 * still be unreachable), which the client's stall detection and retries cover.
 */
export function browserConnectivity(target: EventTarget = globalThis): Connectivity {
  return {
    online: () => globalThis.navigator?.onLine !== false,
    watch(listener) {
      const online = () => listener(true);
      const offline = () => listener(false);
      target.addEventListener('online', online);
      target.addEventListener('offline', offline);
      return () => {
        target.removeEventListener('online', online);
        target.removeEventListener('offline', offline);
      };
    },
  };
}
