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
