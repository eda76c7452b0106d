"""Fetch every JS/CSS/font file the dashboard map needs into ``dashboard/static/vendor`` (run from the repo root).

Place in the data flow: none; a build step. The dashboard runs without internet on the ACT's projector
laptop, so folium's CDN assets are served by Streamlit's static file serving (``/app/static/...``).
The vendored files are committed, so a fresh checkout works without running this script; it
documents where each file came from and reproduces them byte for byte:

- npm packages fetched with ``npm pack <name>@<version>`` (the npm registry is reachable offline-ish
  machines through the package proxy; no CDN is used);
- ``leaflet_heat.min.js`` copied from the installed folium package.

Usage: ``python scripts/vendor_assets.py [--check]`` (``--check`` only verifies the files exist).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "dashboard" / "static" / "vendor"

#: npm package spec -> list of (path inside the tarball, destination relative to static/vendor)
NPM_FILES: dict[str, list[tuple[str, str]]] = {
    "leaflet@1.9.3": [
        ("package/dist/leaflet.js", "leaflet/leaflet.js"),
        ("package/dist/leaflet.css", "leaflet/leaflet.css"),
        *[
            (f"package/dist/images/{name}", f"leaflet/images/{name}")
            for name in ("layers.png", "layers-2x.png", "marker-icon.png", "marker-icon-2x.png", "marker-shadow.png")
        ],
    ],
    "leaflet.markercluster@1.1.0": [
        ("package/dist/leaflet.markercluster.js", "markercluster/leaflet.markercluster.js"),
        ("package/dist/MarkerCluster.css", "markercluster/MarkerCluster.css"),
        ("package/dist/MarkerCluster.Default.css", "markercluster/MarkerCluster.Default.css"),
    ],
    "jquery@3.7.1": [("package/dist/jquery.min.js", "jquery/jquery.min.js")],
    "bootstrap@5.2.2": [
        ("package/dist/js/bootstrap.bundle.min.js", "bootstrap/bootstrap.bundle.min.js"),
        ("package/dist/css/bootstrap.min.css", "bootstrap/bootstrap.min.css"),
    ],
    "@fortawesome/fontawesome-free@6.2.0": [
        ("package/css/all.min.css", "fontawesome/css/all.min.css"),
        # Chromium and Firefox take the woff2 source listed first; the ttf fallbacks are never fetched.
        *[
            (f"package/webfonts/{name}.woff2", f"fontawesome/webfonts/{name}.woff2")
            for name in ("fa-brands-400", "fa-regular-400", "fa-solid-900", "fa-v4compatibility")
        ],
    ],
    "drmonty-leaflet-awesome-markers@2.0.2": [
        ("package/js/leaflet.awesome-markers.min.js", "awesome-markers/leaflet.awesome-markers.min.js"),
        ("package/css/leaflet.awesome-markers.css", "awesome-markers/leaflet.awesome-markers.css"),
        *[
            (f"package/css/images/{name}", f"awesome-markers/images/{name}")
            for name in ("markers-soft.png", "markers-soft@2x.png", "markers-shadow.png", "markers-shadow@2x.png")
        ],
    ],
}

#: file in the installed folium package -> destination relative to static/vendor
FOLIUM_FILES = [("templates/leaflet_heat.min.js", "leaflet-heat/leaflet_heat.min.js")]


def expected_files() -> list[str]:
    return [dest for files in NPM_FILES.values() for _, dest in files] + [dest for _, dest in FOLIUM_FILES]


def _npm_pack(spec: str, workdir: Path) -> Path:
    result = subprocess.run(["npm", "pack", spec, "--silent"], cwd=workdir, check=True, capture_output=True, text=True)
    return workdir / result.stdout.strip().splitlines()[-1]


def fetch() -> None:
    import folium

    VENDOR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for spec, files in NPM_FILES.items():
            tarball = _npm_pack(spec, Path(tmp))
            with tarfile.open(tarball) as tar:
                for member, dest in files:
                    target = VENDOR / dest
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(tar.extractfile(member).read())
            print(f"{spec}: {len(files)} files")
    folium_dir = Path(folium.__file__).parent
    for source, dest in FOLIUM_FILES:
        target = VENDOR / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folium_dir / source, target)
        print(f"folium {folium.__version__}: {source}")


def check() -> int:
    missing = [f for f in expected_files() if not (VENDOR / f).is_file()]
    for f in expected_files():
        path = VENDOR / f
        if path.is_file():
            print(f"{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}  {path.stat().st_size:>9}  {f}")
    if missing:
        print("missing: " + ", ".join(missing) + "; run python scripts/vendor_assets.py", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only verify that every vendored file exists")
    args = parser.parse_args(argv)
    if not args.check:
        fetch()
    return check()


if __name__ == "__main__":
    sys.exit(main())
