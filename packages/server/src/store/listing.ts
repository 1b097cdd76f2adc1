import { compareNames } from '@spool/core';
import type { ListObjectsQuery } from './types.js';

/** The smallest string greater than every string that starts with `prefix` (code point order). */
export function prefixSuccessor(prefix: string): string | undefined {
  const points = Array.from(prefix, (c) => c.codePointAt(0)!);
  while (points.length > 0) {
    let last = points.pop()! + 1;
    if (last === 0xd800) last = 0xe000; // surrogates are not code points
    if (last <= 0x10ffff) return String.fromCodePoint(...points, last);
  }
  return undefined;
}

export interface ListedPage {
  readonly names: string[];
  readonly prefixes: string[];
  readonly nextAfter: string | undefined;
}

/**
 * One page of a GCS object listing over names in code point order, as `scan(from)` yields them
 * (every name >= `from`). With a delimiter, names that continue past the delimiter collapse into
 * one prefix each; a page token that is such a prefix resumes after everything under it.
 */
export async function listNames(
  scan: (from: string) => AsyncIterable<string> | Iterable<string>,
  query: ListObjectsQuery,
): Promise<ListedPage> {
  const { prefix, delimiter, maxResults } = query;
  let from = prefix;
  if (query.startOffset !== undefined && compareNames(query.startOffset, from) > 0)
    from = query.startOffset;
  let skipUnder: string | undefined;
  if (query.after !== undefined) {
    if (delimiter !== undefined && delimiter !== '' && query.after.endsWith(delimiter))
      skipUnder = query.after;
    if (compareNames(query.after, from) >= 0) from = query.after;
  }
  const names: string[] = [];
  const prefixes: string[] = [];
  let last: string | undefined;
  let more = false;
  outer: while (true) {
    let rescan: string | undefined;
    for await (const name of scan(from)) {
      if (!name.startsWith(prefix)) break outer;
      if (query.endOffset !== undefined && compareNames(name, query.endOffset) >= 0) break outer;
      if (query.after !== undefined && compareNames(name, query.after) <= 0) continue;
      if (skipUnder !== undefined && name.startsWith(skipUnder)) continue;
      const cut = delimiter ? name.indexOf(delimiter, prefix.length) : -1;
      if (cut >= 0) {
        const common = name.slice(0, cut + delimiter!.length);
        if (names.length + prefixes.length >= maxResults) {
          more = true;
          break outer;
        }
        prefixes.push(common);
        if (query.includeTrailingDelimiter && name === common) names.push(name);
        last = common;
        skipUnder = common;
        rescan = prefixSuccessor(common);
        break;
      }
      if (names.length + prefixes.length >= maxResults) {
        more = true;
        break outer;
      }
      names.push(name);
      last = name;
    }
    if (rescan === undefined) break;
    from = rescan;
  }
  return { names, prefixes, nextAfter: more ? last : undefined };
}
