"""Reference output of a Piper voice from ONNX Runtime, for DocTalk's candle VITS parity test.

Usage: piper_reference.py VOICE.onnx OUT.f32 ID,ID,... [NOISE_SCALE LENGTH_SCALE NOISE_W]

Writes the raw waveform (little-endian float32) the exported network gives for the phoneme ids.
With both noise scales at 0 (the default here) the network is deterministic, so another runtime
must produce the same samples from the same file.
"""

import sys

import numpy as np
import onnxruntime


def main() -> None:
    model, out, ids = sys.argv[1], sys.argv[2], sys.argv[3]
    scales = [float(v) for v in sys.argv[4:7]] or [0.0, 1.0, 0.0]
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 2
    session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    phoneme_ids = np.array([[int(i) for i in ids.split(",")]], dtype=np.int64)
    feeds = {
        "input": phoneme_ids,
        "input_lengths": np.array([phoneme_ids.shape[1]], dtype=np.int64),
        "scales": np.array(scales, dtype=np.float32),
    }
    audio = session.run(None, feeds)[0].astype("<f4").ravel()
    audio.tofile(out)


if __name__ == "__main__":
    main()
