import {
  listObjects,
  formatBytes,
  type ConnectionOptions,
  type ObjectResource,
} from '@spool/client/browser';
import { h } from './dom.js';

/** A page of the list is enough for a person to look at; the rest is said, not shown. */
const SHOWN = 1000;

/** Fills the table with the bucket's objects, each named by a link to its bytes. */
export async function showObjects(
  table: HTMLTableSectionElement,
  note: HTMLElement,
  bucket: string,
  prefix: string,
  options: ConnectionOptions,
  downloadUrl: (object: ObjectResource) => string,
): Promise<void> {
  const rows: HTMLTableRowElement[] = [];
  let more = false;
  for await (const object of listObjects(bucket, prefix, options)) {
    if (rows.length === SHOWN) {
      more = true;
      break;
    }
    const name = object.name ?? '';
    const updated = typeof object['updated'] === 'string' ? new Date(object['updated']) : undefined;
    rows.push(
      h(
        'tr',
        {},
        h('td', {}, h('a', { href: downloadUrl(object), download: name.split('/').pop() }, name)),
        h('td', { class: 'num' }, formatBytes(Number(object.size))),
        h(
          'td',
          {},
          updated ? h('time', { datetime: updated.toISOString() }, updated.toLocaleString()) : '',
        ),
      ),
    );
  }
  table.replaceChildren(...rows);
  const where = `gs://${bucket}/${prefix}`;
  note.textContent =
    rows.length === 0
      ? `No objects in ${where} yet.`
      : more
        ? `The first ${SHOWN} objects in ${where}.`
        : `${rows.length} object${rows.length === 1 ? '' : 's'} in ${where}.`;
}
