import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { onAbort } from './abort-fanout.js';

describe('onAbort (one listener per cancellation signal)', () => {
  it('tells every one of 50 subscribers of a shared signal when it aborts, through a single listener', () => {
    const controller = new AbortController();
    const told: number[] = [];
    for (let i = 0; i < 50; i++) onAbort(controller.signal, () => told.push(i));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort();
    expect(told).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('leaves no listener on the signal once every subscriber is done, and tells none of them afterwards', () => {
    const controller = new AbortController();
    let told = 0;
    const done = Array.from({ length: 12 }, () => onAbort(controller.signal, () => (told += 1)));
    for (const unsubscribe of done) unsubscribe();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    controller.abort();
    expect(told).toBe(0);
  });

  it('tells only the subscribers still waiting, and a later subscriber gets a listener of its own', () => {
    const controller = new AbortController();
    const told: string[] = [];
    const first = onAbort(controller.signal, () => told.push('first'));
    onAbort(controller.signal, () => told.push('second'));
    first();
    first();
    controller.abort();
    expect(told).toEqual(['second']);

    const other = new AbortController();
    const gone = onAbort(other.signal, () => told.push('gone'));
    gone();
    onAbort(other.signal, () => told.push('later'));
    expect(getEventListeners(other.signal, 'abort')).toHaveLength(1);
    other.abort();
    expect(told).toEqual(['second', 'later']);
  });
});
