"""Bring a network's low-resolution painting back to the frame's size with the frame's edges.

Guided detail transfer, after the fast guided filter (He & Sun 2015; He et al. 2013): at the
low resolution, the painting's brightness is fitted in every small window as a linear
function of the frame's (``Y ≈ a·I + b``), which says how strongly each place of the painting
follows the frame's light and dark. At full size, the painting is upsampled as it is
(bilinear: its strokes and colours stay exactly as painted) and the frame's own fine detail,
``I − upsample(I_small)``, is added to its brightness with that local gain ``a``. The
painting's colours and strokes come from the network, the sharp edges from the frame; the
work at full size is three bilinear resamples and a few single-channel passes.

Full-size work is done in horizontal bands of about :data:`BAND_PIXELS` pixels, so the
memory this needs does not grow with the frame (a 12000×8000 photo costs what a band does).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

BAND_PIXELS = 1 << 21
"""Pixels per band of the full-size pass (about 2 M: one band for frames up to 1080p)."""


@dataclass(frozen=True)
class GuidedUpsampler:
    """The local fit's two parameters, at the low resolution."""

    radius: int = 1
    """Window radius in low-resolution pixels (1 = 3×3 windows)."""
    eps: float = 1e-3
    """Regulariser on brightness variance ([0, 1] units): larger = fewer of the frame's edges."""

    def gain(self, painted: np.ndarray, guide: np.ndarray) -> np.ndarray:
        """The smoothed local gain ``a`` (float32 HxW) of ``Y_painted ≈ a·I + b``, with
        ``guide`` the frame's brightness ``I`` at the painting's size (:func:`_brightness`)."""
        ksize = (2 * self.radius + 1, 2 * self.radius + 1)

        def box(x: np.ndarray) -> np.ndarray:
            return cv2.boxFilter(x, -1, ksize, borderType=cv2.BORDER_REFLECT)

        luma = _brightness(painted)
        mean_i = box(guide)
        cov = box(guide * luma) - mean_i * box(luma)
        var = box(guide * guide) - mean_i * mean_i
        return box(cov / (var + self.eps))

    def upsample(
        self, painted: np.ndarray, guide_small: np.ndarray, frame: np.ndarray
    ) -> np.ndarray:
        """``painted`` (BGR uint8, the size of ``guide_small``) at ``frame``'s size, uint8."""
        guide = _brightness(guide_small)
        layers = (painted, self.gain(painted, guide), guide)
        height, width = frame.shape[:2]
        rows = max(1, BAND_PIXELS // width)
        if rows >= height:  # one band: OpenCV's resize is the fastest bilinear upsampling
            size = (width, height)
            return _combine(
                *(cv2.resize(x, size, interpolation=cv2.INTER_LINEAR) for x in layers), frame
            )
        out = np.empty((height, width, 3), np.uint8)
        sy, sx = height / painted.shape[0], width / painted.shape[1]
        for top in range(0, height, rows):
            bottom = min(height, top + rows)
            # The same pixel-centre aligned bilinear scaling as resize, for rows top..bottom.
            m = np.float32([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5 - top]])
            band = (width, bottom - top)
            out[top:bottom] = _combine(
                *(
                    cv2.warpAffine(
                        x, m, band, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
                    )
                    for x in layers
                ),
                frame[top:bottom],
            )
        return out


def _combine(
    painted: np.ndarray, gain: np.ndarray, low_brightness: np.ndarray, frame: np.ndarray
) -> np.ndarray:
    """``painted + gain·(I − low_brightness)`` on every channel, with ``I`` the frame's
    brightness (the same change to B, G and R changes brightness only), as uint8.

    The detail is added in uint8 as its positive part and subtracted as its negative part
    (each rounded and saturated by OpenCV): at most one of them is nonzero at a pixel, so
    this is the saturated sum, without a signed full-size image."""
    detail = cv2.subtract(_brightness(frame), low_brightness)
    brighter, darker = (
        cv2.cvtColor(
            cv2.multiply(detail, gain, scale=sign * 255.0, dtype=cv2.CV_8U), cv2.COLOR_GRAY2BGR
        )
        for sign in (1.0, -1.0)
    )
    return cv2.subtract(cv2.add(painted, brighter), darker)


def _brightness(image: np.ndarray) -> np.ndarray:
    """Grey level of a BGR uint8 image as float32 on [0, 1]."""
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32) * (1.0 / 255.0)
