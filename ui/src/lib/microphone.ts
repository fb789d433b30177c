// The microphone button's recorder: the browser's microphone (getUserMedia) recorded with
// MediaRecorder, stopped by the user (push to talk) or by itself once the speaker has paused
// (voice-activity detection on the input level), then decoded to WAV for Whisper.

import { toWav } from './wav';

/** Quiet this long after speech ends the recording by itself. */
export const PAUSE_MS = 1200;
/** The longest question recorded. */
export const MAX_MS = 30_000;
/** RMS level (0–1) above which the input counts as speech. */
const SPEECH_LEVEL = 0.02;

export interface Recording {
  /** Resolves with the recording as WAV, whether stopped here or by the pause detector. */
  readonly done: Promise<Blob>;
  stop(): void;
  cancel(): void;
}

/** Whether this window can record at all. */
export function canRecord(): boolean {
  return typeof navigator !== 'undefined' && !!navigator.mediaDevices?.getUserMedia && typeof MediaRecorder !== 'undefined';
}

/**
 * Starts recording. `onSpeech` is called when speech is first heard (the barge-in moment).
 * Rejects when there is no microphone or permission is refused.
 */
export async function startRecording(onSpeech: () => void = () => undefined): Promise<Recording> {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const recorder = new MediaRecorder(stream);
  const chunks: Blob[] = [];
  recorder.ondataavailable = (e) => {
    if (e.data.size > 0) chunks.push(e.data);
  };
  let cancelled = false;
  const release = () => stream.getTracks().forEach((t) => t.stop());
  const done = new Promise<Blob>((resolve, reject) => {
    recorder.onstop = () => {
      release();
      stopWatching();
      if (cancelled) {
        reject(new Error('cancelled'));
        return;
      }
      toWav(new Blob(chunks, { type: recorder.mimeType })).then(resolve, reject);
    };
  });
  const stop = () => {
    if (recorder.state !== 'inactive') recorder.stop();
  };
  const stopWatching = watchForPause(stream, onSpeech, stop);
  recorder.start(250);
  return {
    done,
    stop,
    cancel: () => {
      cancelled = true;
      stop();
    },
  };
}

/** Calls `onSpeech` when the level first rises and `onPause` once it has stayed low for PAUSE_MS
 * after that (or after MAX_MS in all). Returns a function that stops watching. */
function watchForPause(stream: MediaStream, onSpeech: () => void, onPause: () => void): () => void {
  const started = Date.now();
  const Context = globalThis.AudioContext;
  if (!Context) {
    const timer = setTimeout(onPause, MAX_MS);
    return () => clearTimeout(timer);
  }
  const context = new Context();
  const analyser = context.createAnalyser();
  analyser.fftSize = 1024;
  context.createMediaStreamSource(stream).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  let heard = false;
  let quietSince = Date.now();
  const timer = setInterval(() => {
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const s of samples) sum += s * s;
    const level = Math.sqrt(sum / samples.length);
    const now = Date.now();
    if (level > SPEECH_LEVEL) {
      if (!heard) onSpeech();
      heard = true;
      quietSince = now;
    }
    if ((heard && now - quietSince > PAUSE_MS) || now - started > MAX_MS) onPause();
  }, 50);
  return () => {
    clearInterval(timer);
    void context.close();
  };
}
