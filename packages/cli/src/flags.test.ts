import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseDuration, parseFlags, parseSize, UsageError, type FlagSpec } from './flags.js';

const specs: FlagSpec[] = [
  { name: 'port', env: 'X_PORT', kind: 'integer', default: '4080', help: '' },
  { name: 'bucket', env: 'X_BUCKETS', kind: 'list', help: '' },
  { name: 'ttl', kind: 'duration', default: '7d', help: '' },
  { name: 'chunk', kind: 'size', help: '' },
  { name: 'verbose', kind: 'boolean', help: '' },
];

describe('parseFlags', () => {
  it('takes defaults, then the environment, then the command line', () => {
    assert.equal(parseFlags(specs, [], {}).values['port'], 4080);
    assert.equal(parseFlags(specs, [], { X_PORT: '1' }).values['port'], 1);
    assert.equal(parseFlags(specs, ['--port', '2'], { X_PORT: '1' }).values['port'], 2);
    assert.equal(parseFlags(specs, ['--port=3'], {}).values['port'], 3);
  });

  it('repeats list flags, and splits lists from the environment on commas', () => {
    assert.deepEqual(parseFlags(specs, ['--bucket', 'a', '--bucket', 'b,c'], {}).values['bucket'], [
      'a',
      'b',
      'c',
    ]);
    assert.deepEqual(parseFlags(specs, [], { X_BUCKETS: 'x, y' }).values['bucket'], ['x', 'y']);
  });

  it('converts durations, sizes and booleans, and keeps positionals', () => {
    const { values, positionals } = parseFlags(
      specs,
      ['a', '--ttl', '90s', '--chunk', '8MiB', '--verbose', '-', '--', '--port'],
      {},
    );
    assert.equal(values['ttl'], 90_000);
    assert.equal(values['chunk'], 8 * 1024 * 1024);
    assert.equal(values['verbose'], true);
    assert.deepEqual(positionals, ['a', '-', '--port']);
  });

  it('names the flags set on the command line or in the environment', () => {
    const { explicit } = parseFlags(specs, ['--ttl', '90s'], { X_BUCKETS: 'a' });
    assert.deepEqual([...explicit].sort(), ['bucket', 'ttl']);
  });

  it('refuses unknown flags, missing values and bad values with a clear message', () => {
    assert.throws(() => parseFlags(specs, ['--nope'], {}), /Unknown flag --nope/);
    assert.throws(() => parseFlags(specs, ['--port'], {}), /--port needs a value/);
    assert.throws(
      () => parseFlags(specs, ['--port', 'x'], {}),
      /--port must be a whole number, not "x"/,
    );
    assert.throws(() => parseFlags(specs, ['--ttl', '7 weeks'], {}), /--ttl must be a duration/);
    assert.throws(() => parseFlags(specs, ['--chunk', '8 parsecs'], {}), /--chunk must be a size/);
    assert.throws(() => parseFlags(specs, [], { X_PORT: '-1' }), /\$X_PORT must be a whole number/);
  });

  it('never throws anything but a UsageError on arbitrary arguments', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string()),
        fc.dictionary(fc.constantFrom('X_PORT', 'X_BUCKETS'), fc.string()),
        (argv, env) => {
          try {
            parseFlags(specs, argv, env);
          } catch (error) {
            assert.ok(error instanceof UsageError, String(error));
          }
        },
      ),
    );
  });
});

describe('units', () => {
  it('parses sizes with decimal and binary units', () => {
    assert.equal(parseSize('256KiB'), 262144);
    assert.equal(parseSize('1.5MB'), 1_500_000);
    assert.equal(parseSize('1048576'), 1048576);
    assert.equal(parseSize('8 MiB'), 8 * 1024 * 1024);
    assert.equal(parseSize('8XB'), undefined);
    assert.equal(parseSize('-1'), undefined);
    assert.equal(parseSize('1.1'), undefined, 'a fraction of a byte is not a size');
  });

  it('parses durations', () => {
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('7d'), 604_800_000);
    assert.equal(parseDuration('7'), undefined);
  });
});
