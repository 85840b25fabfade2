#!/usr/bin/env bash
# Installs every Debian 12 package hy2bit's build, tests and benchmarks need.
# Idempotent and non-interactive: packages already present are left alone.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libpcre2-dev libcli11-dev nlohmann-json3-dev libcpp-httplib-dev
  libcurl4-openssl-dev libedit-dev
  g++-aarch64-linux-gnu qemu-user-static
  clang libfuzzer-14-dev
  tmux curl jq
  # the QAT toolkit (qat/): Debian's torch, OpenBLAS for the trainer's process
  # only, the pre-tokenizer's regex module, fortunes as corpus (npm, which
  # fetches the chinese-poetry corpus, comes with the machine's Node.js)
  python3-torch python3-numpy python3-pytest python3-regex libopenblas0-openmp
  fortunes fortunes-zh
  chromium nodejs   # the chat page's test: headless Chromium driven from Node (tests/webui)
)
# npm ships inside some nodejs builds (NodeSource's); Debian packages it apart.
command -v npm > /dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
else
  # Installing libopenblas0-openmp would make OpenBLAS the system's libblas.so.3
  # (its alternative has a higher priority); keep whatever was chosen before:
  # only the trainer's own process uses OpenBLAS (qat/env.sh).
  triplet="$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)"
  blas_before="$(update-alternatives --query "libblas.so.3-$triplet" 2>/dev/null | sed -n 's/^Value: //p' || true)"
  lapack_before="$(update-alternatives --query "liblapack.so.3-$triplet" 2>/dev/null | sed -n 's/^Value: //p' || true)"
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  for pair in "libblas.so.3-$triplet=$blas_before" "liblapack.so.3-$triplet=$lapack_before"; do
    name="${pair%%=*}"; before="${pair#*=}"
    now="$(update-alternatives --query "$name" 2>/dev/null | sed -n 's/^Value: //p' || true)"
    if [ -n "$before" ] && [ "$now" != "$before" ]; then
      echo "setup: keeping the system's $name at $before"
      $SUDO update-alternatives --set "$name" "$before" >/dev/null
    fi
  done
fi

# The QAT corpus: npm's chinese-poetry (MIT), cached outside the repo.
corpus_dir="${HY2BIT_CORPUS:-$HOME/.cache/hy2bit/corpus}"
if [ ! -f "$corpus_dir/node_modules/chinese-poetry/package.json" ]; then
  echo "setup: installing the chinese-poetry corpus into $corpus_dir"
  mkdir -p "$corpus_dir"
  [ -f "$corpus_dir/package.json" ] || echo '{"name":"hy2bit-corpus","private":true}' > "$corpus_dir/package.json"
  if ! command -v npm > /dev/null; then
    echo "setup: WARNING: no npm; install Node.js to fetch the chinese-poetry corpus (the QAT stages need it)" >&2
  elif ! (cd "$corpus_dir" && npm install --no-audit --no-fund --silent chinese-poetry@2.0.1); then
    echo "setup: WARNING: npm could not install chinese-poetry; the QAT corpus stage and its tests need it" >&2
  fi
fi
