"""Make the self-hosted web font: Noto Sans SC subset to GB2312 + every character the app's
reference data uses, as woff2 (static/fonts/). Run by hand when the character set must grow:

    apt-get install fonts-noto-cjk        # Debian package: Noto Sans CJK (SIL OFL 1.1)
    .venv/bin/pip install fonttools brotli
    .venv/bin/python tools/make_webfont.py

The app must not fetch fonts from a CDN (intranet); Streamlit's own font has no CJK glyphs, and
the system font differs per PC, so charts and text look the same everywhere only with this file.
Characters outside the subset fall back to the browser's sans-serif font.
"""

from __future__ import annotations

from pathlib import Path

from fontTools import subset

REPO = Path(__file__).resolve().parents[1]
SOURCES = {
    "Regular": "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "Bold": "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
}
SC_INDEX = 2  # Noto Sans CJK SC inside the collection
OUT = REPO / "static" / "fonts"


def characters() -> str:
    chars = {chr(c) for c in range(0x20, 0x7F)}
    for b1 in range(0xA1, 0xF8):  # GB2312: symbols (A1–A9) and 6,763 hanzi (B0–F7)
        for b2 in range(0xA1, 0xFF):
            try:
                chars.add(bytes([b1, b2]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    for path in [
        REPO / "data" / "regions" / "regions.csv",
        REPO / "data" / "catalog" / "indicators.yaml",
        *REPO.glob("pages/*.py"),
        *REPO.glob("dashboard/*.py"),
    ]:
        chars.update(path.read_text(encoding="utf-8"))
    chars.update("，。、：；？！（）【】《》“”‘’—…·‰℃±×÷≥≤－～")
    return "".join(sorted(c for c in chars if c.isprintable()))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    text = characters()
    for weight, source in SOURCES.items():
        options = subset.Options()
        options.flavor = "woff2"
        options.font_number = SC_INDEX
        options.layout_features = ["*"]
        options.name_IDs = ["*"]
        font = subset.load_font(source, options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=text)
        subsetter.subset(font)
        target = OUT / f"NotoSansSC-{weight}.woff2"
        subset.save_font(font, str(target), options)
        print(f"{target.relative_to(REPO)}: {len(text)} characters, {target.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
