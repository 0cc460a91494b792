"""``python -m ecg_core.ecgfm convert SRC OUT_DIR``: a released `.pt` → slim ``model.safetensors`` + ``config.json``.

The released checkpoints are 1.08 GB, mostly optimizer state; the converted weights are about 360 MB and
load without any pickle.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import ModelNotConfigured
from .checkpoint import CONVERTED_CONFIG, load_ecgfm, save_converted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecg_core.ecgfm", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    convert = commands.add_parser("convert", help="write slim safetensors weights and a JSON config")
    convert.add_argument("source", help="a local .pt/.safetensors file or a Hub file owner/repo/file.pt")
    convert.add_argument("out_dir", type=Path)
    convert.add_argument("--trust-pickle", action="store_true",
                         help="allow full unpickling of a checkpoint you trust (needed for some old files)")
    args = parser.parse_args(argv)
    try:
        model = load_ecgfm(args.source, trust_pickle=args.trust_pickle)
    except ModelNotConfigured as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    weights = save_converted(model, args.out_dir)
    print(f"wrote {weights} and {args.out_dir / CONVERTED_CONFIG} ({len(model.labels)} labels, "
          f"{sum(p.numel() for p in model.parameters()):,} parameters)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
