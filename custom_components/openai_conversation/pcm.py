"""PCM as Home Assistant streams it, made into what a server takes.

Home Assistant's STT API may send 8, 16, 24 or 32-bit samples, mono or stereo, at any of its
sample rates; uploads carry them as they are in a WAV file, while a live session takes
16-bit mono PCM at its own rate.
"""

from __future__ import annotations

from array import array
import io
import sys
import wave

import numpy as np


def wav_file(pcm: bytes, rate: int, width: int, channels: int) -> bytes:
    """Return the PCM (whole frames of it) as a WAV file; 8-bit samples are unsigned."""
    frame = width * channels
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(pcm[: len(pcm) - len(pcm) % frame])
    return buffer.getvalue()


class Pcm16:
    """Little-endian PCM of any width and channel count, as 16-bit mono, chunk by chunk.

    Wider samples keep their 16 most significant bits; 8-bit WAV samples are unsigned
    (silence is 128); stereo is the mean of both channels.
    """

    def __init__(self, width: int, channels: int) -> None:
        """Initialize for samples of width bytes in frames of channels samples."""
        self._width = width
        self._channels = channels
        self._rest = b""  # an incomplete frame left over from the last chunk

    def convert(self, chunk: bytes) -> bytes:
        """Return the chunk's whole frames as 16-bit mono."""
        data = self._rest + chunk
        whole = len(data) - len(data) % (self._width * self._channels)
        data, self._rest = data[:whole], data[whole:]
        out = self._sixteen_bits(data)
        if self._channels == 1:
            return out
        samples = array("h", out)
        if sys.byteorder == "big":
            samples.byteswap()
        step = self._channels
        mono = array(
            "h",
            (sum(samples[i : i + step]) // step for i in range(0, len(samples), step)),
        )
        if sys.byteorder == "big":
            mono.byteswap()
        return mono.tobytes()

    def _sixteen_bits(self, data: bytes) -> bytes:
        """Return each sample's 16 most significant bits, little-endian, signed."""
        width = self._width
        if width == 2:
            return data
        out = bytearray(len(data) // width * 2)
        if width == 1:  # unsigned: flipping the top bit makes it signed, in the high byte
            out[1::2] = bytes(sample ^ 0x80 for sample in data)
        else:  # signed and little-endian: the last two bytes of each sample
            out[0::2] = data[width - 2 :: width]
            out[1::2] = data[width - 1 :: width]
        return bytes(out)


class Resampler:
    """Linear resampling of 16-bit mono PCM, chunk by chunk, continuous across chunks.

    Vectorized with numpy (which Home Assistant ships): a chunk takes microseconds, so it
    can run on the event loop as the audio arrives.
    """

    def __init__(self, rate_in: int, rate_out: int) -> None:
        """Initialize for a stream at rate_in, to be sent at rate_out."""
        self._step = rate_in / rate_out  # input samples per output sample
        self._next = 0.0  # input position of the next output sample
        self._seen = 0  # input samples before the current chunk
        self._last = 0.0  # the previous chunk's last sample
        self._odd = b""  # a byte left over from an odd-sized chunk

    def convert(self, chunk: bytes) -> bytes:
        """Return the chunk at the output rate."""
        data = self._odd + chunk
        whole = data[: len(data) // 2 * 2]
        self._odd = data[len(whole) :]
        if self._step == 1 or not whole:
            return whole
        samples = np.frombuffer(whole, dtype="<i2").astype(np.float64)
        end = self._seen + len(samples) - 1  # input position of this chunk's last sample
        positions = np.arange(self._next, end, self._step)
        # The previous chunk's last sample sits just before this chunk's first.
        known = np.arange(self._seen - 1, end + 1)
        out = np.interp(positions, known, np.concatenate(([self._last], samples)))
        if len(positions):
            self._next = float(positions[-1]) + self._step
        self._last = float(samples[-1])
        self._seen += len(samples)
        return bytes(np.rint(out).astype("<i2").tobytes())
