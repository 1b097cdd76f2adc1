// The client's recovery reconciler: the seed's six cases (seed/resumable-upload-notes.txt).
//
// After an interruption, or after any 308, the client knows what the server has (`remote`, from
// the Range header) and compares it with what it can still produce: the bytes from `local` (the
// start of its buffered chunk; 0 for a file or Blob, which can be re-read from anywhere) up to
// `local + buffered`. The seed's cases, with drift = remote - local:
//
//   1. local == remote == 0            resend from the start
//   2. local == remote                 resend the chunk
//   3. 0 < drift < buffered            the server kept part of the chunk: resend its tail
//   4. drift == buffered               the server has the whole chunk: move on to the next
//   5. drift > buffered                the server has bytes the client no longer holds: data loss
//   6. remote < local                  the server lost bytes the client has let go of: data loss
//
// Two more checks come first, because they catch a broken server (or a second writer on the
// session) even where the buffer would hide it: a server may never report fewer bytes than it
// acknowledged before (a Range that goes backwards lost acknowledged data), nor more than the
// client has put on the wire.

export interface ReconcileInput {
  /** The first byte the client can still produce (localNextByteOffset). */
  readonly local: number;
  /** How many bytes from `local` on it can produce again: the buffered chunk's length. */
  readonly buffered: number;
  /** What the server says it has (remoteNextByteOffset). */
  readonly remote: number;
  /** The most the server has acknowledged in this session so far. */
  readonly acknowledged: number;
  /** The end of what the client has handed to the network in this session. */
  readonly sent: number;
}

export type DataLossScenario =
  /** Case 5: the server has bytes past the end of the client's buffer. */
  | 'server-ahead-of-buffer'
  /** Case 6: the server has fewer bytes than the start of the client's buffer. */
  | 'server-behind-buffer'
  /** The server reports fewer bytes than it acknowledged earlier. */
  | 'server-lost-acknowledged'
  /** The server reports bytes this client never sent. */
  | 'server-ahead-of-sent';

export interface DataLoss {
  readonly kind: 'data-loss';
  readonly scenario: DataLossScenario;
  readonly seedCase: 5 | 6 | undefined;
  /** The client's offset the server's was compared with. */
  readonly local: number;
  readonly remote: number;
  readonly message: string;
}

export type Reconciliation =
  /** Cases 1 and 2: send the buffer again from its start. */
  | { readonly kind: 'resend'; readonly seedCase: 1 | 2; readonly offset: number }
  /** Case 3: send the buffer from `drift` bytes in. */
  | {
      readonly kind: 'resend-tail';
      readonly seedCase: 3;
      readonly offset: number;
      readonly drift: number;
    }
  /** Case 4: the buffer is all stored; continue after it. */
  | { readonly kind: 'move-on'; readonly seedCase: 4; readonly offset: number }
  | DataLoss;

const twoWriters =
  'This happens when two clients upload to the same session, or when the server loses data.';

export function reconcile(input: ReconcileInput): Reconciliation {
  const { local, buffered, remote, acknowledged, sent } = input;
  if (remote < acknowledged) {
    return dataLoss(
      'server-lost-acknowledged',
      undefined,
      acknowledged,
      remote,
      `the server now reports ${remote} byte(s) stored, but it had acknowledged ${acknowledged} byte(s) earlier: it lost bytes it had confirmed.`,
    );
  }
  if (remote > sent) {
    return dataLoss(
      'server-ahead-of-sent',
      undefined,
      sent,
      remote,
      `the server reports ${remote} byte(s) stored, but this client has sent only ${sent} byte(s). ${twoWriters}`,
    );
  }
  if (remote < local) {
    return dataLoss(
      'server-behind-buffer',
      6,
      local,
      remote,
      `the server reports ${remote} byte(s) stored, but this client can only resend from byte ${local} on. ${twoWriters}`,
    );
  }
  const drift = remote - local;
  if (drift > buffered) {
    return dataLoss(
      'server-ahead-of-buffer',
      5,
      local + buffered,
      remote,
      `the server reports ${remote} byte(s) stored, past the ${local + buffered} byte(s) this client holds. ${twoWriters}`,
    );
  }
  // An empty buffer that the server has caught up with has nothing to resend: move on.
  if (drift === buffered) return { kind: 'move-on', seedCase: 4, offset: remote };
  if (drift === 0) return { kind: 'resend', seedCase: local === 0 ? 1 : 2, offset: remote };
  return { kind: 'resend-tail', seedCase: 3, offset: remote, drift };
}

function dataLoss(
  scenario: DataLossScenario,
  seedCase: 5 | 6 | undefined,
  local: number,
  remote: number,
  detail: string,
): DataLoss {
  return {
    kind: 'data-loss',
    scenario,
    seedCase,
    local,
    remote,
    message: `Data loss: ${detail} The upload cannot continue on this session without corrupting the object; start a new upload.`,
  };
}
