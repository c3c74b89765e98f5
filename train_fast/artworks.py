"""What is known about the style images the project trains on (from ../shared/README.md).

Used to fill a model's artwork metadata when the style image's file name is recognised;
``stream-nst train`` flags override it for any other painting.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Artwork:
    """An artwork's title, artist and licence status."""

    title: str
    artist: str
    licence: str


UNKNOWN_SOURCE = "source unknown; not redistributed"

KNOWN_ARTWORKS: dict[str, Artwork] = {
    "mosaic": Artwork("Mosaic", "unknown (classic fast-style-transfer example)", UNKNOWN_SOURCE),
    "candy": Artwork("Candy", "unknown (classic fast-style-transfer example)", UNKNOWN_SOURCE),
    "udnie": Artwork("Udnie (1913)", "Francis Picabia", "public domain"),
    "starry_night": Artwork("The Starry Night (1889)", "Vincent van Gogh", "public domain"),
    "great_wave": Artwork(
        "The Great Wave off Kanagawa (c. 1831)", "Katsushika Hokusai", "public domain"
    ),
    "the_scream": Artwork("The Scream (1893)", "Edvard Munch", "public domain"),
    "composition_vii": Artwork("Composition VII (1913)", "Wassily Kandinsky", "public domain"),
    "feathers": Artwork(
        "Feathers", "unknown (classic fast-style-transfer example)", UNKNOWN_SOURCE
    ),
    "monet_houses_of_parliament": Artwork(
        "Houses of Parliament (1900s)", "Claude Monet", "public domain"
    ),
}


def artwork_for(stem: str) -> Artwork:
    """The known artwork of a style image's file stem, else an 'unknown' record."""
    return KNOWN_ARTWORKS.get(stem, Artwork(stem.replace("_", " "), "unknown", "unknown"))
