import { describe, expect, it } from 'vitest';
import { encodeWav, isWav, mixToMono, toWav } from '../src/lib/wav';

describe('voice samples as WAV', () => {
  it('encodes 16-bit mono PCM with a correct header', async () => {
    const samples = new Float32Array([0, 0.5, -0.5, 1, -2]);
    const blob = encodeWav(samples, 16000);
    const bytes = new Uint8Array(await blob.arrayBuffer());
    expect(bytes.length).toBe(44 + 10);
    expect(isWav(bytes)).toBe(true);
    const view = new DataView(bytes.buffer);
    expect(view.getUint16(20, true)).toBe(1); // PCM
    expect(view.getUint16(22, true)).toBe(1); // mono
    expect(view.getUint32(24, true)).toBe(16000);
    expect(view.getUint16(34, true)).toBe(16);
    expect(view.getUint32(40, true)).toBe(10);
    const pcm = Array.from({ length: 5 }, (_, i) => view.getInt16(44 + i * 2, true));
    expect(pcm).toEqual([0, 16384, -16383, 32767, -32767]); // rounded; the last one clipped
  });

  it('mixes channels to their average', () => {
    const mono = mixToMono([new Float32Array([1, 0]), new Float32Array([0, 1])]);
    expect(Array.from(mono)).toEqual([0.5, 0.5]);
  });

  it('sends a WAV file as it is and says what to do with others it cannot decode', async () => {
    const wav = encodeWav(new Float32Array(8), 8000);
    expect(await toWav(wav)).toBe(wav);
    const mp3 = new Blob([new Uint8Array([0x49, 0x44, 0x33, 3, 0, 0, 0, 0, 0, 0, 0, 0])]);
    // jsdom has no AudioContext: the message names the format that always works.
    await expect(toWav(mp3)).rejects.toThrow(/WAV/);
  });
});
