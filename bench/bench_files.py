"""ECG file reading: `read_ecg_file` per format on the real fixtures, beside the measurement of the same
recording, so the file's share of a request is a ratio measured in one run (medians over repeats).

Run: ``python bench/bench_files.py --repeats 20`` (needs ../shared/fixtures and pydicom's example).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from timing import median_seconds

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from ecg_files import all_file_bytes  # noqa: E402  (the test suite's list of real files)

from ecg_core.files import read_ecg_file  # noqa: E402
from ecg_core.measure import measure  # noqa: E402
from ecg_core.settings import Limits  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    limits = Limits()
    print(f"| file | format | bytes | read (median of {args.repeats}) | measure | read / measure |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, data in all_file_bytes().items():
        ecg = read_ecg_file(data, limits=limits)
        recording = ecg.recording
        read_s = median_seconds(lambda: read_ecg_file(data, limits=limits), args.repeats)
        measure_s = median_seconds(lambda: measure(recording.signal, recording.fs, recording.lead_names),
                                   args.repeats)
        print(f"| {name} | {ecg.format} | {len(data)} | {1000 * read_s:.1f} ms | {1000 * measure_s:.1f} ms | "
              f"{read_s / measure_s:.2f} |")


if __name__ == "__main__":
    main()
