// Voice samples for cloned voices: the Rust side reads WAV (any common PCM or float layout). A WAV
// file is sent as it is; anything else the browser can decode (MP3, M4A, OGG, a recording made
// with MediaRecorder) is decoded here and sent as 16-bit mono WAV.

/** Whether the bytes start like a RIFF/WAVE file. */
export function isWav(head: Uint8Array): boolean {
  const text = (from: number, to: number) => String.fromCharCode(...head.subarray(from, to));
  return head.length >= 12 && text(0, 4) === 'RIFF' && text(8, 12) === 'WAVE';
}

/** 16-bit PCM mono WAV from samples in [-1, 1] (clipped beyond). */
export function encodeWav(samples: Float32Array, sampleRate: number): Blob {
  const data = samples.length * 2;
  const buffer = new ArrayBuffer(44 + data);
  const view = new DataView(buffer);
  const ascii = (offset: number, s: string) => {
    for (let i = 0; i < s.length; i++) view.setUint8(offset + i, s.charCodeAt(i));
  };
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + data, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true); // bytes per second
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  view.setUint32(40, data, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i] ?? 0));
    view.setInt16(44 + i * 2, Math.round(s * 32767), true);
  }
  return new Blob([buffer], { type: 'audio/wav' });
}

/** The average of the channels. */
export function mixToMono(channels: Float32Array[]): Float32Array {
  const first = channels[0];
  if (!first) return new Float32Array(0);
  if (channels.length === 1) return first;
  const out = new Float32Array(first.length);
  for (const channel of channels) {
    for (let i = 0; i < out.length; i++) out[i] = (out[i] ?? 0) + (channel[i] ?? 0) / channels.length;
  }
  return out;
}

/**
 * The file as WAV: unchanged when it is one, decoded and re-encoded otherwise. Throws an Error
 * saying what to do when this browser or window cannot decode it.
 */
export async function toWav(file: Blob): Promise<Blob> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (isWav(bytes)) return file;
  const Context: typeof AudioContext | undefined =
    globalThis.AudioContext ?? (globalThis as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
  if (!Context) throw new Error('This window cannot decode the recording: use a WAV file.');
  const context = new Context();
  try {
    const audio = await context.decodeAudioData(bytes.buffer.slice(0));
    const channels = Array.from({ length: audio.numberOfChannels }, (_, i) => audio.getChannelData(i));
    return encodeWav(mixToMono(channels), audio.sampleRate);
  } catch {
    throw new Error('The recording could not be decoded: use a WAV, MP3, M4A or OGG file.');
  } finally {
    void context.close();
  }
}
