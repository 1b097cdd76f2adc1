// The upload page `spool serve` shows at /. Plain DOM on top of @spool/client's browser bundle:
// files go straight from the browser to this server, resumably; after a lost connection, a
// restart of the server or a reload of the page, the same file continues where it stopped.
import {
  GaveUpError,
  HttpError,
  createUpload,
  defaultTransport,
  listBuckets,
  querySession,
  urls,
  formatBytes,
  type ConnectionOptions,
  type Destination,
  type ObjectResource,
} from '@spool/client/browser';
import { linkAccess, linkTarget, parseAccess, type Access } from './access.js';
import { byId, h } from './dom.js';
import {
  forgetInterrupted,
  interruptedId,
  loadInterrupted,
  rememberInterrupted,
  type Interrupted,
} from './interrupted.js';
import { showObjects } from './objects.js';
import { TaskQueue } from './queue.js';
import { UploadRow, type RowHost } from './upload-row.js';

/**
 * Files up to this size go in one multipart request: half the requests of a session, and an
 * interruption costs at most this much sent again. Nothing is remembered for them across reloads
 * (there is no session to continue), which for a file this small loses nothing.
 */
const ONE_REQUEST_MAX = 1024 * 1024;
const TOKEN_KEY = 'spool-page:token';
const BUCKET_KEY = 'spool-page:bucket';
const FOLDER_KEY = 'spool-page:folder';

const endpoint = location.origin;
const transport = defaultTransport();
const queue = new TaskQueue(3);
const rows: UploadRow[] = [];

const form = byId<HTMLFormElement>('settings');
const bucketSelect = byId<HTMLSelectElement>('bucket');
const prefixInput = byId<HTMLInputElement>('prefix');
const accessInput = byId<HTMLInputElement>('access');
const accessNote = byId('access-note');
const dropZone = byId('drop');
const fileInput = byId<HTMLInputElement>('files');
const dropNote = byId('drop-note');
const uploadsList = byId<HTMLUListElement>('uploads');
const uploadsEmpty = byId('uploads-empty');
const interruptedSection = byId('interrupted-section');
const interruptedList = byId<HTMLUListElement>('interrupted');
const objectsBody = byId<HTMLTableSectionElement>('objects-body');
const objectsNote = byId('objects-note');
const refreshButton = byId<HTMLButtonElement>('refresh');

let access: Access = { kind: 'open' };

function token(): string | undefined {
  return access.kind === 'token' ? access.token : undefined;
}

function linkMode(): boolean {
  return access.kind === 'signed' || access.kind === 'session';
}

function connection(): ConnectionOptions {
  const bearer = token();
  return { transport, endpoint, ...(bearer !== undefined && { token: bearer }) };
}

/**
 * A link to an object's bytes. A link cannot carry an Authorization header, so with a token it
 * carries the token as access_token, which GCS's JSON API (and Spool) also accept.
 */
function downloadUrl(object: ObjectResource): string | undefined {
  if (object.bucket === undefined || object.name === undefined) return undefined;
  const url = urls.media(endpoint, object.bucket, object.name);
  const bearer = token();
  return bearer === undefined ? url : `${url}&access_token=${encodeURIComponent(bearer)}`;
}

/** Storage can be refused (private modes, sandboxed frames): then nothing is remembered. */
function storage(kind: 'localStorage' | 'sessionStorage'): Storage | undefined {
  try {
    return globalThis[kind];
  } catch {
    return undefined;
  }
}

function say(note: HTMLElement, text: string, problem = false): void {
  note.textContent = text;
  note.classList.toggle('problem', problem);
}

// Access: a token, or a link an app handed out.

