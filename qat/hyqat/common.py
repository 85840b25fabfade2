"""Shared helpers: atomic file writes, default paths, BLAS report, device."""
import os
import re
import tempfile
import time


def default_poetry_dir():
    base = os.environ.get("HY2BIT_CORPUS", os.path.expanduser("~/.cache/hy2bit/corpus"))
    return os.path.join(base, "node_modules", "chinese-poetry", "dist")


def write_atomic(path, data):
    """Writes str or bytes to path through a temp file in the same folder
    (O_EXCL via mkstemp, then rename), never through a symlink."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    if os.path.islink(path):
        raise SystemExit(f"error: refusing to write '{path}': it is a symlink")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-" + os.path.basename(path))
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def loaded_blas():
    """Path of the BLAS library this process mapped (from /proc/self/maps)."""
    try:
        with open("/proc/self/maps") as f:
            maps = f.read()
    except OSError:
        return "unknown"
    libs = sorted(set(re.findall(r"(/\S*(?:libblas|openblas|libmkl)\S*\.so[.\d]*)", maps)))
    return ", ".join(os.path.realpath(p) for p in libs) or "none mapped (torch's own)"


def blas_report(torch):
    """One line: the BLAS in use and a measured fp32 matmul rate."""
    n = 512
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(2):
        a @ b
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 0.3:
        a @ b
        reps += 1
    gflops = 2 * n ** 3 * reps / (time.perf_counter() - t0) / 1e9
    return f"BLAS: {loaded_blas()}; {torch.get_num_threads()} threads; fp32 matmul {n}^3: {gflops:.1f} GFLOP/s"


def pick_device(torch, name):
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise SystemExit("error: --device cuda, but this torch has no CUDA device")
    return torch.device(name)
