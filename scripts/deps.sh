#!/usr/bin/env bash
# Installs what modmatrix needs on a Debian machine, through apt, and only
# what is missing. Runs apt with sudo when not root.
#
#   scripts/deps.sh [--test | --build] [--kernels 6.12,6.1]
#
# Without --test: what a run calls (make run, the GitHub Action), with the
# linux-source packages of --kernels (default 6.12, the default matrix).
# --test adds what only the tests need: the 6.1 source, Chromium for the
# HTML page, xmllint and npm for the JUnit schema, shellcheck. --build is only what
# building modmatrix takes (the Action's merge, which boots nothing).
set -euo pipefail

kernels=6.12
test=
build=
while [ $# -gt 0 ]; do
  case "$1" in
    --test) test=1 ;;
    --build) build=1 ;;
    --kernels)
      [ $# -ge 2 ] || { echo "deps: --kernels wants a list, such as --kernels 6.12,6.1" >&2; exit 2; }
      kernels="$2"; shift ;;
    --kernels=*) kernels="${1#--kernels=}" ;;
    *) echo "deps: unknown argument $1 (want --test, --build, --kernels 6.12,6.1)" >&2; exit 2 ;;
  esac
  shift
done

packages=(
  qemu-system-x86
  build-essential flex bison bc libelf-dev libssl-dev openssl cpio xz-utils  # openssl: MODULE_SIG's key, made by the kernel build
  util-linux git ca-certificates
  kmod  # depmod indexes the scenarios' modules; its modprobe goes into the guest
  dwarves  # pahole: BTF for modules built against Debian's prebuilt kernel headers (--kernel)
)
if [ -n "$build" ]; then
  packages=(make git ca-certificates)
  kernels=
fi
for k in ${kernels//,/ }; do
  packages+=("linux-source-$k")
done
if [ -n "$test" ]; then
  packages+=(
    linux-source-6.12 linux-source-6.1  # make test runs both
    chromium
    libxml2-utils  # xmllint, for the JUnit schema test
    shellcheck  # the scripts of action.yml and the example workflows
  )
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# npm fetches the JUnit schema for the tests; any npm will do (some
# machines have Node.js from elsewhere than Debian).
if [ -n "$test" ]; then
  command -v npm >/dev/null 2>&1 || missing+=(npm)
fi
if ! command -v go >/dev/null 2>&1 && [ ! -x /usr/local/go/bin/go ]; then
  echo "deps: Go is missing: install Go 1.26 or newer (https://go.dev/doc/install)" >&2
  exit 1
fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | awk 'NF && !seen[$0]++')
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
