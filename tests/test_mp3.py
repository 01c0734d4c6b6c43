"""Our LAME Info frame: decoders trim the encoder delay and padding, so the decoded file has
exactly the samples that went in, starting where they started."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from broadcast.export.mp3 import Mp3Encoder


@pytest.mark.parametrize("rate, channels, kbps", [(24000, 1, 64), (24000, 2, 96), (44100, 1, 128),
                                                  (22050, 1, 32), (16000, 1, 24)])
def test_decoded_length_and_onset_match_the_input(tmp_path, rate, channels, kbps):
    n = rate * 2 + 123
    onset = rate // 2
    x = np.zeros((n, channels), np.float32)
    x[onset:] = (0.3 * np.sin(2 * np.pi * 440 * np.arange(n - onset) / rate))[:, None]
    encoder = Mp3Encoder(rate, channels, kbps)
    body = encoder.encode(x[: n // 3]) + encoder.encode(x[n // 3:]) + encoder.flush()
    path = tmp_path / "x.mp3"
    path.write_bytes(encoder.info_frame() + body)
    y, decoded_rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    assert decoded_rate == rate and y.shape == (n, channels)
    assert abs(int(np.argmax(np.abs(y[:, 0]) > 0.05)) - onset) <= 4


@pytest.mark.parametrize("rate, kbps", [(22050, 64), (44100, 64), (24000, 64), (16000, 24)])
def test_the_declared_length_is_the_real_one_for_a_long_program(tmp_path, rate, kbps):
    # at 22.05 and 44.1 kHz LAME alternates frame sizes (208 and 209 bytes at 22.05 kHz and 64 kb/s):
    # counting frames by the smaller size overstated a 110 s program by 0.37 s in players
    n = rate * 110 + 7
    x = (0.3 * np.sin(np.arange(n) * 0.05)).astype(np.float32)[:, None]
    encoder = Mp3Encoder(rate, 1, kbps)
    body = encoder.encode(x) + encoder.flush()
    path = tmp_path / "x.mp3"
    path.write_bytes(encoder.info_frame() + body)
    assert soundfile.info(str(path)).frames == n


def test_the_info_frame_carries_the_tag():
    encoder = Mp3Encoder(24000, 1, 64)
    encoder.encode(np.zeros((24000, 1), np.float32))
    encoder.flush()
    frame = encoder.info_frame()
    assert len(frame) == encoder.info_size()
    assert b"Info" in frame and b"LAME3.100" in frame
