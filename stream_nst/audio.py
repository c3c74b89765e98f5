"""Carry a source file's audio into the stylized video, in step with the video frames.

The audio is read from the source file by its own demuxer, so the frame pipeline stays
video-only. Packets are copied unchanged (remux) when the output container can hold the
codec; otherwise (mp3 into WebM, say) they are decoded and re-encoded to AAC, or to the
container's own audio codec when it cannot hold AAC either.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
from av.container import OutputContainer


class AudioTracks:
    """The audio streams of ``source``, added to ``output`` (before its header is written)."""

    def __init__(self, source: Path | str, output: OutputContainer) -> None:
        self._input = av.open(str(source), metadata_errors="ignore")
        self._output = output
        self._copy: dict[int, av.stream.Stream] = {}
        self._encode: dict[int, av.audio.stream.AudioStream] = {}
        modes = set()
        for stream in self._input.streams.audio:
            if stream.codec_context.codec.canonical_name in output.supported_codecs:
                self._copy[stream.index] = output.add_stream_from_template(stream)
                modes.add("copied")
            else:
                codec = "aac" if "aac" in output.supported_codecs else output.default_audio_codec
                self._encode[stream.index] = _add_encoder(output, codec, stream)
                modes.add(f"re-encoded to {codec}")
        self.mode = ", ".join(sorted(modes)) or "none"
        """``copied``, ``re-encoded to aac`` (or another codec), or ``none``."""
        self._packets = self._demux()
        self._pending: av.Packet | None = None

    def mux_until(self, seconds: float | None) -> None:
        """Write the audio packets that start before ``seconds`` (all that remain if None)."""
        while True:
            packet = self._pending or next(self._packets, None)
            self._pending = None
            if packet is None:
                return
            bounded = seconds is not None and packet.pts is not None
            if bounded and packet.pts * packet.time_base >= seconds:
                self._pending = packet
                return
            self._write(packet)

    def close(self) -> None:
        """Flush the audio decoders and encoders and close the source."""
        for index, stream in self._encode.items():
            for frame in self._input.streams[index].decode(None):
                self._output.mux(stream.encode(frame))
            self._output.mux(stream.encode(None))
        self._input.close()

    def _write(self, packet: av.Packet) -> None:
        index = packet.stream.index
        if index in self._copy:
            packet.stream = self._copy[index]
            self._output.mux(packet)
            return
        try:
            frames = packet.decode()
        except av.FFmpegError:
            return  # a damaged audio packet: a moment of silence, not a failed run
        for frame in frames:
            self._output.mux(self._encode[index].encode(frame))

    def _demux(self) -> Iterator[av.Packet]:
        """Audio packets in file order; the stream simply ends where the file is damaged."""
        try:
            for packet in self._input.demux(*self._input.streams.audio):
                if packet.dts is not None or packet.pts is not None:
                    yield packet
        except av.FFmpegError:
            return


def _add_encoder(output: OutputContainer, codec: str, template: av.audio.stream.AudioStream):
    rates = av.codec.Codec(codec, "w").audio_rates
    rate = template.rate
    if rates and rate not in rates:
        rate = min(rates, key=lambda r: abs(r - rate))
    stream = output.add_stream(codec, rate=rate, layout=template.layout.name)
    stream.time_base = Fraction(1, rate)
    return stream
