#!/usr/bin/env python3
"""A tiny random OpenVoice-V2-style tone-colour converter and its reference outputs, for
doctalk-models' converter parity test.

Writes, under crates/doctalk-speech/tests/fixtures/openvoice/tiny/:
  converter/config.json       the layout OpenVoice V2 ships (data + model sections), tiny widths
  converter/checkpoint.pth    torch.save({"model": state_dict}) with weight-norm g/v pairs, as the
                              released checkpoint stores them
  expected.safetensors        inputs (two real speech clips at 22.05 kHz) and every stage's output:
                              spectrograms, speaker embeddings, posterior mean, flow forward and
                              reverse, converted audio (tau = 0: no sampling noise)

The network below is DocTalk's own PyTorch re-implementation of the published architecture
(VITS posterior encoder + residual coupling flow + HiFi-GAN generator, conditioned on a speaker
embedding from a conv2d + GRU reference encoder, "zero_g": encoder and decoder get a zero condition),
built from torch.nn layers so that its convolutions, GRU, layer norm, weight norm and STFT are
PyTorch's, independent of the candle code under test.

Run: /var/cache/doctalk-torch-venv/bin/python models/gen/openvoice_tiny.py   (torch, numpy, safetensors)

With `--full-size DIR` it writes instead a random checkpoint with OpenVoice V2's real widths
(inter/hidden 192, speaker embedding 256, decoder 512 channels, reference encoder 32-128 filters
and GRU 128) to DIR/converter/: for timing the converter (`doctalk bench voice`) where the real
weights cannot be had. Speed does not depend on the values. Not committed (~130 MB).
"""
import json
import pathlib
import sys
import wave

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "crates/doctalk-speech/tests/fixtures/openvoice/tiny"
AUDIO = ROOT / "tests/fixtures/audio"

CONFIG = {
    "_version_": "v2",
    "data": {"sampling_rate": 22050, "filter_length": 1024, "hop_length": 256, "win_length": 1024, "n_speakers": 0},
    "model": {
        "zero_g": True,
        "inter_channels": 8,
        "hidden_channels": 12,
        "filter_channels": 48,
        "n_heads": 2,
        "n_layers": 6,
        "kernel_size": 3,
        "p_dropout": 0.1,
        "resblock": "1",
        "resblock_kernel_sizes": [3, 7, 11],
        "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
        "upsample_rates": [8, 8, 2, 2],
        "upsample_initial_channel": 32,
        "upsample_kernel_sizes": [16, 16, 4, 4],
        "gin_channels": 16,
    },
}
# The reference encoder's widths are fixed in the released code (32, 32, 64, 64, 128, 128 filters,
# GRU 128); the tiny one is narrower. The loader reads widths from the tensors.
REF_FILTERS = [4, 4, 8, 8, 8, 8]
REF_GRU = 12


def wn(module):
    # The released checkpoint was trained with the classic weight_norm (weight_g / weight_v).
    return torch.nn.utils.weight_norm(module)