function useAccess(next: Access): void {
  access = next;
  const session = storage('sessionStorage');
  if (next.kind === 'token') session?.setItem(TOKEN_KEY, next.token);
  else session?.removeItem(TOKEN_KEY);
  // A link stays in the address, so that a reload (and a resumed upload) keeps it.
  const hash =
    next.kind === 'signed'
      ? `#signed-url=${encodeURIComponent(next.signedUrl)}`
      : next.kind === 'session'
        ? `#session=${encodeURIComponent(next.sessionUri)}`
        : '';
  if (location.hash !== hash) history.replaceState(null, '', `${location.pathname}${hash}`);
  bucketSelect.disabled = linkMode();
  prefixInput.disabled = linkMode();
  fileInput.multiple = !linkMode();
  if (linkMode()) {
    const target = linkTarget(next) ?? 'the object its session was started for';
    say(accessNote, `Uploading through a link: the file you choose goes to ${target}.`);
  } else if (next.kind === 'token') {
    say(accessNote, 'Using your bearer token (kept in this tab only).');
  } else {
    say(accessNote, '');
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  try {
    useAccess(parseAccess(accessInput.value));
  } catch (error) {
    say(accessNote, (error as Error).message, true);
    return;
  }
  void loadBuckets();
});

// Buckets and objects.

async function loadBuckets(): Promise<void> {
  if (linkMode()) {
    bucketSelect.replaceChildren(h('option', {}, 'set by the link'));
    say(objectsNote, 'Listing objects needs a bearer token; a link only lets you upload.');
    objectsBody.replaceChildren();
    return;
  }
  let names: string[];
  try {
    names = await listBuckets(connection());
  } catch (error) {
    if (error instanceof HttpError && (error.status === 401 || error.status === 403)) {
      say(
        accessNote,
        error.status === 401
          ? 'This server needs a bearer token: type it in Access, or paste the upload link you were given.'
          : 'This token may not list buckets.',
        true,
      );
      accessInput.focus();
    } else {
      say(accessNote, `Cannot list buckets: ${(error as Error).message}`, true);
    }
    return;
  }
  const saved = storage('localStorage')?.getItem(BUCKET_KEY);
  bucketSelect.replaceChildren(...names.map((name) => h('option', { value: name }, name)));
  if (names.length === 0) {
    bucketSelect.append(h('option', { value: '' }, 'no buckets'));
    say(objectsNote, 'This server has no buckets: start it with --bucket NAME.', true);
    return;
  }
  bucketSelect.value = saved && names.includes(saved) ? saved : names[0]!;
  await refreshObjects();
}

let listing: Promise<void> | undefined;
async function refreshObjects(): Promise<void> {
  if (linkMode() || bucketSelect.value === '') return;
  // One listing at a time; a request made meanwhile is served by the next one.
  while (listing) await listing;
  listing = showObjects(
    objectsBody,
    objectsNote,
    bucketSelect.value,
    prefix(),
    connection(),
    (object) => downloadUrl(object) ?? '#',
  ).catch((error: unknown) => say(objectsNote, (error as Error).message, true));
  try {
    await listing;
  } finally {
    listing = undefined;
  }
}

bucketSelect.addEventListener('change', () => {
  storage('localStorage')?.setItem(BUCKET_KEY, bucketSelect.value);
  void refreshObjects();
});
prefixInput.addEventListener('change', () => {
  // Kept across reloads: an interrupted upload resumes only to the same object name.
  storage('localStorage')?.setItem(FOLDER_KEY, prefixInput.value);
  void refreshObjects();
});
refreshButton.addEventListener('click', () => void refreshObjects());

/** The folder prefix as typed, made into a clean name prefix ("a/b/" or ""). */
function prefix(): string {
  const value = prefixInput.value.trim().replace(/^\/+/, '');
  return value === '' || value.endsWith('/') ? value : `${value}/`;
}

// Uploads.

const host: RowHost = {
  schedule: (task) => queue.add(task),
  async stored(sessionUri) {
    const status = await querySession(sessionUri, connection());
    return status.complete ? undefined : status.persisted;
  },
  downloadUrl,
  started(row) {
    const local = storage('localStorage');
    if (local) rememberInterrupted(local, entryOf(row), Date.now());
  },
  ended(row) {
    // A failure that may still be resumed (retries ran out) stays listed.
    const resumable = row.state === 'failed' && row.lastError instanceof GaveUpError;
    const local = storage('localStorage');
    if (local && !resumable) forgetInterrupted(local, interruptedId(entryOf(row)), Date.now());
    if (row.state === 'done') void refreshObjects();
  },
};

