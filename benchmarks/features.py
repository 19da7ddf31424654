"""Feature throughput: batched front ends vs a per-clip librosa loop, in one run.

Prints seconds of audio processed per second of wall time for YAMNet log-mel patches (1 s clips
at 16 kHz) and Lin's clip-mean MFCC vectors (10 s clips at 22.05 kHz), both ways, then the ratio
of total loop time to total batched time.
"""

from __future__ import annotations

import argparse
import time

import librosa
import numpy as np

from audioprep.features import mfcc_mean, yamnet_patches
from audioprep.params import MfccParams, YamnetParams
from audioprep.tiles import cores


def loop_yamnet_patches(clips: np.ndarray, p: YamnetParams) -> list[np.ndarray]:
    """The baseline: librosa one clip at a time, YAMNet's settings."""
    out = []
    for clip in clips:
        mel = librosa.feature.melspectrogram(
            y=clip, sr=p.sample_rate, n_fft=p.fft_length, win_length=p.window_samples,
            hop_length=p.hop_samples, n_mels=p.mel_bands, fmin=p.mel_min_hz, fmax=p.mel_max_hz,
            power=1.0, center=False, htk=True, norm=None,
        )
        log_mel = np.log(mel.T + p.log_offset)
        frames = librosa.util.frame(log_mel, frame_length=p.patch_frames, hop_length=p.patch_hop_frames, axis=0)
        out.append(frames)
    return out


def loop_mfcc(clips: np.ndarray, p: MfccParams) -> list[np.ndarray]:
    return [librosa.feature.mfcc(y=c, sr=p.sample_rate, n_mfcc=p.n_mfcc).mean(axis=1) for c in clips]


def timed(fn, *args, repeats: int = 5) -> float:
    fn(*args)  # warm-up (FFT plans, thread pool, filterbanks)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--yamnet-clips", type=int, default=512, help="number of 1 s clips")
    parser.add_argument("--mfcc-clips", type=int, default=32, help="number of 10 s clips")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    yp, mp = YamnetParams(), MfccParams()
    ones = (0.1 * rng.standard_normal((args.yamnet_clips, yp.sample_rate))).astype(np.float32)
    tens = (0.1 * rng.standard_normal((args.mfcc_clips, int(mp.sample_rate * mp.clip_seconds)))).astype(np.float32)
    yam_audio, mfcc_audio = args.yamnet_clips * 1.0, args.mfcc_clips * mp.clip_seconds

    batched = f"batched (tiles, {cores()} cores)"
    rows = [
        ("YAMNet log-mel patches", batched, yam_audio, timed(yamnet_patches, ones, yp)),
        ("YAMNet log-mel patches", "loop (librosa)", yam_audio, timed(loop_yamnet_patches, ones, yp)),
        ("clip-mean MFCC", batched, mfcc_audio, timed(mfcc_mean, tens, mp)),
        ("clip-mean MFCC", "loop (librosa)", mfcc_audio, timed(loop_mfcc, tens, mp)),
    ]
    print(f"{'feature':24} {'path':28} {'audio s':>8} {'wall s':>8} {'x real time':>12}")
    for feature, path, audio_s, wall in rows:
        print(f"{feature:24} {path:28} {audio_s:8.0f} {wall:8.3f} {audio_s / wall:12.0f}")
    yam_ratio = rows[1][3] / rows[0][3]
    mfcc_ratio = rows[3][3] / rows[2][3]
    print(f"YAMNet log-mel batched / loop speed: {yam_ratio:.1f}x; MFCC batched / loop speed: {mfcc_ratio:.1f}x")
    total_ratio = (rows[1][3] + rows[3][3]) / (rows[0][3] + rows[2][3])
    print(f"ratio: {total_ratio:.2f}")


if __name__ == "__main__":
    main()
