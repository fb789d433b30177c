// "Train on this knowledge base": the run's plan and estimate, then the run itself.

import { newId } from '../lib/ids';
import { inKb, isObject, typedStream, type KbScope } from './client';
import type { StreamEvent, StreamHandle, Transport } from './transport';
import type { TuneOutcome, TunePlan, TuneProgress, TuneRequest } from './types';

const EVENTS = new Set(['prepared', 'paraphrasing', 'validated', 'step', 'checkpoint', 'comparing']);

export function narrowTune(e: StreamEvent): TuneProgress | null {
  if (e.event !== 'progress' || !isObject(e.data) || typeof e.data.event !== 'string') return null;
  return EVENTS.has(e.data.event) ? (e.data as unknown as TuneProgress) : null;
}

export class TuningClient {
  readonly #t: Transport;
  readonly #kb: KbScope;

  constructor(transport: Transport, kb: KbScope) {
    this.#t = transport;
    this.#kb = kb;
  }

  /** What a run would do and how long it would take here (the server times a step: seconds). */
  estimate(request: TuneRequest = {}): Promise<TunePlan> {
    return this.#t.request(
      inKb(
        {
          method: 'POST',
          path: '/api/tune/estimate',
          body: request,
          command: 'tune_estimate',
          args: { request },
        },
        this.#kb(),
      ),
    );
  }

  /** Trains the adapter. Stopping ends the run after its current step, with a checkpoint saved. */
  run(request: TuneRequest, onProgress: (p: TuneProgress) => void): StreamHandle<TuneOutcome> {
    const requestId = newId('tune');
    return typedStream(
      this.#t,
      inKb(
        {
          method: 'POST',
          path: '/api/tune',
          body: request,
          command: 'tune_run',
          args: { request, requestId },
          stop: { command: 'ask_stop', args: { requestId } },
        },
        this.#kb(),
      ),
      onProgress,
      narrowTune,
    );
  }
}