function entryOf(row: UploadRow): Interrupted {
  const { name, size, lastModified } = row.file;
  return { name, size, lastModified, target: row.target, startedAt: Date.now() };
}

function addFiles(files: readonly File[]): void {
  if (files.length === 0) return;
  say(dropNote, '');
  if (linkMode() && (files.length > 1 || rows.some((row) => !row.finished))) {
    say(dropNote, 'A link uploads one file at a time.', true);
    if (rows.some((row) => !row.finished)) return;
    files = files.slice(0, 1);
  }
  const bucket = bucketSelect.value;
  if (!linkMode() && bucket === '') {
    say(dropNote, 'Choose a bucket first.', true);
    return;
  }
  for (const file of files) {
    const destination: Destination =
      access.kind === 'signed'
        ? { signedUrl: access.signedUrl }
        : access.kind === 'session'
          ? { sessionUri: access.sessionUri }
          : { bucket, object: `${prefix()}${file.name}` };
    const target =
      'bucket' in destination
        ? `gs://${destination.bucket}/${destination.object}`
        : (linkTarget(access) ?? 'the session you were given');
    if (rows.some((row) => !row.finished && row.target === target)) {
      say(dropNote, `${file.name} is already being uploaded to ${target}.`, true);
      continue;
    }
    const bearer = token();
    const createTask = () =>
      createUpload(file, destination, {
        endpoint,
        multipartThreshold: ONE_REQUEST_MAX,
        ...(bearer !== undefined && { token: bearer }),
        ...(file.type !== '' && { metadata: { contentType: file.type } }),
      });
    const row = new UploadRow(file, target, createTask, host);
    rows.push(row);
    uploadsList.append(row.element);
    uploadsEmpty.hidden = true;
    row.enqueue();
  }
  showInterrupted();
}

fileInput.addEventListener('change', () => {
  addFiles([...(fileInput.files ?? [])]);
  // The same file can be chosen again (to resume it after a failure, say).
  fileInput.value = '';
});

// Files dropped anywhere on the page count, not only on the drop zone.
let dragDepth = 0;
document.addEventListener('dragenter', (event) => {
  if (!event.dataTransfer?.types.includes('Files')) return;
  dragDepth++;
  dropZone.classList.add('dragging');
});
document.addEventListener('dragleave', () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) dropZone.classList.remove('dragging');
});
document.addEventListener('dragover', (event) => {
  if (!event.dataTransfer?.types.includes('Files')) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = 'copy';
});
document.addEventListener('drop', (event) => {
  if (!event.dataTransfer) return;
  event.preventDefault();
  dragDepth = 0;
  dropZone.classList.remove('dragging');
  addFiles([...event.dataTransfer.files]);
});

// Uploads a reload interrupted: say which files to choose again.
function showInterrupted(): void {
  const local = storage('localStorage');
  const active = new Set(
    rows.filter((row) => !row.finished).map((row) => interruptedId(entryOf(row))),
  );
  const entries = local
    ? loadInterrupted(local, Date.now()).filter((e) => !active.has(interruptedId(e)))
    : [];
  interruptedSection.hidden = entries.length === 0;
  interruptedList.replaceChildren(
    ...entries.map((e) =>
      h(
        'li',
        {},
        h('span', { class: 'name' }, e.name),
        ` (${formatBytes(e.size)}) to `,
        h('span', { class: 'target' }, e.target),
      ),
    ),
  );
}

setInterval(() => {
  const now = performance.now();
  for (const row of rows) row.tick(now);
}, 1000);

const fromLink = (() => {
  try {
    return linkAccess(location.hash);
  } catch (error) {
    say(accessNote, `The link in the address is not usable: ${(error as Error).message}`, true);
    return undefined;
  }
})();
const savedToken = storage('sessionStorage')?.getItem(TOKEN_KEY);
const initial: Access =
  fromLink ?? (savedToken ? { kind: 'token', token: savedToken } : { kind: 'open' });
useAccess(initial);
prefixInput.value = storage('localStorage')?.getItem(FOLDER_KEY) ?? '';
if (initial.kind === 'token') accessInput.value = initial.token;
showInterrupted();
void loadBuckets().finally(() => (document.body.dataset['ready'] = 'true'));