class WaveNet(nn.Module):
    def __init__(self, hidden, kernel, dilation_rate, layers, gin):
        super().__init__()
        self.hidden = hidden
        self.cond_layer = wn(nn.Conv1d(gin, 2 * hidden * layers, 1))
        self.in_layers = nn.ModuleList()
        self.res_skip_layers = nn.ModuleList()
        for i in range(layers):
            d = dilation_rate**i
            self.in_layers.append(wn(nn.Conv1d(hidden, 2 * hidden, kernel, dilation=d, padding=d * (kernel - 1) // 2)))
            out = 2 * hidden if i < layers - 1 else hidden
            self.res_skip_layers.append(wn(nn.Conv1d(hidden, out, 1)))

    def forward(self, x, g):
        h = self.hidden
        g = self.cond_layer(g)
        out = torch.zeros_like(x)
        n = len(self.in_layers)
        for i in range(n):
            a = self.in_layers[i](x) + g[:, 2 * h * i : 2 * h * (i + 1)]
            acts = torch.tanh(a[:, :h]) * torch.sigmoid(a[:, h:])
            rs = self.res_skip_layers[i](acts)
            if i < n - 1:
                x = x + rs[:, :h]
                out = out + rs[:, h:]
            else:
                out = out + rs
        return out


class PosteriorEncoder(nn.Module):
    def __init__(self, spec, inter, hidden, gin):
        super().__init__()
        self.inter = inter
        self.pre = nn.Conv1d(spec, hidden, 1)
        self.enc = WaveNet(hidden, 5, 1, 16, gin)
        self.proj = nn.Conv1d(hidden, 2 * inter, 1)

    def forward(self, spec, g):
        stats = self.proj(self.enc(self.pre(spec), g))
        return stats[:, : self.inter], stats[:, self.inter :]


class Coupling(nn.Module):
    def __init__(self, channels, hidden, gin):
        super().__init__()
        self.half = channels // 2
        self.pre = nn.Conv1d(self.half, hidden, 1)
        self.enc = WaveNet(hidden, 5, 1, 4, gin)
        self.post = nn.Conv1d(hidden, self.half, 1)

    def forward(self, x, g, reverse):
        x0, x1 = x[:, : self.half], x[:, self.half :]
        m = self.post(self.enc(self.pre(x0), g))
        x1 = x1 - m if reverse else x1 + m
        return torch.cat([x0, x1], 1)


class Flow(nn.Module):
    def __init__(self, channels, hidden, gin, n=4):
        super().__init__()
        # Couplings at even indices, parameter-free flips between them (the checkpoint's numbering).
        self.flows = nn.ModuleList()
        for _ in range(n):
            self.flows.append(Coupling(channels, hidden, gin))
            self.flows.append(nn.Identity())

    def forward(self, x, g, reverse=False):
        if not reverse:
            for i in range(0, len(self.flows), 2):
                x = torch.flip(self.flows[i](x, g, False), [1])
        else:
            for i in reversed(range(0, len(self.flows), 2)):
                x = self.flows[i](torch.flip(x, [1]), g, True)
        return x


class ResBlock(nn.Module):
    def __init__(self, ch, k, dilations):
        super().__init__()
        self.convs1 = nn.ModuleList(
            [wn(nn.Conv1d(ch, ch, k, dilation=d, padding=d * (k - 1) // 2)) for d in dilations]
        )
        self.convs2 = nn.ModuleList([wn(nn.Conv1d(ch, ch, k, padding=(k - 1) // 2)) for _ in dilations])

    def forward(self, x):
        for c1, c2 in zip(self.convs1, self.convs2):
            x = x + c2(F.leaky_relu(c1(F.leaky_relu(x, 0.1)), 0.1))
        return x


class Generator(nn.Module):
    def __init__(self, m):
        super().__init__()
        init = m["upsample_initial_channel"]
        self.conv_pre = nn.Conv1d(m["inter_channels"], init, 7, padding=3)
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        ch = init
        for i, (u, k) in enumerate(zip(m["upsample_rates"], m["upsample_kernel_sizes"])):
            self.ups.append(wn(nn.ConvTranspose1d(init // 2**i, init // 2 ** (i + 1), k, u, padding=(k - u) // 2)))
            ch = init // 2 ** (i + 1)
            for k2, d in zip(m["resblock_kernel_sizes"], m["resblock_dilation_sizes"]):
                self.resblocks.append(ResBlock(ch, k2, d))
        self.conv_post = nn.Conv1d(ch, 1, 7, padding=3, bias=False)
        self.cond = nn.Conv1d(m["gin_channels"], init, 1)
        self.kernels = len(m["resblock_kernel_sizes"])

    def forward(self, x, g):
        x = self.conv_pre(x) + self.cond(g)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, 0.1))
            blocks = self.resblocks[i * self.kernels : (i + 1) * self.kernels]
            x = sum(b(x) for b in blocks) / self.kernels
        return torch.tanh(self.conv_post(F.leaky_relu(x)))


class ReferenceEncoder(nn.Module):
    def __init__(self, spec, gin):
        super().__init__()
        self.spec = spec
        chans = [1] + REF_FILTERS
        self.convs = nn.ModuleList(
            [wn(nn.Conv2d(chans[i], chans[i + 1], 3, stride=2, padding=1)) for i in range(len(REF_FILTERS))]
        )
        width = spec
        for _ in REF_FILTERS:
            width = (width - 3 + 2) // 2 + 1
        self.gru = nn.GRU(REF_FILTERS[-1] * width, REF_GRU, batch_first=True)
        self.proj = nn.Linear(REF_GRU, gin)
        self.layernorm = nn.LayerNorm(spec)

    def forward(self, spec):  # spec: [1, frames, bins]
        x = self.layernorm(spec.unsqueeze(1))
        for conv in self.convs:
            x = F.relu(conv(x))
        x = x.transpose(1, 2)
        x = x.reshape(x.size(0), x.size(1), -1)
        _, h = self.gru(x)
        return self.proj(h.squeeze(0))


class Converter(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        m = cfg["model"]
        spec = cfg["data"]["filter_length"] // 2 + 1
        self.gin = m["gin_channels"]
        self.enc_q = PosteriorEncoder(spec, m["inter_channels"], m["hidden_channels"], self.gin)
        self.flow = Flow(m["inter_channels"], m["hidden_channels"], self.gin)
        self.dec = Generator(m)
        self.ref_enc = ReferenceEncoder(spec, self.gin)


def spectrogram(pcm, d):
    n_fft, hop, win = d["filter_length"], d["hop_length"], d["win_length"]
    pad = (n_fft - hop) // 2
    y = F.pad(pcm.view(1, 1, -1), (pad, pad), mode="reflect").view(1, -1)
    s = torch.stft(y, n_fft, hop_length=hop, win_length=win, window=torch.hann_window(win), center=False,
                   onesided=True, return_complex=True)
    return torch.sqrt(s.real**2 + s.imag**2 + 1e-6)  # [1, bins, frames]


def read_clip(name, start_s, seconds):
    with wave.open(str(AUDIO / name)) as w:
        rate = w.getframerate()
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768.0
        if w.getnchannels() > 1:
            raw = raw.reshape(-1, w.getnchannels()).mean(1)
    raw = raw[int(start_s * rate) : int((start_s + seconds) * rate)]
    # To the converter's rate by linear interpolation: the samples themselves are the test input.
    n = int(len(raw) * 22050 / rate)
    return torch.tensor(np.interp(np.arange(n) * rate / 22050, np.arange(len(raw)), raw), dtype=torch.float32)


def randomise(model):
    # Gains large enough that every layer matters (the trained model's post layers start at zero).
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("weight_g"):
                p.copy_(torch.rand(p.shape, generator=g) * 0.8 + 0.4)
            elif "layernorm" in name and name.endswith("weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif name.startswith("dec.conv_post"):
                p.copy_(torch.randn(p.shape, generator=g) * 1.5)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * 0.3)


def full_size(out):
    global REF_FILTERS, REF_GRU
    REF_FILTERS, REF_GRU = [32, 32, 64, 64, 128, 128], 128
    cfg = json.loads(json.dumps(CONFIG))
    cfg["model"].update(inter_channels=192, hidden_channels=192, filter_channels=768, gin_channels=256,
                        upsample_initial_channel=512)
    model = Converter(cfg).eval()
    out = pathlib.Path(out) / "converter"
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    torch.save({"model": model.state_dict()}, out / "checkpoint.pth")
    print(f"{sum(p.numel() for p in model.parameters())} parameters -> {out}")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--full-size":
        return full_size(sys.argv[2])
    torch.manual_seed(0)
    model = Converter(CONFIG).eval()
    randomise(model)
    d = CONFIG["data"]
    source = read_clip("en_librivox_0870_16k.wav", 1.0, 1.0)
    reference = read_clip("en_librivox_0880_16k.wav", 0.5, 1.5)
    with torch.no_grad():
        spec_src = spectrogram(source, d)
        spec_ref = spectrogram(reference, d)
        se_src = model.ref_enc(spec_src.transpose(1, 2)).unsqueeze(-1)
        se_tgt = model.ref_enc(spec_ref.transpose(1, 2)).unsqueeze(-1)
        zero = torch.zeros_like(se_src)
        m_q, logs_q = model.enc_q(spec_src, zero)
        z = m_q  # tau = 0
        z_p = model.flow(z, se_src)
        z_hat = model.flow(z_p, se_tgt, reverse=True)
        audio = model.dec(z_hat, zero)[0, 0]
    (OUT / "converter").mkdir(parents=True, exist_ok=True)
    (OUT / "converter/config.json").write_text(json.dumps(CONFIG, indent=2) + "\n")
    torch.save({"model": model.state_dict()}, OUT / "converter/checkpoint.pth")
    save_file(
        {
            "source": source.contiguous(),
            "reference": reference.contiguous(),
            "spec_source": spec_src[0].contiguous(),
            "se_source": se_src.flatten().contiguous(),
            "se_target": se_tgt.flatten().contiguous(),
            "z": z[0].contiguous(),
            "logs_q": logs_q[0].contiguous(),
            "z_p": z_p[0].contiguous(),
            "z_hat": z_hat[0].contiguous(),
            "audio": audio.contiguous(),
        },
        OUT / "expected.safetensors",
    )
    params = sum(p.numel() for p in model.parameters())
    print(f"{params} parameters; source {len(source)} samples -> {audio.numel()} samples; "
          f"audio rms {audio.pow(2).mean().sqrt():.3f}; |se_src - se_tgt| {torch.dist(se_src, se_tgt):.3f}")


if __name__ == "__main__":
    main()
