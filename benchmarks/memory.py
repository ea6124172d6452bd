"""Peak memory of evaluation.py as the CSV grows: rows are streamed, so 20 000 rows should
need about what 200 do.

    python benchmarks/memory.py [--rows 200 --rows 20000] [--clips tests/fixtures/clips.csv]

Each size runs evaluation.py in a fresh process on a CSV that repeats the listed clips; the
peak resident set size of that process and of its reader worker (the larger) is reported.
"""
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from normalizer.table import read_csv  # noqa: E402

CHILD = """
import resource, runpy, sys
sys.argv = ["evaluation.py", *sys.argv[1:]]
try:
    runpy.run_path({script!r}, run_name="__main__")
except SystemExit as e:
    code = e.code
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
           resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print("PEAK_KB", peak, "EXIT", code, file=sys.stderr)
"""


def peak_rss(in_csv: Path, out_csv: Path) -> tuple[int, int, float]:
    """-> (peak RSS in MB, exit code, seconds) of one evaluation.py run."""
    start = time.time()
    done = subprocess.run([sys.executable, "-c", CHILD.format(script=str(ROOT / "evaluation.py")),
                           str(in_csv), str(out_csv), "--quiet"], capture_output=True, text=True)
    line = next(x for x in done.stderr.splitlines() if x.startswith("PEAK_KB"))
    _, kb, _, code = line.split()
    return int(kb) // 1024, int(code), time.time() - start


@click.command()
@click.option("--rows", "sizes", multiple=True, type=int, default=(200, 20000), show_default=True)
@click.option("--clips", type=click.Path(exists=True, path_type=Path),
              default=ROOT / "tests" / "fixtures" / "clips.csv", show_default=True)
def main(sizes, clips):
    names = [str((clips.parent / f).resolve()) for f in read_csv(clips).column("filename")]
    print(f"evaluation.py peak RSS; CSVs repeating the {len(names)} clips of {clips}\n")
    print("| rows | peak RSS MB | seconds | exit |\n|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            in_csv = Path(tmp) / f"in{n}.csv"
            in_csv.write_text("filename\n" + "\n".join(names[i % len(names)] for i in range(n)) + "\n")
            mb, code, seconds = peak_rss(in_csv, Path(tmp) / f"out{n}.csv")
            print(f"| {n} | {mb} | {seconds:.0f} | {code} |", flush=True)


if __name__ == "__main__":
    main()
