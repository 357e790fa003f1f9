"""Code shared by the benchmarks' timing children (each child runs ``python -c`` code)."""

#: Defines ``peak_mb()`` in a child: its own peak RSS since exec (VmHWM). ``ru_maxrss`` would
#: carry over the parent's high-water mark across fork+exec on Linux, so a child started after
#: the parent generated data would report the generator's peak.
PEAK_MB = """
import resource as _resource
def peak_mb():
    for row in open("/proc/self/status"):
        if row.startswith("VmHWM:"):
            return int(row.split()[1]) / 1024
    return _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss / 1024
"""


def run_child(code: str) -> dict[str, float]:
    """Run ``code`` (with ``peak_mb()`` defined) in a fresh interpreter; parse its ``k=v`` output."""
    import subprocess
    import sys
    import textwrap

    out = subprocess.run(
        [sys.executable, "-c", PEAK_MB + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {k: float(v) for k, v in (x.split("=") for x in out.split())}
