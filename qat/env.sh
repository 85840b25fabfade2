# Sourced by hyqat.sh and run_tests.sh: points this process tree (only) at
# libopenblas0-openmp's BLAS instead of the system's libblas.so.3 (Debian's
# torch links that; the reference BLAS is ~40x slower), without touching the
# system's BLAS alternatives, and makes hyqat importable.
hyqat_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
hyqat_openblas="$(ls -d /usr/lib/*-linux-gnu/openblas-openmp 2>/dev/null | head -n1 || true)"
if [ -n "$hyqat_openblas" ] && [ -e "$hyqat_openblas/libblas.so.3" ]; then
  export LD_LIBRARY_PATH="$hyqat_openblas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
else
  echo "hyqat: libopenblas0-openmp not found; torch uses the system BLAS (slow). Run scripts/setup.sh." >&2
fi
# Under contention (a shared machine) busy-waiting OpenMP threads cost 4x.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
export PYTHONPATH="$hyqat_dir${PYTHONPATH:+:$PYTHONPATH}"
